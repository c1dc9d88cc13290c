// Package media turns a photo a parent uploads into something safe to store
// and show: the type is judged by its bytes alone, its size is checked before
// any pixel is decoded, and the picture is re-encoded from pixels so that no
// metadata (EXIF, GPS, XMP, ICC profiles, comments) survives.
package media

import (
	"bytes"
	"fmt"

	"github.com/hometime-edu/hometime/content"
)

// Format is an accepted input image format.
type Format string

const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatWebP Format = "webp"
)

// ContentType is the media type of the format.
func (f Format) ContentType() string { return "image/" + string(f) }

// The refusals, as content errors so the API maps them in its one place;
// errors.Is works on what Process and Sniff return. Messages are safe to
// show a parent.
var (
	ErrUnsupportedFormat = &content.Error{Code: content.CodeUnprocessable, Message: "photos must be JPEG, PNG or WebP"}
	ErrTooManyPixels     = &content.Error{Code: content.CodeTooLarge, Message: "the photo has too many pixels"}
	ErrTooLarge          = &content.Error{Code: content.CodeTooLarge, Message: "the photo is larger than the upload limit"}
	ErrUnreadable        = &content.Error{Code: content.CodeUnprocessable, Message: "the photo could not be read"}
	ErrTooMuchMemory     = &content.Error{Code: content.CodeTooLarge,
		Message: "the photo would take too much memory to process: save it as a standard (not progressive or CMYK) JPEG, or send a smaller one"}
)

var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// Sniff tells the format from the first bytes of b, never from a file name
// or a Content-Type header, which the sender controls. Anything but JPEG,
// PNG or WebP is refused with ErrUnsupportedFormat; the wrapped message
// names what it looked like, for logs.
func Sniff(b []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(b, magicJPEG):
		return FormatJPEG, nil
	case bytes.HasPrefix(b, magicPNG):
		return FormatPNG, nil
	case len(b) >= 16 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP" &&
		(string(b[12:16]) == "VP8 " || string(b[12:16]) == "VP8L" || string(b[12:16]) == "VP8X"):
		return FormatWebP, nil
	}
	return "", fmt.Errorf("sniff: %s: %w", lookalike(b), ErrUnsupportedFormat)
}

// lookalike names a refused input for the log line; it never decides.
func lookalike(b []byte) string {
	head := b[:min(len(b), 512)]
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n")
	lower := bytes.ToLower(trimmed)
	switch {
	case len(b) == 0:
		return "empty input"
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return "GIF"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return fmt.Sprintf("ISO media (%q: HEIC, AVIF or video)", b[8:12])
	case bytes.HasPrefix(b, []byte("BM")):
		return "BMP"
	case bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")):
		return "TIFF"
	case bytes.HasPrefix(b, []byte("%PDF")):
		return "PDF"
	case bytes.Contains(lower, []byte("<svg")):
		return "SVG"
	case bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html")):
		return "HTML"
	case bytes.HasPrefix(trimmed, []byte("<")):
		return "XML or HTML"
	case bytes.HasPrefix(b, []byte("RIFF")):
		return "RIFF but not WebP"
	}
	return "unknown format"
}

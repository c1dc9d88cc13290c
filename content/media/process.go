package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Limits bound what Process accepts and how it writes the result. A zero
// field takes its value from DefaultLimits.
type Limits struct {
	MaxBytes        int64 // largest upload read, in bytes
	MaxPixels       int64 // width × height, checked before decoding
	MaxSide         int   // longest side in pixels, checked before decoding
	MaxDecodedBytes int64 // the decoder's memory: the pixel buffer by the header's colour model, and for a JPEG its planes, progressive coefficients and CMYK conversion
	ThumbSide       int   // the thumbnail's longer side
	Quality         int   // JPEG quality of both outputs, 1–100
}

// DefaultLimits suit phone photos: 10 MB uploads, up to 40 megapixels (a
// 48 MP phone saves 12 MP unless set otherwise) and 12,000 px a side (room
// for panoramas), at most 160 MiB of decoding (40 MP at 8 bits per RGBA
// channel, so a 16-bit PNG may have half as many pixels; a 12 MP
// progressive 4:2:0 JPEG needs 90 MB and is taken, a 12 MP progressive
// 4:4:4 or a 24 MP progressive or CMYK one needs 180 MB or more and is
// refused), a 512 px thumbnail, quality 85 (no visible loss on photos, far
// smaller than 95).
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:        10 << 20,
		MaxPixels:       40_000_000,
		MaxSide:         12_000,
		MaxDecodedBytes: 160 << 20,
		ThumbSide:       512,
		Quality:         85,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = d.MaxSide
	}
	if l.MaxDecodedBytes <= 0 {
		l.MaxDecodedBytes = d.MaxDecodedBytes
	}
	if l.ThumbSide <= 0 {
		l.ThumbSide = d.ThumbSide
	}
	if l.Quality <= 0 || l.Quality > 100 {
		l.Quality = d.Quality
	}
	return l
}

// Encoded is one output picture.
type Encoded struct {
	Data          []byte
	Width, Height int
	ContentType   string // always image/jpeg
}

// Processed is what Process makes of an upload: the photo upright and
// re-encoded, and its thumbnail. Neither carries any input metadata.
type Processed struct {
	Photo       Encoded
	Thumb       Encoded
	Source      Format      // what the parent sent
	Orientation Orientation // the EXIF orientation applied (1 when none)
}

// Process reads at most l.MaxBytes from r and processes it as ProcessBytes.
func Process(r io.Reader, l Limits) (Processed, error) {
	l = l.withDefaults()
	var buf bytes.Buffer
	// Size the buffer once when the reader knows its length (bytes.Reader,
	// multipart files), rather than doubling through the upload.
	var hint int64
	switch v := r.(type) {
	case interface{ Len() int }:
		hint = int64(v.Len())
	case interface{ Size() int64 }:
		hint = v.Size()
	}
	if hint > 0 && hint <= l.MaxBytes {
		buf.Grow(int(hint) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, l.MaxBytes+1)); err != nil {
		return Processed{}, fmt.Errorf("read photo: %w", err)
	}
	return ProcessBytes(buf.Bytes(), l)
}

// ProcessBytes checks an uploaded photo and re-encodes it. In order: the
// byte size; the format, by magic bytes; the pixel count and sides, from the
// header alone (image.DecodeConfig), so a decompression bomb is refused
// before a pixel buffer exists; then the decode, the EXIF orientation (JPEG),
// a flattening of any transparency onto white, and two JPEG encodes. The
// encoder writes no metadata segments at all, so none of the input's can
// survive.
func ProcessBytes(b []byte, l Limits) (Processed, error) {
	l = l.withDefaults()
	if int64(len(b)) > l.MaxBytes {
		return Processed{}, fmt.Errorf("photo of more than %d bytes: %w", l.MaxBytes, ErrTooLarge)
	}
	format, err := Sniff(b)
	if err != nil {
		return Processed{}, err
	}
	cfg, name, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Processed{}, fmt.Errorf("read %s header: %v: %w", format, err, ErrUnreadable)
	}
	if name != string(format) {
		// The header decoder must agree with the sniffer; image.DecodeConfig
		// consults every format linked into the binary.
		return Processed{}, fmt.Errorf("header says %s, bytes say %s: %w", name, format, ErrUnsupportedFormat)
	}
	if err := checkSize(cfg, l); err != nil {
		return Processed{}, err
	}
	if format == FormatJPEG {
		if err := checkJPEGMemory(b, l); err != nil {
			return Processed{}, err
		}
	}

	orientation := Orientation(1)
	if format == FormatJPEG {
		orientation = jpegOrientation(b)
	}
	m, err := decode(format, b)
	if err != nil {
		return Processed{}, fmt.Errorf("decode %s: %v: %w", format, err, ErrUnreadable)
	}
	if got := m.Bounds(); got.Dx() != cfg.Width || got.Dy() != cfg.Height {
		return Processed{}, fmt.Errorf("decoded %v, header said %dx%d: %w", got, cfg.Width, cfg.Height, ErrUnreadable)
	}
	m = orient(opaque(m), orientation)

	var photo bytes.Buffer
	photo.Grow(len(b)) // about the same size as the input
	if err := jpeg.Encode(&photo, m, &jpeg.Options{Quality: l.Quality}); err != nil {
		return Processed{}, fmt.Errorf("encode photo: %w", err)
	}
	pw, ph := m.Bounds().Dx(), m.Bounds().Dy()
	// m is not used after preshrink, so the full-size picture can be
	// collected before the scaler takes its working buffer.
	small, tw, th := preshrink(m, l.ThumbSide)
	thumb := scaleTo(small, tw, th)
	var tb bytes.Buffer
	if err := jpeg.Encode(&tb, thumb, &jpeg.Options{Quality: l.Quality}); err != nil {
		return Processed{}, fmt.Errorf("encode thumbnail: %w", err)
	}
	return Processed{
		Photo:       Encoded{Data: photo.Bytes(), Width: pw, Height: ph, ContentType: "image/jpeg"},
		Thumb:       Encoded{Data: tb.Bytes(), Width: thumb.Bounds().Dx(), Height: thumb.Bounds().Dy(), ContentType: "image/jpeg"},
		Source:      format,
		Orientation: orientation,
	}, nil
}

// checkSize applies the caps to what a header declares.
func checkSize(cfg image.Config, l Limits) error {
	w, h := cfg.Width, cfg.Height
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("header declares %dx%d: %w", w, h, ErrUnreadable)
	case w > l.MaxSide || h > l.MaxSide:
		return fmt.Errorf("%dx%d has a side over %d px: %w", w, h, l.MaxSide, ErrTooManyPixels)
	case int64(w)*int64(h) > l.MaxPixels:
		return fmt.Errorf("%dx%d is over %d pixels: %w", w, h, l.MaxPixels, ErrTooManyPixels)
	case int64(w)*int64(h)*bytesPerPixel(cfg.ColorModel) > l.MaxDecodedBytes:
		return fmt.Errorf("%dx%d at %d bytes a pixel is over %d bytes: %w", w, h, bytesPerPixel(cfg.ColorModel), l.MaxDecodedBytes, ErrTooManyPixels)
	}
	return nil
}

// checkJPEGMemory refuses a JPEG whose decoding would hold more than
// l.MaxDecodedBytes (jpegFrame.decodeBytes): progressive and CMYK JPEGs
// cost image/jpeg several times their pixel buffer, which the colour model
// that checkSize reads cannot tell.
func checkJPEGMemory(b []byte, l Limits) error {
	f, err := readJPEGFrame(b)
	if err != nil {
		return fmt.Errorf("read jpeg frame: %v: %w", err, ErrUnreadable)
	}
	if need := f.decodeBytes(); need > l.MaxDecodedBytes {
		kind := "baseline"
		if f.progressive {
			kind = "progressive"
		}
		return fmt.Errorf("%dx%d %s jpeg with %d components needs %d bytes to decode, over %d: %w",
			f.width, f.height, kind, len(f.h), need, l.MaxDecodedBytes, ErrTooMuchMemory)
	}
	return nil
}

// bytesPerPixel is the most a decoder allocates per pixel for a colour
// model (YCbCr counted as 4:4:4); unknown models count as 16-bit RGBA.
func bytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.NYCbCrAModel, color.CMYKModel:
		return 4
	}
	return 8
}

// decode uses the sniffed format's own decoder, so the registry of formats
// linked into the binary (which may include GIF) never decides.
func decode(f Format, b []byte) (image.Image, error) {
	r := bytes.NewReader(b)
	switch f {
	case FormatJPEG:
		return jpeg.Decode(r)
	case FormatPNG:
		return png.Decode(r)
	case FormatWebP:
		return webp.Decode(r)
	}
	return nil, errors.New("no decoder")
}

// opaque returns m in a form the JPEG encoder reads quickly (YCbCr, Gray or
// RGBA) with any transparency laid on white, as a parent would expect to see
// a transparent PNG.
func opaque(m image.Image) image.Image {
	switch m := m.(type) {
	case *image.YCbCr, *image.Gray:
		return m
	case *image.RGBA:
		if m.Opaque() {
			return m
		}
	}
	return flatten(m)
}

// flatten draws m onto a white RGBA canvas. An NRGBA image (most PNGs) is
// flattened in place: once every pixel is opaque, NRGBA and RGBA hold the
// same bytes, so no second full-size buffer is needed.
func flatten(m image.Image) *image.RGBA {
	if n, ok := m.(*image.NRGBA); ok {
		b := n.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := n.Pix[n.PixOffset(b.Min.X, y):n.PixOffset(b.Max.X, y)]
			for i := 0; i < len(row); i += 4 {
				a := uint32(row[i+3])
				if a == 0xFF {
					continue
				}
				for c := range 3 {
					row[i+c] = uint8((uint32(row[i+c])*a + 0xFF*(0xFF-a) + 0x7F) / 0xFF)
				}
				row[i+3] = 0xFF
			}
		}
		return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	if n, ok := m.(*image.NYCbCrA); ok { // lossy WebP with transparency
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := out.Pix[(y-b.Min.Y)*out.Stride:]
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := n.YOffset(x, y), n.COffset(x, y)
				r, g, bl := color.YCbCrToRGB(n.Y[yi], n.Cb[ci], n.Cr[ci])
				a := uint32(n.A[n.AOffset(x, y)])
				p := row[4*(x-b.Min.X):]
				p[0] = uint8((uint32(r)*a + 0xFF*(0xFF-a) + 0x7F) / 0xFF)
				p[1] = uint8((uint32(g)*a + 0xFF*(0xFF-a) + 0x7F) / 0xFF)
				p[2] = uint8((uint32(bl)*a + 0xFF*(0xFF-a) + 0x7F) / 0xFF)
				p[3] = 0xFF
			}
		}
		return out
	}
	stddraw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, stddraw.Src)
	stddraw.Draw(out, out.Bounds(), m, b.Min, stddraw.Over)
	return out
}

// preshrink starts a thumbnail of m whose longer side is side px (never
// enlarging): it returns a picture to scale from and the thumbnail's size.
// A kernel scaler straight from 12 MP would need a float buffer of the
// output width × the full input height (~50 MB), so a large picture is
// first averaged down by a whole factor to about twice the target; scaleTo
// then finishes with Catmull-Rom, which keeps edges sharp.
func preshrink(m image.Image, side int) (src image.Image, tw, th int) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	long := max(w, h)
	if long <= side {
		return m, w, h
	}
	tw, th = max(1, (w*side+long/2)/long), max(1, (h*side+long/2)/long)
	if k := long / (2 * side); k >= 2 {
		return boxShrink(m, k), tw, th
	}
	return m, tw, th
}

// scaleTo draws src at w×h with Catmull-Rom (a plain copy when the size is
// already right).
func scaleTo(src image.Image, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	if sb := src.Bounds(); sb.Dx() == w && sb.Dy() == h {
		draw.Copy(out, image.Point{}, src, sb, draw.Src, nil)
		return out
	}
	draw.CatmullRom.Scale(out, out.Bounds(), src, src.Bounds(), draw.Src, nil)
	return out
}

// boxShrink averages each k×k block of m into one pixel (a box filter, so
// no detail is skipped over). Edge blocks average what they have.
func boxShrink(m image.Image, k int) *image.RGBA {
	if y, ok := m.(*image.YCbCr); ok && y.Rect.Min == (image.Point{}) {
		return boxShrinkYCbCr(y, k)
	}
	b := m.Bounds()
	w, h := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	sums := make([]uint32, 4*w) // r, g, b, count per output column
	pixel := pixelReader(m)
	for oy := range h {
		clear(sums)
		for y := b.Min.Y + oy*k; y < min(b.Min.Y+(oy+1)*k, b.Max.Y); y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl := pixel(x, y)
				s := sums[4*((x-b.Min.X)/k):]
				s[0] += uint32(r)
				s[1] += uint32(g)
				s[2] += uint32(bl)
				s[3]++
			}
		}
		row := out.Pix[oy*out.Stride:]
		for ox := range w {
			s := sums[4*ox:]
			n := s[3]
			row[4*ox] = uint8((s[0] + n/2) / n)
			row[4*ox+1] = uint8((s[1] + n/2) / n)
			row[4*ox+2] = uint8((s[2] + n/2) / n)
			row[4*ox+3] = 0xFF
		}
	}
	return out
}

// boxShrinkYCbCr is boxShrink for the decoded JPEGs that make up most
// uploads: it averages Y, Cb and Cr straight from the planes and converts
// once per output pixel (the conversion is affine, so averaging first gives
// the same colour, bar rounding).
func boxShrinkYCbCr(m *image.YCbCr, k int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	hdiv, vdiv := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hdiv = 2
	case image.YCbCrSubsampleRatio420:
		hdiv, vdiv = 2, 2
	case image.YCbCrSubsampleRatio440:
		vdiv = 2
	case image.YCbCrSubsampleRatio411:
		hdiv = 4
	case image.YCbCrSubsampleRatio410:
		hdiv, vdiv = 4, 2
	}
	ow, oh := (w+k-1)/k, (h+k-1)/k
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	sums := make([]uint32, 4*ow) // y, cb, cr, count per output column
	for oy := range oh {
		clear(sums)
		for y := oy * k; y < min((oy+1)*k, h); y++ {
			yrow := m.Y[y*m.YStride : y*m.YStride+w]
			crow := (y / vdiv) * m.CStride
			for x, v := range yrow {
				s := sums[4*(x/k) : 4*(x/k)+4]
				c := crow + x/hdiv
				s[0] += uint32(v)
				s[1] += uint32(m.Cb[c])
				s[2] += uint32(m.Cr[c])
				s[3]++
			}
		}
		row := out.Pix[oy*out.Stride:]
		for ox := range ow {
			s := sums[4*ox : 4*ox+4]
			n := s[3]
			r, g, b := color.YCbCrToRGB(uint8((s[0]+n/2)/n), uint8((s[1]+n/2)/n), uint8((s[2]+n/2)/n))
			row[4*ox], row[4*ox+1], row[4*ox+2], row[4*ox+3] = r, g, b, 0xFF
		}
	}
	return out
}

// pixelReader returns a fast 8-bit RGB reader for the opaque image types
// opaque and orient produce, and a generic one for anything else.
func pixelReader(m image.Image) func(x, y int) (r, g, b uint8) {
	switch m := m.(type) {
	case *image.YCbCr:
		return func(x, y int) (uint8, uint8, uint8) {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			return color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
		}
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		}
	case *image.RGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		r, g, b, _ := m.At(x, y).RGBA()
		return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
	}
}

package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

// --- building inputs by hand ---

// quadrants is a w×h picture whose four quarters are red (top left), green
// (top right), blue (bottom left) and white (bottom right), so any turn or
// mirror shows in where the colours end up.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 0, 0, 255}
			switch {
			case x >= w/2 && y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2 && y >= h/2:
				c = color.RGBA{0, 0, 255, 255}
			case x >= w/2 && y >= h/2:
				c = color.RGBA{255, 255, 255, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func mustJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustPNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// segment is one JPEG marker segment: 0xFF, marker, length, body.
func segment(marker byte, body []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(body)+2))
	return append(s, body...)
}

// withSegments inserts segments straight after a JPEG's SOI marker, where
// cameras put theirs.
func withSegments(j []byte, segs ...[]byte) []byte {
	out := append([]byte{}, j[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, j[2:]...)
}

// A string no output may hold: it sits in the GPS IFD of the test EXIF.
const gpsCanary = "HOMETIME-GPS-CANARY 51.5012N 0.1419W"

// byteOrder is what both of binary's byte orders offer.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// exifAPP1 writes an EXIF APP1 segment by hand: IFD0 holds the orientation
// and a pointer (tag 0x8825) to a GPS IFD with version, latitude reference,
// latitude (three rationals) and a processing-method string.
func exifAPP1(order byteOrder, orientation uint16) []byte {
	t := make([]byte, 0, 200)
	if order == binary.LittleEndian {
		t = append(t, 'I', 'I')
	} else {
		t = append(t, 'M', 'M')
	}
	t = order.AppendUint16(t, 42)
	t = order.AppendUint32(t, 8) // IFD0 straight after the header
	entry := func(tag, typ uint16, count uint32, value []byte) {
		t = order.AppendUint16(t, tag)
		t = order.AppendUint16(t, typ)
		t = order.AppendUint32(t, count)
		v := make([]byte, 4)
		copy(v, value)
		t = append(t, v...)
	}
	u32 := func(v uint32) []byte { return order.AppendUint32(nil, v) }
	u16 := func(v uint16) []byte { return order.AppendUint16(nil, v) }

	const ifd0 = 8
	const gpsIFD = ifd0 + 2 + 2*12 + 4 // 38
	const gpsEntries = 4
	const latAt = gpsIFD + 2 + gpsEntries*12 + 4 // 92
	const methodAt = latAt + 24
	method := append([]byte("ASCII\x00\x00\x00"), gpsCanary...)

	t = order.AppendUint16(t, 2)
	entry(0x0112, 3, 1, u16(orientation)) // Orientation, SHORT
	entry(0x8825, 4, 1, u32(gpsIFD))      // GPSInfo IFD pointer, LONG
	t = order.AppendUint32(t, 0)          // no IFD1

	t = order.AppendUint16(t, gpsEntries)
	entry(0x0000, 1, 4, []byte{2, 3, 0, 0})              // GPSVersionID, BYTE×4
	entry(0x0001, 2, 2, []byte("N\x00"))                 // GPSLatitudeRef, ASCII
	entry(0x0002, 5, 3, u32(latAt))                      // GPSLatitude, RATIONAL×3
	entry(0x001B, 7, uint32(len(method)), u32(methodAt)) // GPSProcessingMethod, UNDEFINED
	t = order.AppendUint32(t, 0)
	for _, r := range [][2]uint32{{51, 1}, {30, 1}, {433, 100}} {
		t = order.AppendUint32(t, r[0])
		t = order.AppendUint32(t, r[1])
	}
	t = append(t, method...)
	return segment(0xE1, append([]byte("Exif\x00\x00"), t...))
}

// The other metadata cameras and editors leave: XMP (a second APP1), an ICC
// profile (APP2), a JFIF header (APP0) and a comment.
func otherMetadata() [][]byte {
	return [][]byte{
		segment(0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")),
		segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>HOMETIME-XMP-CANARY</x:xmpmeta>")),
		segment(0xE2, []byte("ICC_PROFILE\x00\x01\x01HOMETIME-ICC-CANARY")),
		segment(0xFE, []byte("HOMETIME-COMMENT-CANARY")),
	}
}

// pngHeader is a PNG that declares w×h in a valid IHDR and holds almost no
// pixel data: what a decompression bomb looks like to a header reader.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		td := append([]byte(typ), data...)
		b = append(b, td...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(td))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b
}

// jpegHeader is the start of a baseline JPEG that declares w×h, up to the
// start of its (missing) scan.
func jpegHeader(w, h uint16) []byte {
	sof := []byte{8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	binary.BigEndian.PutUint16(sof[1:], h)
	binary.BigEndian.PutUint16(sof[3:], w)
	b := append([]byte{0xFF, 0xD8}, segment(0xC0, sof)...)
	return append(b, segment(0xDA, []byte{3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0})...)
}

// headerMarkers lists the markers of a JPEG's segments up to its first scan.
func headerMarkers(t *testing.T, b []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		t.Fatalf("output is not a JPEG: % x", b[:min(len(b), 8)])
	}
	var ms []byte
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			t.Fatalf("bad marker at %d", i)
		}
		m := b[i+1]
		ms = append(ms, m)
		if m == 0xDA {
			return ms
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	t.Fatal("no start of scan")
	return nil
}

func mustProcess(t *testing.T, b []byte) Processed {
	t.Helper()
	p, err := ProcessBytes(b, DefaultLimits())
	if err != nil {
		t.Fatalf("ProcessBytes: %v", err)
	}
	return p
}

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return m
}

// near reports whether c is within 40 of want in each channel (JPEG is lossy).
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { return int(a>>8)-int(w) < 40 && int(w)-int(a>>8) < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// --- the tests ---

func TestSniff(t *testing.T) {
	webpFile, err := os.ReadFile("testdata/gopher-doc.8bpp.lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	var g bytes.Buffer
	if err := gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want Format // "" means refused
	}{
		{"jpeg", mustJPEG(t, quadrants(8, 8)), FormatJPEG},
		{"png", mustPNG(t, quadrants(8, 8)), FormatPNG},
		{"webp", webpFile, FormatWebP},
		{"gif", g.Bytes(), ""},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ""},
		{"svg without xml declaration", []byte(` <svg onload="alert(1)"/>`), ""},
		{"html", []byte("<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"), ""},
		{"html named .jpg still html", []byte("<html>\xFF\xD8\xFF</html>"), ""},
		{"heic", append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 32)...), ""},
		{"avif", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"), ""},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), ""},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00"), ""},
		{"pdf", []byte("%PDF-1.7\n"), ""},
		{"riff but wave", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), ""},
		{"webp riff with unknown chunk", []byte("RIFF\x24\x00\x00\x00WEBPXXXX"), ""},
		{"garbage", []byte("this is not a picture at all"), ""},
		{"empty", nil, ""},
		{"two bytes of jpeg", []byte{0xFF, 0xD8}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.in)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("Sniff = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrUnsupportedFormat) || content.ErrorCode(err) != content.CodeUnprocessable {
				t.Fatalf("Sniff = %q, %v; want ErrUnsupportedFormat", got, err)
			}
			// Process refuses it the same way, before any decoder runs.
			if _, err := ProcessBytes(tt.in, DefaultLimits()); !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("ProcessBytes = %v; want ErrUnsupportedFormat", err)
			}
		})
	}
}

// The whole point: GPS and every other metadata segment are gone from both
// outputs, whatever byte order the camera used.
func TestProcessStripsMetadata(t *testing.T) {
	for _, order := range []byteOrder{binary.BigEndian, binary.LittleEndian} {
		t.Run(order.String(), func(t *testing.T) {
			segs := append([][]byte{exifAPP1(order, 1)}, otherMetadata()...)
			in := withSegments(mustJPEG(t, quadrants(1200, 900)), segs...)
			// The input really carries what we look for.
			for _, s := range []string{"Exif\x00\x00", gpsCanary, "HOMETIME-XMP-CANARY", "HOMETIME-ICC-CANARY", "HOMETIME-COMMENT-CANARY"} {
				if !bytes.Contains(in, []byte(s)) {
					t.Fatalf("test input lacks %q", s)
				}
			}
			if jpegOrientation(in) != 1 {
				t.Fatalf("test input orientation %d", jpegOrientation(in))
			}
			p := mustProcess(t, in)
			for name, out := range map[string][]byte{"photo": p.Photo.Data, "thumbnail": p.Thumb.Data} {
				for _, s := range []string{"Exif\x00\x00", gpsCanary, "HOMETIME", "http://ns.adobe.com", "ICC_PROFILE", "JFIF"} {
					if bytes.Contains(out, []byte(s)) {
						t.Errorf("%s holds %q", name, s)
					}
				}
				ms := headerMarkers(t, out)
				for _, m := range ms {
					if m >= 0xE0 && m <= 0xEF || m == 0xFE {
						t.Errorf("%s has a metadata segment 0xFF%02X (markers % X)", name, m, ms)
					}
				}
				// The GPSInfo tag number in either byte order, anywhere in the
				// header segments.
				header := out[:bytes.Index(out, []byte{0xFF, 0xDA})]
				if bytes.Contains(header, []byte{0x88, 0x25}) || bytes.Contains(header, []byte{0x25, 0x88}) {
					t.Errorf("%s header holds GPS tag bytes", name)
				}
				if m := decodeJPEG(t, out); !near(m.At(0, 0), red) {
					t.Errorf("%s top-left is %v, want red", name, m.At(0, 0))
				}
			}
			if p.Photo.ContentType != "image/jpeg" || p.Thumb.ContentType != "image/jpeg" || p.Source != FormatJPEG {
				t.Errorf("got %q, %q from %q", p.Photo.ContentType, p.Thumb.ContentType, p.Source)
			}
		})
	}
}

func TestProcessAppliesOrientation(t *testing.T) {
	const w, h = 64, 32
	// Where the top-left (red) and top-right (green) quarters of the input
	// must end up, as corners of the output.
	type corner int
	const (
		tl corner = iota
		tr
		bl
		br
	)
	tests := []struct {
		o          uint16
		red, green corner
		turned     bool
	}{
		{1, tl, tr, false},
		{2, tr, tl, false},
		{3, br, bl, false},
		{4, bl, br, false},
		{5, tl, bl, true},
		{6, tr, br, true},
		{7, br, tr, true},
		{8, bl, tl, true},
		{9, tl, tr, false}, // out of range: left as it is
	}
	at := func(m image.Image, c corner) color.Color {
		b := m.Bounds()
		x, y := b.Min.X+4, b.Min.Y+4
		if c == tr || c == br {
			x = b.Max.X - 5
		}
		if c == bl || c == br {
			y = b.Max.Y - 5
		}
		return m.At(x, y)
	}
	for _, tt := range tests {
		for _, order := range []byteOrder{binary.BigEndian, binary.LittleEndian} {
			in := withSegments(mustJPEG(t, quadrants(w, h)), exifAPP1(order, tt.o))
			p := mustProcess(t, in)
			ww, wh := w, h
			if tt.turned {
				ww, wh = h, w
			}
			if p.Photo.Width != ww || p.Photo.Height != wh {
				t.Errorf("orientation %d (%v): %dx%d, want %dx%d", tt.o, order, p.Photo.Width, p.Photo.Height, ww, wh)
				continue
			}
			m := decodeJPEG(t, p.Photo.Data)
			if m.Bounds().Dx() != ww || m.Bounds().Dy() != wh {
				t.Errorf("orientation %d: encoded %v", tt.o, m.Bounds())
			}
			if !near(at(m, tt.red), red) || !near(at(m, tt.green), green) {
				t.Errorf("orientation %d (%v): red corner %v, green corner %v", tt.o, order, at(m, tt.red), at(m, tt.green))
			}
			th := decodeJPEG(t, p.Thumb.Data)
			if th.Bounds().Dx() != ww || th.Bounds().Dy() != wh || !near(at(th, tt.red), red) {
				t.Errorf("orientation %d: thumbnail %v, red corner %v", tt.o, th.Bounds(), at(th, tt.red))
			}
		}
	}
}

// Orientation 6 on a real-sized photo: the phone held upright.
func TestProcessOrientation6Photo(t *testing.T) {
	in := withSegments(mustJPEG(t, quadrants(1600, 1200)), exifAPP1(binary.LittleEndian, 6))
	p := mustProcess(t, in)
	if p.Orientation != 6 || p.Photo.Width != 1200 || p.Photo.Height != 1600 {
		t.Fatalf("orientation %d, photo %dx%d; want 6, 1200x1600", p.Orientation, p.Photo.Width, p.Photo.Height)
	}
	if p.Thumb.Width != 384 || p.Thumb.Height != 512 {
		t.Fatalf("thumbnail %dx%d, want 384x512", p.Thumb.Width, p.Thumb.Height)
	}
}

func TestJPEGOrientationParser(t *testing.T) {
	base := mustJPEG(t, quadrants(16, 16))
	full := exifAPP1(binary.BigEndian, 6)
	tests := []struct {
		name string
		in   []byte
		want Orientation
	}{
		{"none", base, 1},
		{"exif", withSegments(base, full), 6},
		{"after other segments", withSegments(base, append(otherMetadata(), full)...), 6},
		{"fill bytes before marker", withSegments(base, append([]byte{0xFF, 0xFF}, full...)), 6},
		{"xmp only", withSegments(base, otherMetadata()...), 1},
		{"truncated exif", withSegments(base, segment(0xE1, full[4:20])), 1},
		{"length past the end", full[:len(full)-10], 1},
		{"bad byte order", withSegments(base, segment(0xE1, []byte("Exif\x00\x00XX\x00\x2a\x00\x00\x00\x08"))), 1},
		{"ifd offset past the end", withSegments(base, segment(0xE1, []byte("Exif\x00\x00MM\x00\x2a\x7f\xff\xff\xff"))), 1},
		{"entry count past the end", withSegments(base, segment(0xE1, []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff"))), 1},
		{"not a jpeg", []byte("garbage"), 1},
		{"empty", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jpegOrientation(tt.in); got != tt.want {
				t.Fatalf("jpegOrientation = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestProcessPNG(t *testing.T) {
	// Transparent on the left half, opaque red on the right.
	m := image.NewNRGBA(image.Rect(0, 0, 1024, 600))
	for y := range 600 {
		for x := range 1024 {
			if x >= 512 {
				m.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
			} else {
				m.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 0})
			}
		}
	}
	p := mustProcess(t, mustPNG(t, m))
	if p.Source != FormatPNG || p.Photo.Width != 1024 || p.Photo.Height != 600 {
		t.Fatalf("got %s %dx%d", p.Source, p.Photo.Width, p.Photo.Height)
	}
	if p.Thumb.Width != 512 || p.Thumb.Height != 300 {
		t.Fatalf("thumbnail %dx%d, want 512x300", p.Thumb.Width, p.Thumb.Height)
	}
	out := decodeJPEG(t, p.Photo.Data)
	if !near(out.At(10, 10), white) || !near(out.At(1000, 10), red) {
		t.Fatalf("transparent part %v (want white), opaque part %v (want red)", out.At(10, 10), out.At(1000, 10))
	}
	// Paletted and grey PNGs too.
	pal := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Black, color.White})
	gray := image.NewGray16(image.Rect(0, 0, 40, 30))
	for _, in := range []image.Image{pal, gray} {
		if p := mustProcess(t, mustPNG(t, in)); p.Photo.Width != 40 || p.Thumb.Width != 40 {
			t.Errorf("%T: %dx%d, thumb %dx%d", in, p.Photo.Width, p.Photo.Height, p.Thumb.Width, p.Thumb.Height)
		}
	}
}

func TestProcessWebP(t *testing.T) {
	for _, name := range []string{"gopher-doc.8bpp.lossless.webp", "blue-purple-pink.lossy.webp", "yellow_rose.lossy-with-alpha.webp"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			p := mustProcess(t, in)
			if p.Source != FormatWebP || p.Photo.Width != cfg.Width || p.Photo.Height != cfg.Height {
				t.Fatalf("got %s %dx%d, want webp %dx%d", p.Source, p.Photo.Width, p.Photo.Height, cfg.Width, cfg.Height)
			}
			decodeJPEG(t, p.Photo.Data)
			decodeJPEG(t, p.Thumb.Data)
			if bytes.Contains(p.Photo.Data, []byte("RIFF")) {
				t.Fatal("output still holds the WebP container")
			}
		})
	}
}

func TestThumbnailSize(t *testing.T) {
	tests := []struct {
		w, h, tw, th int
	}{
		{2000, 1500, 512, 384},
		{1000, 3000, 171, 512},
		{4096, 512, 512, 64},
		{1024, 1024, 512, 512},
		{512, 300, 512, 300}, // already small: never enlarged
		{300, 200, 300, 200},
		{5000, 3, 512, 1},
	}
	for _, tt := range tests {
		p := mustProcess(t, mustJPEG(t, quadrants(tt.w, tt.h)))
		if p.Thumb.Width != tt.tw || p.Thumb.Height != tt.th {
			t.Errorf("%dx%d: thumbnail %dx%d, want %dx%d", tt.w, tt.h, p.Thumb.Width, p.Thumb.Height, tt.tw, tt.th)
		}
		if m := decodeJPEG(t, p.Thumb.Data); m.Bounds().Dx() != tt.tw || m.Bounds().Dy() != tt.th {
			t.Errorf("%dx%d: encoded thumbnail %v", tt.w, tt.h, m.Bounds())
		}
	}
	// The downscale keeps the picture: quarters stay where they were.
	p := mustProcess(t, mustJPEG(t, quadrants(2400, 1800)))
	th := decodeJPEG(t, p.Thumb.Data)
	if !near(th.At(20, 20), red) || !near(th.At(490, 20), green) || !near(th.At(490, 360), white) {
		t.Fatalf("thumbnail corners %v %v %v", th.At(20, 20), th.At(490, 20), th.At(490, 360))
	}
}

// A header that promises a huge picture is refused from the header alone:
// the test allocates next to nothing, where decoding 50,000×50,000 RGBA
// would want 10 GB.
func TestProcessRefusesPixelFloods(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"png 50000x50000", pngHeader(50_000, 50_000)},
		{"png 10000x10000 (sides fine, 100 MP)", pngHeader(10_000, 10_000)},
		{"png 20000x10 (one side too long)", pngHeader(20_000, 10)},
		{"jpeg 65000x65000", jpegHeader(65_000, 65_000)},
		{"jpeg 9000x9000", jpegHeader(9_000, 9_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ProcessBytes(tt.in, DefaultLimits()); !errors.Is(err, ErrTooManyPixels) || content.ErrorCode(err) != content.CodeTooLarge {
				t.Fatalf("ProcessBytes = %v, want ErrTooManyPixels", err)
			}
			allocs := testing.AllocsPerRun(20, func() { _, _ = ProcessBytes(tt.in, DefaultLimits()) })
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _ = ProcessBytes(tt.in, DefaultLimits())
			runtime.ReadMemStats(&after)
			bytesAllocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%.0f allocations, %d bytes", allocs, bytesAllocated)
			if allocs > 100 || bytesAllocated > 256<<10 {
				t.Fatalf("refusing took %.0f allocations and %d bytes; the header check must come before decoding", allocs, bytesAllocated)
			}
		})
	}
	// A 16-bit PNG is held to half the pixels: 6000×6000 is 36 MP, under
	// the pixel cap, but 288 MB decoded.
	deep := pngHeader(6000, 6000)
	deep[24] = 16 // IHDR bit depth
	binary.BigEndian.PutUint32(deep[29:], crc32.ChecksumIEEE(deep[12:29]))
	if _, err := ProcessBytes(deep, DefaultLimits()); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("16-bit 36 MP png: %v, want ErrTooManyPixels", err)
	}

	// Limits are configurable: a 2 MP cap refuses a 3 MP photo it would
	// otherwise take.
	in := mustJPEG(t, quadrants(2000, 1500))
	if _, err := ProcessBytes(in, Limits{MaxPixels: 2_000_000}); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("custom pixel cap: %v", err)
	}
	if _, err := ProcessBytes(in, Limits{MaxSide: 1999}); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("custom side cap: %v", err)
	}
	if _, err := ProcessBytes(in, Limits{MaxDecodedBytes: 3_000_000 * 3}); err != nil {
		t.Fatalf("decoded cap just big enough: %v", err)
	}
	if _, err := ProcessBytes(in, Limits{MaxDecodedBytes: 3_000_000*3 - 1}); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("custom decoded cap: %v", err)
	}
}

func TestProcessRefusesBrokenAndOversized(t *testing.T) {
	good := mustJPEG(t, quadrants(200, 100))
	if _, err := ProcessBytes(good[:len(good)/2], DefaultLimits()); !errors.Is(err, ErrUnreadable) {
		t.Errorf("truncated jpeg: %v, want ErrUnreadable", err)
	}
	if _, err := ProcessBytes(jpegHeader(0, 10), DefaultLimits()); !errors.Is(err, ErrUnreadable) && !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("zero-width jpeg: %v", err)
	}
	if _, err := ProcessBytes(pngHeader(100, 100), DefaultLimits()); !errors.Is(err, ErrUnreadable) {
		t.Errorf("png without pixels: %v, want ErrUnreadable", err)
	}
	// Process stops reading one byte past the limit.
	r := &countingReader{r: bytes.NewReader(append(good, make([]byte, 1<<20)...))}
	_, err := Process(r, Limits{MaxBytes: int64(len(good))})
	if !errors.Is(err, ErrTooLarge) || content.ErrorCode(err) != content.CodeTooLarge {
		t.Errorf("oversized: %v, want ErrTooLarge", err)
	}
	if r.n > int64(len(good))+1 {
		t.Errorf("read %d bytes past a %d-byte limit", r.n, len(good))
	}
	if _, err := Process(bytes.NewReader(good), DefaultLimits()); err != nil {
		t.Errorf("Process of a good jpeg: %v", err)
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

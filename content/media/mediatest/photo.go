// Package mediatest makes pictures for tests and benchmarks of package
// media: nothing here is used to serve a parent.
package mediatest

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// PhotoLikeJPEG encodes a w×h picture that compresses like a phone photo:
// smooth gradients and broad waves (sky, walls) under per-pixel sensor
// noise, which is what keeps real photos large. The same seed gives the
// same bytes.
func PhotoLikeJPEG(w, h, quality, noise int, seed uint64) ([]byte, error) {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	fw, fh := float64(w), float64(h)
	for y := range h {
		fy := float64(y) / fh
		for x := range w {
			fx := float64(x) / fw
			v := 40 + 150*fy + 30*math.Sin(fx*9+fy*4) + 20*math.Sin(fx*31)*math.Cos(fy*23)
			if noise > 0 {
				v += float64(rng.IntN(2*noise+1) - noise)
			}
			m.Y[y*m.YStride+x] = clamp(v)
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := range ch {
		fy := float64(y) / float64(ch)
		for x := range cw {
			fx := float64(x) / float64(cw)
			i := y*m.CStride + x
			m.Cb[i] = clamp(128 + 40*math.Cos(fx*5) - 30*fy + float64(rng.IntN(3)-1))
			m.Cr[i] = clamp(128 + 35*math.Sin(fy*6+fx*2) + float64(rng.IntN(3)-1))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode photo-like jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// Photo12MP is the benchmark's input: a 4000×3000 (12 megapixel) photo-like
// JPEG of about 5 MB (4.98 MB), as a recent phone saves.
func Photo12MP() ([]byte, error) { return PhotoLikeJPEG(4000, 3000, 92, 18, 1) }

// WithOrientation returns j with an EXIF APP1 segment, holding only the
// orientation tag, inserted after its SOI marker: how a phone marks a photo
// taken upright (6) instead of turning the pixels.
func WithOrientation(j []byte, orientation uint16) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(orientation >> 8), byte(orientation), 0, 0, // Orientation, SHORT
		0, 0, 0, 0} // no next IFD
	body := append([]byte("Exif\x00\x00"), tiff...)
	n := len(body) + 2
	out := append([]byte{}, j[:2]...)
	out = append(out, 0xFF, 0xE1, byte(n>>8), byte(n))
	out = append(out, body...)
	return append(out, j[2:]...)
}

func clamp(v float64) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v + 0.5)
}

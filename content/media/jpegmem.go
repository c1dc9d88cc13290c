package media

import (
	"encoding/binary"
	"errors"
)

// jpegFrame is what a JPEG's start-of-frame segment says about how Go's
// image/jpeg will decode it: the coding, the size and each component's
// sampling factors.
type jpegFrame struct {
	progressive   bool
	width, height int
	h, v          []int // per component
}

var errNoFrame = errors.New("no start-of-frame segment before the first scan")

// readJPEGFrame walks a JPEG's segments up to its first scan and reads the
// start-of-frame header. It reads headers only.
func readJPEGFrame(b []byte) (jpegFrame, error) {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return jpegFrame{}, errors.New("not a JPEG")
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return jpegFrame{}, errors.New("no marker where a segment should start")
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte before a marker
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8): // TEM, RSTn, SOI: no length
			i += 2
			continue
		case m == 0xDA || m == 0xD9: // start of scan, end of image
			return jpegFrame{}, errNoFrame
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return jpegFrame{}, errors.New("segment runs past the end")
		}
		body := b[i+4 : i+2+n]
		// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			return parseJPEGFrame(m, body)
		}
		i += 2 + n
	}
	return jpegFrame{}, errNoFrame
}

func parseJPEGFrame(marker byte, body []byte) (jpegFrame, error) {
	if len(body) < 6 {
		return jpegFrame{}, errors.New("short start-of-frame")
	}
	f := jpegFrame{
		progressive: marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE,
		height:      int(binary.BigEndian.Uint16(body[1:])),
		width:       int(binary.BigEndian.Uint16(body[3:])),
	}
	n := int(body[5])
	if n == 0 || len(body) < 6+3*n {
		return jpegFrame{}, errors.New("start-of-frame lists no or too few components")
	}
	for c := range n {
		hv := body[6+3*c+1]
		h, v := int(hv>>4), int(hv&0x0F)
		if h < 1 || h > 4 || v < 1 || v > 4 {
			return jpegFrame{}, errors.New("bad sampling factor")
		}
		f.h, f.v = append(f.h, h), append(f.v, v)
	}
	return f, nil
}

// decodeBytes estimates the most memory image/jpeg holds at once while
// decoding f, from how it decodes:
//   - every component's samples, padded to whole MCUs (Gray, YCbCr, and
//     for four components YCbCr plus a plane for black), one byte each;
//   - a progressive JPEG also keeps every component's DCT coefficients
//     until the last scan: a block of 64 int32 per 8×8 samples, four bytes
//     a sample, so a 4:2:0 photo needs 6 bytes a pixel on top of its 1.5;
//   - four components (CMYK or YCCK) are then converted into an
//     image.CMYK, 4 bytes a pixel, while the planes are still held.
//
// So a 12 MP photo costs 18 MB as a baseline 4:2:0 JPEG, 90 MB
// progressive, and 96 MB as a baseline CMYK one (8 bytes a pixel).
func (f jpegFrame) decodeBytes() int64 {
	hmax, vmax := 1, 1
	for c := range f.h {
		hmax, vmax = max(hmax, f.h[c]), max(vmax, f.v[c])
	}
	mcusX := int64((f.width + 8*hmax - 1) / (8 * hmax))
	mcusY := int64((f.height + 8*vmax - 1) / (8 * vmax))
	var samples int64
	for c := range f.h {
		samples += mcusX * mcusY * int64(f.h[c]*f.v[c]) * 64
	}
	total := samples
	if f.progressive {
		total += 4 * samples
	}
	if len(f.h) == 4 {
		total += 4 * int64(f.width) * int64(f.height)
	}
	return total
}

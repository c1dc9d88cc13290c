package media

import "encoding/binary"

// Orientation is the EXIF orientation tag (0x0112): how the camera held the
// sensor. 1 is upright; 2–8 are the mirrorings and quarter turns a viewer
// must apply, as numbered by the EXIF standard.
type Orientation int

// A JPEG from a camera or phone has a handful of segments before its scan;
// scanning more than this means something is wrong, so stop looking.
const maxSegments = 64

// jpegOrientation reads the orientation from the first EXIF APP1 segment
// of a JPEG, walking only the segment headers before the first scan. It
// never fails: anything it cannot read means "upright" (1), because a
// missing or broken tag must not stop a parent's upload, and the pixels
// are decoded by image/jpeg, not by this code.
func jpegOrientation(b []byte) Orientation {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	i := 2
	for range maxSegments {
		if i >= len(b) || b[i] != 0xFF {
			return 1
		}
		// A marker may be preceded by any number of 0xFF fill bytes.
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return 1
		}
		marker := b[i]
		i++
		switch {
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			continue // no length field
		case marker == 0xDA || marker == 0xD9:
			return 1 // start of scan or end of image: no EXIF before it
		}
		if i+2 > len(b) {
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || i+n > len(b) {
			return 1
		}
		seg := b[i+2 : i+n]
		i += n
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
	}
	return 1
}

// tiffOrientation finds tag 0x0112 in IFD0 of a TIFF structure (the body
// of an EXIF segment). Every offset is checked against the segment.
func tiffOrientation(t []byte) Orientation {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := int64(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	count := int64(order.Uint16(t[ifd:]))
	entries := ifd + 2
	for k := range count {
		e := entries + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		tag, typ, n := order.Uint16(t[e:]), order.Uint16(t[e+2:]), order.Uint32(t[e+4:])
		if tag != 0x0112 {
			continue
		}
		if typ != 3 || n != 1 { // SHORT, one value, held in the entry itself
			return 1
		}
		if o := Orientation(order.Uint16(t[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

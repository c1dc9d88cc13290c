package mediatest

import "encoding/binary"

// WithGPS returns the JPEG j with an EXIF APP1 inserted after SOI whose IFD0
// points (tag 0x8825) to a GPS IFD holding a latitude reference and a
// processing-method string that ends with canary: a photo as a phone takes
// it, location and all. Tests look for canary in what was stored.
func WithGPS(j []byte, canary string) []byte {
	be := binary.BigEndian
	t := []byte{'M', 'M', 0, 42, 0, 0, 0, 8}
	entry := func(tag, typ uint16, count uint32, value []byte) {
		t = be.AppendUint16(t, tag)
		t = be.AppendUint16(t, typ)
		t = be.AppendUint32(t, count)
		v := make([]byte, 4)
		copy(v, value)
		t = append(t, v...)
	}
	const gpsIFD = 8 + 2 + 12 + 4
	const methodAt = gpsIFD + 2 + 2*12 + 4
	method := append([]byte("ASCII\x00\x00\x00"), canary...)
	t = be.AppendUint16(t, 1)
	entry(0x8825, 4, 1, be.AppendUint32(nil, gpsIFD))
	t = be.AppendUint32(t, 0)
	t = be.AppendUint16(t, 2)
	entry(0x0001, 2, 2, []byte("N\x00"))
	entry(0x001B, 7, uint32(len(method)), be.AppendUint32(nil, methodAt))
	t = be.AppendUint32(t, 0)
	t = append(t, method...)
	body := append([]byte("Exif\x00\x00"), t...)
	n := len(body) + 2
	out := append([]byte{}, j[:2]...)
	out = append(out, 0xFF, 0xE1, byte(n>>8), byte(n))
	out = append(out, body...)
	return append(out, j[2:]...)
}

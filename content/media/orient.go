package media

import "image"

// swapsSides reports whether the orientation turns the picture a quarter,
// so width and height change places.
func (o Orientation) swapsSides() bool { return o >= 5 && o <= 8 }

// source returns, for destination pixel (dx, dy), the source pixel it comes
// from in a w×h source, for EXIF orientation o.
func (o Orientation) source(dx, dy, w, h int) (sx, sy int) {
	switch o {
	case 2: // mirrored left to right
		return w - 1 - dx, dy
	case 3: // upside down
		return w - 1 - dx, h - 1 - dy
	case 4: // mirrored top to bottom
		return dx, h - 1 - dy
	case 5: // mirrored along the top-left diagonal
		return dy, dx
	case 6: // needs a quarter turn clockwise
		return dy, h - 1 - dx
	case 7: // mirrored along the top-right diagonal
		return w - 1 - dy, h - 1 - dx
	case 8: // needs a quarter turn anticlockwise
		return w - 1 - dy, dx
	}
	return dx, dy
}

// orientPlane returns a new plane holding src (w×h pixels of bpp bytes,
// stride bytes per row) turned by o; the result is tightly packed.
func orientPlane(src []byte, stride, w, h, bpp int, o Orientation) (dst []byte, dstStride int) {
	dw, dh := w, h
	if o.swapsSides() {
		dw, dh = h, w
	}
	dstStride = dw * bpp
	dst = make([]byte, dstStride*dh)
	for dy := range dh {
		row := dst[dy*dstStride : (dy+1)*dstStride]
		if bpp == 1 { // the common case, kept free of slice copies
			for dx := range dw {
				sx, sy := o.source(dx, dy, w, h)
				row[dx] = src[sy*stride+sx]
			}
			continue
		}
		for dx := range dw {
			sx, sy := o.source(dx, dy, w, h)
			s := sy*stride + sx*bpp
			copy(row[dx*bpp:dx*bpp+bpp], src[s:s+bpp])
		}
	}
	return dst, dstStride
}

// orient applies o to a decoded image. Images JPEG decodes to (YCbCr, Gray)
// are turned plane by plane, without converting colour and with one new
// copy; anything else arrives here already flattened to RGBA.
func orient(m image.Image, o Orientation) image.Image {
	if o <= 1 || o > 8 || m.Bounds().Min != (image.Point{}) {
		return m
	}
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	switch m := m.(type) {
	case *image.YCbCr:
		ratio, ok := turnedRatio(m.SubsampleRatio, o)
		if !ok {
			return orient(flatten(m), o)
		}
		cw, ch := chromaSize(m.SubsampleRatio, w, h)
		out := &image.YCbCr{SubsampleRatio: ratio, Rect: image.Rect(0, 0, w, h)}
		if o.swapsSides() {
			out.Rect = image.Rect(0, 0, h, w)
		}
		out.Y, out.YStride = orientPlane(m.Y, m.YStride, w, h, 1, o)
		out.Cb, out.CStride = orientPlane(m.Cb, m.CStride, cw, ch, 1, o)
		out.Cr, _ = orientPlane(m.Cr, m.CStride, cw, ch, 1, o)
		return out
	case *image.Gray:
		out := &image.Gray{Rect: image.Rect(0, 0, w, h)}
		if o.swapsSides() {
			out.Rect = image.Rect(0, 0, h, w)
		}
		out.Pix, out.Stride = orientPlane(m.Pix, m.Stride, w, h, 1, o)
		return out
	case *image.RGBA:
		out := &image.RGBA{Rect: image.Rect(0, 0, w, h)}
		if o.swapsSides() {
			out.Rect = image.Rect(0, 0, h, w)
		}
		out.Pix, out.Stride = orientPlane(m.Pix, m.Stride, w, h, 4, o)
		return out
	}
	return orient(flatten(m), o)
}

// turnedRatio is the chroma subsampling of a YCbCr image after o: a quarter
// turn swaps horizontal and vertical subsampling. 4:1:1 and 4:1:0 have no
// turned counterpart in package image.
func turnedRatio(r image.YCbCrSubsampleRatio, o Orientation) (image.YCbCrSubsampleRatio, bool) {
	if !o.swapsSides() {
		return r, true
	}
	switch r {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420:
		return r, true
	case image.YCbCrSubsampleRatio422:
		return image.YCbCrSubsampleRatio440, true
	case image.YCbCrSubsampleRatio440:
		return image.YCbCrSubsampleRatio422, true
	}
	return r, false
}

// chromaSize is the size of the Cb and Cr planes of a w×h image.
func chromaSize(r image.YCbCrSubsampleRatio, w, h int) (cw, ch int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

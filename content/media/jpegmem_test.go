package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// jpegFrameHeader is the start of a JPEG up to its (missing) scan, whose
// start-of-frame segment has the given marker (0xC0 baseline, 0xC2
// progressive), size and one sampling byte (h<<4|v) per component.
func jpegFrameHeader(marker byte, w, h uint16, sampling ...byte) []byte {
	sof := []byte{8, 0, 0, 0, 0, byte(len(sampling))}
	binary.BigEndian.PutUint16(sof[1:], h)
	binary.BigEndian.PutUint16(sof[3:], w)
	for i, s := range sampling {
		sof = append(sof, byte(i+1), s, 0)
	}
	sos := []byte{byte(len(sampling))}
	for i := range sampling {
		sos = append(sos, byte(i+1), 0)
	}
	b := append([]byte{0xFF, 0xD8}, segment(0xC0, []byte{0, 0})...) // a DQT-sized placeholder segment first
	b[3] = 0xDB
	b = append(b, segment(marker, sof)...)
	return append(b, segment(0xDA, append(sos, 0, 63, 0))...)
}

// TestProcessRefusesCostlyJPEGs: the decoder's memory is judged from the
// start-of-frame header, before a pixel is decoded. A progressive JPEG
// keeps 4 bytes of coefficients per sample and a CMYK one converts into a
// second 4-byte-a-pixel buffer, so headers whose pixel count and colour
// model pass are refused for what decoding them would really hold.
func TestProcessRefusesCostlyJPEGs(t *testing.T) {
	const (
		s420 = 0x22 // luma sampled 2×2 against chroma's 1×1
		s444 = 0x11
	)
	tests := []struct {
		name    string
		in      []byte
		model   color.Model
		refused bool // for memory; the others fail later, having no scan
	}{
		{"baseline 24 MP 4:2:0 (36 MB)", jpegFrameHeader(0xC0, 6000, 4000, s420, s444, s444), color.YCbCrModel, false},
		{"progressive 24 MP 4:2:0 (180 MB)", jpegFrameHeader(0xC2, 6000, 4000, s420, s444, s444), color.YCbCrModel, true},
		{"progressive 12 MP 4:2:0 (90 MB)", jpegFrameHeader(0xC2, 4000, 3000, s420, s444, s444), color.YCbCrModel, false},
		{"progressive 12 MP 4:4:4 (180 MB)", jpegFrameHeader(0xC2, 4000, 3000, s444, s444, s444), color.YCbCrModel, true},
		{"progressive 24 MP grey (120 MB)", jpegFrameHeader(0xC2, 6000, 4000, s444), color.GrayModel, false},
		{"CMYK 12 MP (96 MB)", jpegFrameHeader(0xC0, 4000, 3000, s444, s444, s444, s444), color.CMYKModel, false},
		{"CMYK 24 MP (192 MB)", jpegFrameHeader(0xC0, 6000, 4000, s444, s444, s444, s444), color.CMYKModel, true},
		{"progressive CMYK 12 MP (288 MB)", jpegFrameHeader(0xC2, 4000, 3000, s444, s444, s444, s444), color.CMYKModel, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, name, err := image.DecodeConfig(bytes.NewReader(tt.in))
			if err != nil || name != "jpeg" || cfg.ColorModel != tt.model {
				t.Fatalf("the crafted header does not read as intended: %v %q %v", err, name, cfg.ColorModel)
			}
			if err := checkSize(cfg, DefaultLimits()); err != nil {
				t.Fatalf("the pixel and colour-model checks alone refuse it: %v", err)
			}
			_, err = ProcessBytes(tt.in, DefaultLimits())
			if got := errors.Is(err, ErrTooMuchMemory); got != tt.refused {
				t.Fatalf("ProcessBytes = %v; refused for memory = %v, want %v", err, got, tt.refused)
			}
			if !tt.refused {
				return
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _ = ProcessBytes(tt.in, DefaultLimits())
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 256<<10 {
				t.Fatalf("refusing allocated %d bytes; the check must come before decoding", n)
			}
		})
	}
}

// TestJPEGDecodeEstimate reads the frames of real JPEGs (from Go's own
// image/testdata: progressive 4:2:0 and 4:4:4, CMYK, baseline) and checks
// the estimate against what image/jpeg allocates decoding them; then that
// each is processed under the default limits and refused for memory just
// under its estimate.
func TestJPEGDecodeEstimate(t *testing.T) {
	tests := []struct {
		file        string
		progressive bool
		h, v        []int
	}{
		{"video-001.q50.420.progressive.jpeg", true, []int{2, 1, 1}, []int{2, 1, 1}},
		{"video-001.q50.444.progressive.jpeg", true, []int{1, 1, 1}, []int{1, 1, 1}},
		{"video-001.cmyk.jpeg", false, []int{1, 1, 1, 1}, []int{1, 1, 1, 1}},
		{"video-001.q50.420.jpeg", false, []int{2, 1, 1}, []int{2, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := readJPEGFrame(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.progressive != tt.progressive || f.width != 150 || f.height != 103 ||
				!equalInts(f.h, tt.h) || !equalInts(f.v, tt.v) {
				t.Fatalf("frame %+v", f)
			}
			est := f.decodeBytes()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			alloc := int64(after.TotalAlloc - before.TotalAlloc)
			t.Logf("estimate %d bytes, image/jpeg allocated %d", est, alloc)
			// The decoder also allocates its Huffman tables and reader
			// buffers, some tens of KB whatever the size; the estimate is
			// what grows with the picture, and must not exceed what was
			// allocated nor fall short of it by more than that.
			if est > alloc || alloc-est > 96<<10 {
				t.Fatalf("estimate %d bytes, decoder allocated %d", est, alloc)
			}
			if _, err := ProcessBytes(b, DefaultLimits()); err != nil {
				t.Fatalf("default limits: %v", err)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if est <= int64(f.width*f.height)*bytesPerPixel(cfg.ColorModel) {
				return // a baseline 4:2:0 JPEG: the colour model's estimate is the larger
			}
			if _, err := ProcessBytes(b, Limits{MaxDecodedBytes: est - 1}); !errors.Is(err, ErrTooMuchMemory) {
				t.Fatalf("limit just under the estimate: %v, want ErrTooMuchMemory", err)
			}
			if _, err := ProcessBytes(b, Limits{MaxDecodedBytes: est}); err != nil {
				t.Fatalf("limit at the estimate: %v", err)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

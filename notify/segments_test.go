package notify

import (
	"strings"
	"testing"
)

func TestCountSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	l := func(n int) string { return strings.Repeat("ł", n) }
	tests := []struct {
		name       string
		body       string
		encoding   Encoding
		segments   int
		characters int
		units      int
	}{
		{"empty", "", EncodingGSM7, 0, 0, 0},
		{"short ASCII", "See you at 3pm!", EncodingGSM7, 1, 15, 15},
		{"GSM accents and symbols", "Café £5 @ ¿Qué? Ñü ß Δ_", EncodingGSM7, 1, 23, 23},
		{"newline counts one septet", "a\nb", EncodingGSM7, 1, 3, 3},
		{"exactly 160", a(160), EncodingGSM7, 1, 160, 160},
		{"161 splits in two", a(161), EncodingGSM7, 2, 161, 161},
		{"153 x 2 fills two parts", a(306), EncodingGSM7, 2, 306, 306},
		{"154 x 2 needs three", a(307), EncodingGSM7, 3, 307, 307},
		{"extension chars cost two", "[x]{y}~^|\\€", EncodingGSM7, 1, 11, 20},
		{"form feed is extension", "a\fb", EncodingGSM7, 1, 3, 4},
		{"euro makes 160 septets", a(158) + "€", EncodingGSM7, 1, 159, 160},
		{"euro tips to 161 septets", a(159) + "€", EncodingGSM7, 2, 160, 161},
		{"euro fits exactly at end of part", a(151) + "€" + a(153), EncodingGSM7, 2, 305, 306},
		{"euro never split across parts", a(152) + "€" + a(152), EncodingGSM7, 3, 305, 306},
		{"backtick is not GSM", "a`b", EncodingUCS2, 1, 3, 3},
		{"curly apostrophe forces UCS-2", "Sam’s code", EncodingUCS2, 1, 10, 10},
		{"lower-case c cedilla is not GSM", "ç", EncodingUCS2, 1, 1, 1},
		{"Welsh w circumflex", "Diolch yn fawr, ŵyr", EncodingUCS2, 1, 19, 19},
		{"Welsh y circumflex", "tŷ", EncodingUCS2, 1, 2, 2},
		{"Polish l stroke", "Dzień dobry, łatwo", EncodingUCS2, 1, 18, 18},
		{"Arabic", "مرحباً", EncodingUCS2, 1, 6, 6},
		{"UCS-2 exactly 70", l(70), EncodingUCS2, 1, 70, 70},
		{"UCS-2 71 splits", l(71), EncodingUCS2, 2, 71, 71},
		{"UCS-2 67 x 2", l(134), EncodingUCS2, 2, 134, 134},
		{"UCS-2 67 x 2 + 1", l(135), EncodingUCS2, 3, 135, 135},
		{"emoji is two code units", "😀", EncodingUCS2, 1, 1, 2},
		{"35 emoji fill one segment", strings.Repeat("😀", 35), EncodingUCS2, 1, 35, 70},
		{"36 emoji need two", strings.Repeat("😀", 36), EncodingUCS2, 2, 36, 72},
		{"emoji never split across parts", l(66) + "😀" + l(66), EncodingUCS2, 3, 133, 134},
		{"one non-GSM char switches a long GSM text", a(100) + "ŵ", EncodingUCS2, 2, 101, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CountSegments(tt.body)
			want := SegmentCount{Encoding: tt.encoding, Segments: tt.segments, Characters: tt.characters, Units: tt.units}
			if got != want {
				t.Errorf("CountSegments(%q) = %+v, want %+v", tt.body, got, want)
			}
		})
	}
}

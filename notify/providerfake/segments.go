package providerfake

import (
	"strings"
	"unicode/utf16"
)

// gsmBasic and gsmExtension are the GSM 03.38 default alphabet and its
// extension table (extension characters cost two septets).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "^{}\\[~]|€\f"
)

// segments counts SMS segments the way carriers do: GSM-7 160 single / 153
// per part; one character outside GSM-7 makes the whole body UCS-2, 70 / 67.
func segments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		return parts(septets, 160, 153)
	}
	return parts(len(utf16.Encode([]rune(body))), 70, 67)
}

func parts(units, single, multi int) int {
	switch {
	case units == 0:
		return 1
	case units <= single:
		return 1
	default:
		return (units + multi - 1) / multi
	}
}

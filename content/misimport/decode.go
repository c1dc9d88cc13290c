package misimport

import (
	"strings"
	"unicode/utf8"
)

// Encodings a file may be read as.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
)

// sniffBytes is how much of the file decides its encoding and delimiter.
// MIS exports are UTF-8 or Windows-1252 throughout, and 64 KiB holds a few
// hundred rows: enough to meet a name with an accent in almost any school.
const sniffBytes = 64 << 10

// looksUTF8 reports whether prefix is valid UTF-8, forgiving a rune cut in
// half at its end (the sniff window ends wherever it ends).
func looksUTF8(prefix []byte, atEOF bool) bool {
	if utf8.Valid(prefix) {
		return true
	}
	if atEOF {
		return false
	}
	for cut := 1; cut < utf8.UTFMax && cut <= len(prefix); cut++ {
		tail := prefix[len(prefix)-cut:]
		if utf8.RuneStart(tail[0]) {
			return !utf8.FullRune(tail) && utf8.Valid(prefix[:len(prefix)-cut])
		}
	}
	return false
}

// cp1252Rune maps one Windows-1252 byte to its rune. Bytes 0xA0–0xFF are
// Latin-1 and map to themselves; 0x80–0x9F hold the "smart" punctuation
// Excel and Word type (curly quotes, dashes, €). The five bytes Windows-1252
// leaves undefined become U+FFFD rather than invisible C1 controls.
func cp1252Rune(b byte) rune {
	if b < 0x80 || b >= 0xA0 {
		return rune(b)
	}
	switch b {
	case 0x80:
		return '€'
	case 0x82:
		return '‚'
	case 0x83:
		return 'ƒ'
	case 0x84:
		return '„'
	case 0x85:
		return '…'
	case 0x86:
		return '†'
	case 0x87:
		return '‡'
	case 0x88:
		return 'ˆ'
	case 0x89:
		return '‰'
	case 0x8A:
		return 'Š'
	case 0x8B:
		return '‹'
	case 0x8C:
		return 'Œ'
	case 0x8E:
		return 'Ž'
	case 0x91:
		return '‘'
	case 0x92:
		return '’'
	case 0x93:
		return '“'
	case 0x94:
		return '”'
	case 0x95:
		return '•'
	case 0x96:
		return '–'
	case 0x97:
		return '—'
	case 0x98:
		return '˜'
	case 0x99:
		return '™'
	case 0x9A:
		return 'š'
	case 0x9B:
		return '›'
	case 0x9C:
		return 'œ'
	case 0x9E:
		return 'ž'
	case 0x9F:
		return 'Ÿ'
	}
	return utf8.RuneError // 0x81, 0x8D, 0x8F, 0x90, 0x9D
}

// isASCII reports whether s needs no decoding in either encoding.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// decode1252 turns a Windows-1252 field into UTF-8.
func decode1252(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		b.WriteRune(cp1252Rune(s[i]))
	}
	return b.String()
}

// repairUTF8 returns s unchanged when it is valid UTF-8. Otherwise each byte
// that is not part of a valid sequence is read as Windows-1252: the usual
// cause is a file pasted together from two exports, and a name read as
// "Zoë" is more use to the school than one read as "Zo\uFFFD".
func repairUTF8(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(cp1252Rune(s[i]))
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String(), true
}

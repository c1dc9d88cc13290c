package notify

import "unicode/utf8"

// Encoding is how an SMS body travels over the network. It decides how many
// characters fit in a segment, and so what the message costs.
type Encoding string

const (
	// EncodingGSM7 packs each character into 7 bits (GSM 03.38 basic table);
	// extension-table characters take an escape septet plus one.
	EncodingGSM7 Encoding = "GSM-7"
	// EncodingUCS2 sends UTF-16 code units. One character outside GSM-7 makes
	// the whole message UCS-2, so fewer characters fit in a segment.
	EncodingUCS2 Encoding = "UCS-2"
)

// Segment capacities. A message that fits a single segment uses all of it;
// once split, each part loses room to the concatenation header (UDH).
const (
	GSM7SingleSegment = 160 // septets
	GSM7MultiSegment  = 153 // septets per part
	UCS2SingleSegment = 70  // UTF-16 code units
	UCS2MultiSegment  = 67  // UTF-16 code units per part
)

// SegmentCount describes what an SMS body will cost to send.
type SegmentCount struct {
	Encoding Encoding
	// Segments billed by the provider; 0 for an empty body.
	Segments int
	// Characters a person would count (Unicode code points).
	Characters int
	// Units the network counts: septets for GSM-7 (extension characters
	// count 2), UTF-16 code units for UCS-2 (an emoji counts 2).
	Units int
}

// CountSegments works out the encoding and segment count of an SMS body
// before it is sent, so bulk sends can be priced and held to a budget.
//
// When a message is split, an extension character (escape + character) and
// a UTF-16 surrogate pair are never divided between two parts, as handsets
// could not reassemble them; the part is closed early instead. This matches
// how carriers and Twilio split messages, so the count is what gets billed.
func CountSegments(body string) SegmentCount {
	c := SegmentCount{Encoding: EncodingGSM7, Characters: utf8.RuneCountInString(body)}
	for _, r := range body {
		w := gsm7Septets(r)
		if w == 0 {
			c.Encoding = EncodingUCS2
			break
		}
		c.Units += w
	}
	single, multi, width := GSM7SingleSegment, GSM7MultiSegment, gsm7Septets
	if c.Encoding == EncodingUCS2 {
		single, multi, width = UCS2SingleSegment, UCS2MultiSegment, utf16Units
		c.Units = 0
		for _, r := range body {
			c.Units += utf16Units(r)
		}
	}
	switch {
	case c.Units == 0:
		c.Segments = 0
	case c.Units <= single:
		c.Segments = 1
	default:
		c.Segments = packParts(body, multi, width)
	}
	return c
}

// packParts fills parts of size units greedily, moving a character that
// would straddle a boundary to the next part.
func packParts(body string, size int, width func(rune) int) int {
	parts, used := 1, 0
	for _, r := range body {
		w := width(r)
		if used+w > size {
			parts++
			used = 0
		}
		used += w
	}
	return parts
}

// utf16Units is the number of UTF-16 code units r needs in UCS-2 (really
// UTF-16, which is what phones decode).
func utf16Units(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// gsm7Septets returns how many septets r takes in GSM-7: 1 for the basic
// table, 2 for the extension table (escape + character), 0 if r cannot be
// sent in GSM-7 at all. The tables are GSM 03.38 / 3GPP TS 23.038.
func gsm7Septets(r rune) int {
	if r < 0x80 {
		switch {
		case r == '\n' || r == '\r':
			return 1
		case r == '\f':
			return 2 // form feed is in the extension table
		case r < 0x20 || r == 0x7f || r == '`':
			return 0
		}
		switch r {
		case '[', '\\', ']', '^', '{', '|', '}', '~':
			return 2
		}
		return 1
	}
	switch r {
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å',
		'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ',
		'Æ', 'æ', 'ß', 'É', '¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
		'¿', 'ä', 'ö', 'ñ', 'ü', 'à':
		return 1
	case '€':
		return 2
	}
	return 0
}

package misimport

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hometime-edu/hometime/content"
)

// cleanCell trims the spaces exports pad cells with, including the
// no-break spaces Excel leaves behind.
func cleanCell(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\u00a0' || r == '\ufeff' })
}

// collapseSpaces turns runs of white space inside a name into one space.
func collapseSpaces(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) }) && !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// looksLikeFormula reports whether a cell would run as a formula if the file
// were opened in a spreadsheet (CSV injection): it starts — after any
// tabs, carriage returns or spaces, which Excel skips — with "=" or "@"
// followed by something, or with "+" or "-" followed by anything but what
// phone numbers and plain numbers hold. "+44 (0)7700 900123" and "-" (the
// empty marker some exports use) are data; "=HYPERLINK(…)", "@SUM(…)",
// "+cmd|' /C calc'!A0" and "-2+3" are not.
func looksLikeFormula(raw string) bool {
	s := strings.TrimLeft(raw, " \t\r\n")
	if len(s) < 2 {
		return false
	}
	switch s[0] {
	case '=', '@':
		return true
	case '+', '-':
		rest := s[1:]
		if s[0] == '-' && strings.Trim(rest, "-") == "" {
			return false
		}
		for i := 0; i < len(rest); i++ {
			c := rest[i]
			if !(c >= '0' && c <= '9') && !strings.ContainsRune(" ().-/", rune(c)) {
				return true
			}
		}
		return false
	}
	return false
}

// YearGroup turns what MIS exports write ("Year 3", "Y3", "3", "NC Year 3",
// "Reception", "YR", "FS2", "Nursery", "FS1") into one of
// content.YearGroups, or false for anything Hometime does not serve
// (secondary years included).
func YearGroup(raw string) (string, bool) {
	if strings.ContainsAny(raw, ".,") {
		return "", false // "0.5", "3,4": not a year
	}
	k := headerKey(raw) // lower case, letters and digits only
	for _, p := range []string{"ncyear", "nationalcurriculumyear", "yeargroup", "year", "yr", "y"} {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" {
			k = rest
			break
		}
	}
	switch k {
	case "r", "rec", "reception", "fs2", "f2", "eyfs2", "foundation2", "foundationstage2", "0":
		return "R", true
	case "n", "nur", "nursery", "fs1", "f1", "eyfs1", "foundation1", "foundationstage1", "n1", "n2", "e1", "e2":
		return "N", true
	}
	k = strings.TrimLeft(k, "0")
	if len(k) == 1 && k[0] >= '1' && k[0] <= '6' {
		return "Y" + k, content.ValidYearGroup("Y" + k)
	}
	return "", false
}

// Language codes Hometime writes to families in.
const (
	LangEnglish  = "en"
	LangWelsh    = "cy"
	LangPolish   = "pl"
	LangUrdu     = "ur"
	LangSpanish  = "es"
	LangRomanian = "ro"
	LangArabic   = "ar"
)

// Language turns what a school types ("Welsh", "Cymraeg", "cy", "POL",
// "Polski", "English (UK)", "en-GB") into a language code Hometime has
// templates for, or false.
func Language(raw string) (string, bool) {
	s := strings.ToLower(cleanCell(raw))
	// "English (UK)", "Polish / Polski", "en-GB", "en_GB": the first part says it.
	if i := strings.IndexAny(s, "(/,;"); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	if i := strings.IndexAny(s, "-_"); i == 2 || i == 3 {
		s = s[:i]
	}
	switch s {
	case "en", "eng", "english", "enb", "british english":
		return LangEnglish, true
	case "cy", "cym", "wel", "wls", "welsh", "cymraeg":
		return LangWelsh, true
	case "pl", "pol", "polish", "polski":
		return LangPolish, true
	case "ur", "urd", "urdu", "اردو":
		return LangUrdu, true
	case "es", "spa", "spanish", "español", "espanol", "castellano", "castilian":
		return LangSpanish, true
	case "ro", "ron", "rum", "rmn", "romanian", "română", "romana", "românește", "romaneste", "moldovan":
		return LangRomanian, true
	case "ar", "ara", "arabic", "العربية", "عربي":
		return LangArabic, true
	}
	return "", false
}

// parseBool reads the flags exports write: Y/N, Yes/No, True/False, T/F,
// 1/0. Empty is false; anything else is not a flag.
func parseBool(raw string) (value, ok bool) {
	switch strings.ToLower(raw) {
	case "", "n", "no", "false", "f", "0":
		return false, true
	case "y", "yes", "true", "t", "1":
		return true, true
	}
	return false, false
}

// upnLetters are the 23 letters of DfE's UPN check-letter alphabet (no I, O
// or S).
const upnLetters = "ABCDEFGHJKLMNPQRTUVWXYZ"

// UPN reports whether s has the shape of an English unique pupil number
// (check letter, 11 digits, then a digit or — for a temporary UPN — a
// letter), and whether its check letter matches. s is upper-cased first.
func UPN(s string) (upn string, shapeOK, checkOK bool) {
	upn = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(upn) != 13 || strings.IndexByte(upnLetters, upn[0]) < 0 {
		return upn, false, false
	}
	for i := 1; i < 12; i++ {
		if upn[i] < '0' || upn[i] > '9' {
			return upn, false, false
		}
	}
	last := upn[12]
	var lastVal int
	switch {
	case last >= '0' && last <= '9':
		lastVal = int(last - '0')
	case strings.IndexByte(upnLetters, last) >= 0:
		lastVal = strings.IndexByte(upnLetters, last)
	default:
		return upn, false, false
	}
	return upn, true, upn[0] == UPNCheckLetter(upn[1:12], lastVal)
}

// UPNCheckLetter computes the check letter of a UPN from its characters 2–12
// (digits) and the value of its 13th (a digit, or a letter's index in the
// check alphabet): weights 2–13, sum mod 23.
func UPNCheckLetter(digits string, last int) byte {
	sum := 0
	for i := 0; i < len(digits); i++ {
		sum += int(digits[i]-'0') * (i + 2)
	}
	sum += last * 13
	return upnLetters[sum%23]
}

// Email checks and normalises an address: net/mail must read it as a bare
// address (no display name, one address), the domain must be dotted and
// sane, and it must survive content.NormalizeContact so the suppression
// list can hash it. It is returned lower-cased: that is how suppression
// keys and household matching compare addresses.
func Email(raw string) (string, bool) {
	s := cleanCell(raw)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " ,;<>") || !utf8.ValidString(s) {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", false
		}
	}
	if tld := labels[len(labels)-1]; len(tld) < 2 || strings.ContainsAny(tld, "0123456789") {
		return "", false
	}
	n, err := content.NormalizeContact(content.SuppressionEmail, s)
	if err != nil {
		return "", false
	}
	return n, true
}

// parsePriority reads a contact priority: a small whole number.
func parsePriority(raw string) (int, bool) {
	if raw == "" {
		return 0, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > 99 {
		return 0, false
	}
	return n, true
}

// nameTitles are dropped from the front of a contact's whole name.
func isTitle(w string) bool {
	switch strings.ToLower(strings.TrimSuffix(w, ".")) {
	case "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "revd", "sir", "dame", "lady", "lord":
		return true
	}
	return false
}

// splitName splits a contact's whole name into first and last names:
// "Smith, Jane" → Jane / Smith; "Mrs Jane Smith" → Jane / Smith; "Mrs J
// Smith" → J / Smith; "Jane" → Jane / "".
func splitName(raw string) (first, last string) {
	s := collapseSpaces(raw)
	if l, f, ok := strings.Cut(s, ","); ok {
		first, last = strings.TrimSpace(f), strings.TrimSpace(l)
		if ws := strings.Fields(first); len(ws) > 1 && isTitle(ws[0]) {
			first = strings.Join(ws[1:], " ")
		} else if len(ws) == 1 && isTitle(ws[0]) {
			first = ""
		}
		return first, last
	}
	ws := strings.Fields(s)
	titled := false
	for len(ws) > 1 && isTitle(ws[0]) {
		ws, titled = ws[1:], true
	}
	switch len(ws) {
	case 0:
		return "", ""
	case 1:
		if titled { // "Mrs Smith"
			return "", ws[0]
		}
		return ws[0], ""
	}
	return strings.Join(ws[:len(ws)-1], " "), ws[len(ws)-1]
}

package api

import (
	"net/mail"
	"strings"

	"github.com/hometime-edu/hometime/content"
	"github.com/nyaruka/phonenumbers"
)

// normalizeEmail returns the canonical sign-in form of an email, or "".
func normalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 254 {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return ""
	}
	return strings.ToLower(s)
}

// normalizePhone returns E.164 for a valid number, parsing national numbers
// in region (ISO country). IsValidNumber, not IsValidNumberForRegion: GG, JE
// and IM numbers share +44 and are valid for UK schools.
func normalizePhone(s, region string) string {
	if region == "" {
		region = "GB"
	}
	n, err := phonenumbers.Parse(strings.TrimSpace(s), region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

func loginKey(kind content.AccountKind, by, value string) string {
	return string(kind) + ":" + by + ":" + value
}

package api

import (
	"net/mail"
	"strings"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/phone"
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
// in region (ISO country; GB when empty), or "".
func normalizePhone(s, region string) string {
	if region == "" {
		region = "GB"
	}
	e164, err := phone.Numbers{}.E164(s, region)
	if err != nil {
		return ""
	}
	return e164
}

func loginKey(kind content.AccountKind, by, value string) string {
	return string(kind) + ":" + by + ":" + value
}

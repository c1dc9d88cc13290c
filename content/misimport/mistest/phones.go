// Package mistest is test support for misimport: a fake phone-number
// normaliser and a deterministic generator of MIS exports that knows the
// exact numbers a dry run of what it wrote must produce.
package mistest

import (
	"errors"
	"strings"

	"github.com/hometime-edu/hometime/content/misimport"
)

// UKPhones is a TEST FAKE of misimport.Phones that knows just enough of
// the UK numbering plan for generated files: 07… and +447… are mobiles,
// 01…/02… (and +441…/+442…) are landlines, anything else is invalid, and
// any region but GB is refused. Production wires a real phone-number
// library instead.
type UKPhones struct{}

var _ misimport.Phones = UKPhones{}

var errNotUKNumber = errors.New("not a UK phone number")

// Normalize implements misimport.Phones.
func (UKPhones) Normalize(raw, region string) (string, bool, error) {
	if !strings.EqualFold(region, "GB") {
		return "", false, errors.New("the fake only knows GB")
	}
	s := strings.ReplaceAll(raw, "(0)", "")
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.':
			return -1
		}
		return r
	}, s)
	var nsn string
	switch {
	case strings.HasPrefix(s, "+44"):
		nsn = s[3:]
	case strings.HasPrefix(s, "0044"):
		nsn = s[4:]
	case strings.HasPrefix(s, "0"):
		nsn = s[1:]
	default:
		return "", false, errNotUKNumber
	}
	for i := 0; i < len(nsn); i++ {
		if nsn[i] < '0' || nsn[i] > '9' {
			return "", false, errNotUKNumber
		}
	}
	switch {
	case len(nsn) == 10 && nsn[0] == '7':
		return "+44" + nsn, true, nil
	case (len(nsn) == 9 || len(nsn) == 10) && (nsn[0] == '1' || nsn[0] == '2'):
		return "+44" + nsn, false, nil
	}
	return "", false, errNotUKNumber
}

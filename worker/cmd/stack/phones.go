package stack

import (
	"errors"
	"strings"

	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/nyaruka/phonenumbers"
)

// Phones is misimport.Phones on libphonenumber (nyaruka/phonenumbers): a
// number as a school typed it, read in the school's country, to E.164,
// with whether it can take texts. The API's import dry run and commit get
// it through api.Deps.Phones; content itself may not import the library.
type Phones struct{}

var _ misimport.Phones = Phones{}

var (
	errInvalidNumber = errors.New("not a valid phone number for the region")
	errNoRegion      = errors.New("no region to read the number in")
)

// Normalize implements misimport.Phones. Only numbers libphonenumber
// classes as mobile (or, where a country does not tell them apart, fixed
// line or mobile) are mobile; pagers, premium and shared-cost numbers,
// VoIP and landlines are not texted.
func (Phones) Normalize(raw, region string) (string, bool, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		return "", false, errNoRegion
	}
	n, err := phonenumbers.Parse(strings.TrimSpace(raw), region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false, errInvalidNumber
	}
	t := phonenumbers.GetNumberType(n)
	return phonenumbers.Format(n, phonenumbers.E164), t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE, nil
}

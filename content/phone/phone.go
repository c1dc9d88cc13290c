// Package phone reads phone numbers with libphonenumber (nyaruka/phonenumbers),
// the one package that imports it: a number as someone typed it, read in a
// country, to E.164, and whether a number can take texts. Its cache of
// mobile answers is a value the caller makes (one per process), never a
// package variable.
package phone

import (
	"errors"
	"hash/maphash"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

var (
	errInvalidNumber = errors.New("not a valid phone number for the region")
	errNoRegion      = errors.New("no region to read the number in")
)

// Numbers reads phone numbers. The zero value works and caches nothing;
// New gives one that remembers its mobile answers in a cache.
type Numbers struct {
	mobiles *Cache
}

// New reads numbers, remembering in c whether numbers are mobile (nil:
// remember nothing).
func New(c *Cache) Numbers { return Numbers{mobiles: c} }

// E164 reads raw (national or international) in region (ISO 3166-1
// alpha-2, any case) and returns it in E.164. It asks IsValidNumber, not
// IsValidNumberForRegion: GG, JE and IM numbers share +44 and are valid
// for UK schools.
func (Numbers) E164(raw, region string) (string, error) {
	n, err := parse(raw, region)
	if err != nil {
		return "", err
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Normalize is E164 with whether the number can take texts (it satisfies
// misimport.Phones). Only numbers libphonenumber classes as mobile (or,
// where a country does not tell them apart, fixed line or mobile) are
// mobile; pagers, premium and shared-cost numbers, VoIP and landlines are
// not texted.
func (Numbers) Normalize(raw, region string) (string, bool, error) {
	n, err := parse(raw, region)
	if err != nil {
		return "", false, err
	}
	return phonenumbers.Format(n, phonenumbers.E164), mobileType(n), nil
}

// IsMobile reports whether an E.164 number can receive SMS: false for
// anything not E.164 or not valid. Answers come from the cache when the
// number was asked about recently (a message asks twice: when its
// broadcast is expanded and again when it is sent).
func (p Numbers) IsMobile(e164 string) bool {
	if p.mobiles == nil {
		return mobileLineType(e164)
	}
	return p.mobiles.get(e164)
}

func parse(raw, region string) (*phonenumbers.PhoneNumber, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		return nil, errNoRegion
	}
	n, err := phonenumbers.Parse(strings.TrimSpace(raw), region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return nil, errInvalidNumber
	}
	return n, nil
}

func mobileType(n *phonenumbers.PhoneNumber) bool {
	t := phonenumbers.GetNumberType(n)
	return t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
}

// mobileLineType answers IsMobile from the number's patterns. GetNumberType
// is UNKNOWN for a number that is not valid, so it decides validity too
// (IsValidNumber first would match the region's patterns twice).
func mobileLineType(e164 string) bool {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return false
	}
	return mobileType(n)
}

// cacheSize is how many answers each of the cache's two generations holds
// (about 20 bytes each).
const cacheSize = 1 << 16

// Cache remembers whether numbers are mobile by a seeded hash of the
// number, so it keeps no number: when the current generation fills, the
// previous one is dropped, so it holds the last 64k to 128k numbers asked
// about. It is safe for concurrent use.
type Cache struct {
	mu        sync.Mutex
	seed      maphash.Seed
	cur, prev map[uint64]bool
}

// NewCache makes an empty cache.
func NewCache() *Cache { return &Cache{seed: maphash.MakeSeed()} }

func (c *Cache) get(e164 string) bool {
	h := maphash.String(c.seed, e164)
	c.mu.Lock()
	yes, ok := c.cur[h]
	if !ok {
		yes, ok = c.prev[h]
	}
	c.mu.Unlock()
	if ok {
		return yes
	}
	yes = mobileLineType(e164)
	c.mu.Lock()
	if c.cur == nil || len(c.cur) >= cacheSize {
		c.prev, c.cur = c.cur, make(map[uint64]bool, 1024)
	}
	c.cur[h] = yes
	c.mu.Unlock()
	return yes
}

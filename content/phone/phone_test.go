package phone

import (
	"fmt"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name, raw, region string
		e164              string
		mobile, ok        bool
	}{
		{"UK mobile, national", "07911 123456", "GB", "+447911123456", true, true},
		{"UK mobile, international with (0)", "+44 (0)7911 123456", "GB", "+447911123456", true, true},
		{"UK mobile, 0044", "0044 7911 123456", "gb", "+447911123456", true, true},
		{"UK landline", "020 7946 0018", "GB", "+442079460018", false, true},
		{"UK premium rate", "09098 790000", "GB", "+449098790000", false, true},
		{"Polish mobile typed in full", "+48 512 345 678", "GB", "+48512345678", true, true},
		{"too short", "07911 123", "GB", "", false, false},
		{"letters", "call me", "GB", "", false, false},
		{"no region", "07911 123456", "", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, mobile, err := New(nil).Normalize(c.raw, c.region)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if got != c.e164 || mobile != c.mobile {
				t.Fatalf("Normalize(%q) = %q, mobile %v; want %q, %v", c.raw, got, mobile, c.e164, c.mobile)
			}
		})
	}
}

func TestE164(t *testing.T) {
	t.Parallel()
	var p Numbers
	for _, c := range []struct{ raw, region, want string }{
		{"07911 123456", "GB", "+447911123456"},
		{" +44 7911 123456 ", "GB", "+447911123456"},
		{"07781 123456", "GB", "+447781123456"}, // Guernsey: +44, valid for a UK school
		{"07911 123", "GB", ""},
		{"07911 123456", "", ""},
	} {
		got, err := p.E164(c.raw, c.region)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("E164(%q, %q) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
}

func TestCacheKeepsTwoGenerations(t *testing.T) {
	t.Parallel()
	c := NewCache()
	for i := range cacheSize + 10 {
		c.get(fmt.Sprintf("+4479%08d", i))
	}
	if len(c.cur) != 10 || len(c.prev) != cacheSize {
		t.Fatalf("generations hold %d and %d answers, want 10 and %d", len(c.cur), len(c.prev), cacheSize)
	}
	// An answer is the same from the cache as from the patterns.
	for _, n := range []string{"+447911123456", "+442079460000"} {
		if c.get(n) != mobileLineType(n) || c.get(n) != mobileLineType(n) {
			t.Fatalf("cached answer for %q differs", n)
		}
	}
}

func TestIsMobile(t *testing.T) {
	t.Parallel()
	cached, uncached := New(NewCache()), Numbers{}
	for _, c := range []struct {
		number string
		want   bool
	}{
		{"+447911123456", true},  // UK mobile
		{"+442079460000", false}, // London landline
		{"+4477009", false},      // too short: not a valid number
		{"+12015550123", true},   // NANPA: fixed line or mobile
		{"+448001111111", false}, // UK freephone
		{"07700900123", false},   // not E.164
		{"", false},
	} {
		if got := uncached.IsMobile(c.number); got != c.want {
			t.Errorf("IsMobile(%q) without a cache = %v, want %v", c.number, got, c.want)
		}
		// Asked again, the cache answers the same.
		for range 2 {
			if got := cached.IsMobile(c.number); got != c.want {
				t.Errorf("IsMobile(%q) = %v, want %v", c.number, got, c.want)
			}
		}
	}
}

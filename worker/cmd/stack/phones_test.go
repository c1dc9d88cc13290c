package stack

import "testing"

func TestPhonesNormalize(t *testing.T) {
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
			got, mobile, err := Phones{}.Normalize(c.raw, c.region)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if got != c.e164 || mobile != c.mobile {
				t.Fatalf("Normalize(%q) = %q, mobile %v; want %q, %v", c.raw, got, mobile, c.e164, c.mobile)
			}
		})
	}
}

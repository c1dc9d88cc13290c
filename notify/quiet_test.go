package notify

import (
	"errors"
	"testing"
	"time"
)

// mustQuiet is a test helper: quiet hours that must build.
func mustQuiet(t *testing.T, zone, start, end string) QuietHours {
	t.Helper()
	q, err := NewQuietHours(zone, start, end)
	if err != nil {
		t.Fatalf("NewQuietHours(%q, %q, %q): %v", zone, start, end, err)
	}
	return q
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNewQuietHoursValidates(t *testing.T) {
	tests := []struct {
		name             string
		zone, start, end string
		want             error
		enabled          bool
	}{
		{"default London", "Europe/London", DefaultQuietStart, DefaultQuietEnd, nil, true},
		{"start equals end means none", "Europe/London", "20:00", "20:00", nil, false},
		{"midnight bounds", "UTC", "00:00", "23:59", nil, true},
		{"empty zone", "", "20:00", "07:30", ErrInvalidTimeZone, false},
		{"server local zone refused", "Local", "20:00", "07:30", ErrInvalidTimeZone, false},
		{"unknown zone", "Mars/Olympus_Mons", "20:00", "07:30", ErrInvalidTimeZone, false},
		{"zone names are case-sensitive", "europe/london", "20:00", "07:30", ErrInvalidTimeZone, false},
		{"single-digit hour", "Europe/London", "7:30", "20:00", ErrInvalidClockTime, false},
		{"hour 24", "Europe/London", "24:00", "07:30", ErrInvalidClockTime, false},
		{"minute 60", "Europe/London", "20:00", "07:60", ErrInvalidClockTime, false},
		{"no colon", "Europe/London", "2000", "07:30", ErrInvalidClockTime, false},
		{"signed", "Europe/London", "+1:00", "07:30", ErrInvalidClockTime, false},
		{"seconds", "Europe/London", "20:00:00", "07:30", ErrInvalidClockTime, false},
		{"letters", "Europe/London", "20:00", "ab:cd", ErrInvalidClockTime, false},
		{"empty time", "Europe/London", "", "07:30", ErrInvalidClockTime, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := NewQuietHours(tt.zone, tt.start, tt.end)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if q.Enabled() != tt.enabled {
				t.Errorf("Enabled() = %v, want %v", q.Enabled(), tt.enabled)
			}
		})
	}
}

func TestQuietHoursString(t *testing.T) {
	if got := mustQuiet(t, "Europe/London", "20:00", "07:30").String(); got != "20:00-07:30 Europe/London" {
		t.Errorf("String() = %q", got)
	}
	if got := (QuietHours{}).String(); got != "none" {
		t.Errorf("zero String() = %q", got)
	}
}

func TestInQuietHours(t *testing.T) {
	london := mustQuiet(t, "Europe/London", "20:00", "07:30")
	daytime := mustQuiet(t, "Europe/London", "09:00", "17:00")
	none := mustQuiet(t, "Europe/London", "20:00", "20:00")
	tests := []struct {
		name string
		q    QuietHours
		at   string // UTC
		want bool
	}{
		{"summer 19:59:59 BST", london, "2026-06-15T18:59:59Z", false},
		{"summer 20:00 BST starts", london, "2026-06-15T19:00:00Z", true},
		{"summer 23:59 BST", london, "2026-06-15T22:59:00Z", true},
		{"summer midnight BST", london, "2026-06-15T23:00:00Z", true},
		{"summer 07:29:59.999 BST", london, "2026-06-16T06:29:59.999Z", true},
		{"summer 07:30 BST ends", london, "2026-06-16T06:30:00Z", false},
		{"summer noon", london, "2026-06-16T11:00:00Z", false},
		{"winter 19:59 GMT", london, "2026-01-15T19:59:00Z", false},
		{"winter 20:00 GMT", london, "2026-01-15T20:00:00Z", true},
		{"winter 07:30 GMT", london, "2026-01-16T07:30:00Z", false},
		{"same instant in another zone", london, "2026-06-15T15:30:00-04:00", true}, // 20:30 BST
		{"non-wrapping before", daytime, "2026-06-15T07:59:00Z", false},
		{"non-wrapping start", daytime, "2026-06-15T08:00:00Z", true},
		{"non-wrapping end", daytime, "2026-06-15T16:00:00Z", false},
		{"no window", none, "2026-06-15T21:00:00Z", false},
		{"zero value", QuietHours{}, "2026-06-15T21:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.InQuietHours(utc(tt.at)); got != tt.want {
				t.Errorf("InQuietHours(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestNextSendTime(t *testing.T) {
	london := mustQuiet(t, "Europe/London", "20:00", "07:30")
	tests := []struct {
		name string
		q    QuietHours
		at   string // instant asked about
		want string // instant expected, UTC
	}{
		{"outside quiet hours sends now", london, "2026-06-15T11:00:00Z", "2026-06-15T11:00:00Z"},
		{"summer evening waits for 07:30 BST", london, "2026-06-15T20:30:00Z", "2026-06-16T06:30:00Z"},
		{"summer small hours wait the same morning", london, "2026-06-16T02:00:00Z", "2026-06-16T06:30:00Z"},
		{"exactly at start", london, "2026-06-15T19:00:00Z", "2026-06-16T06:30:00Z"},
		{"one nanosecond before end", london, "2026-06-16T06:29:59.999999999Z", "2026-06-16T06:30:00Z"},
		{"winter evening waits for 07:30 GMT", london, "2026-01-15T21:30:00Z", "2026-01-16T07:30:00Z"},

		// Spring forward, Sunday 2026-03-29 01:00 GMT -> 02:00 BST.
		{"21:30 GMT the evening before spring forward -> 07:30 BST", london, "2026-03-28T21:30:00Z", "2026-03-29T06:30:00Z"},
		{"00:30 GMT just before the jump -> 07:30 BST", london, "2026-03-29T00:30:00Z", "2026-03-29T06:30:00Z"},
		{"03:00 BST just after the jump -> 07:30 BST", london, "2026-03-29T02:00:00Z", "2026-03-29T06:30:00Z"},
		{"21:30 BST the day of the change -> next 07:30 BST", london, "2026-03-29T20:30:00Z", "2026-03-30T06:30:00Z"},

		// Fall back, Sunday 2026-10-25 02:00 BST -> 01:00 GMT.
		{"21:30 BST the evening before fall back -> 07:30 GMT", london, "2026-10-24T20:30:00Z", "2026-10-25T07:30:00Z"},
		{"01:30 BST (first pass) -> 07:30 GMT", london, "2026-10-25T00:30:00Z", "2026-10-25T07:30:00Z"},
		{"01:30 GMT (second pass) -> 07:30 GMT", london, "2026-10-25T01:30:00Z", "2026-10-25T07:30:00Z"},
		{"21:30 GMT the day of the change -> next 07:30 GMT", london, "2026-10-25T21:30:00Z", "2026-10-26T07:30:00Z"},

		// Window ends inside the spring-forward gap (01:00-02:00 local never happens):
		// quiet hours end at the jump, 02:00 BST = 01:00 UTC.
		{"end in the gap ends at the jump", mustQuiet(t, "Europe/London", "22:00", "01:30"), "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z"},
		// Window ends inside the repeated hour: first occurrence, 01:30 BST.
		{"end in the repeated hour, first pass", mustQuiet(t, "Europe/London", "22:00", "01:30"), "2026-10-24T23:15:00Z", "2026-10-25T00:30:00Z"},
		// 01:10 GMT (second pass) reads as quiet again and waits for 01:30 GMT.
		{"end in the repeated hour, second pass", mustQuiet(t, "Europe/London", "22:00", "01:30"), "2026-10-25T01:10:00Z", "2026-10-25T01:30:00Z"},
		// Window starts inside the gap: 02:00 BST is already past the start.
		{"start in the gap", mustQuiet(t, "Europe/London", "01:30", "07:30"), "2026-03-29T01:00:00Z", "2026-03-29T06:30:00Z"},

		{"daytime window", mustQuiet(t, "Europe/London", "09:00", "17:00"), "2026-06-15T09:00:00Z", "2026-06-15T16:00:00Z"},
		{"no window", mustQuiet(t, "Europe/London", "20:00", "20:00"), "2026-06-15T21:00:00Z", "2026-06-15T21:00:00Z"},
		{"zero value", QuietHours{}, "2026-06-15T21:00:00Z", "2026-06-15T21:00:00Z"},
		// US spring forward 2026-03-08 02:00 EST -> 03:00 EDT.
		{"New York spring forward", mustQuiet(t, "America/New_York", "20:00", "07:30"), "2026-03-08T02:30:00Z", "2026-03-08T11:30:00Z"},
		// Sydney falls back 2026-04-05 03:00 AEDT -> 02:00 AEST.
		{"Sydney fall back", mustQuiet(t, "Australia/Sydney", "20:00", "07:30"), "2026-04-04T10:30:00Z", "2026-04-04T21:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := utc(tt.at)
			got := tt.q.NextSendTime(at)
			if want := utc(tt.want); !got.Equal(want) {
				t.Fatalf("NextSendTime(%s) = %s (%s UTC), want %s", tt.at, got, got.UTC(), want)
			}
			if tt.q.InQuietHours(got) {
				t.Errorf("NextSendTime returned %s, which is in quiet hours", got)
			}
			if loc := tt.q.Location(); loc != nil && got.Location() != loc {
				t.Errorf("result in %s, want the school's zone %s", got.Location(), loc)
			}
		})
	}
}

// TestNextSendTimeIsFirstQuietExit checks the definition itself over a whole
// year in several zones: the result is not quiet, and every minute from the
// asked instant up to it is quiet.
func TestNextSendTimeIsFirstQuietExit(t *testing.T) {
	windows := [][2]string{{"20:00", "07:30"}, {"22:00", "01:30"}, {"00:30", "02:30"}, {"09:00", "17:00"}, {"23:30", "00:15"}}
	zones := []string{"Europe/London", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata"}
	for _, zone := range zones {
		for _, w := range windows {
			q := mustQuiet(t, zone, w[0], w[1])
			t.Run(q.String(), func(t *testing.T) {
				start := utc("2026-01-01T00:00:00Z")
				for at := start; at.Year() == 2026; at = at.Add(157 * time.Minute) {
					got := q.NextSendTime(at)
					if got.Before(at) || q.InQuietHours(got) {
						t.Fatalf("NextSendTime(%s) = %s: before t or still quiet", at, got)
					}
					if got.Sub(at) > 25*time.Hour {
						t.Fatalf("NextSendTime(%s) = %s: waits more than a day", at, got)
					}
					for m := at; m.Before(got); m = m.Add(time.Minute) {
						if !q.InQuietHours(m) {
							t.Fatalf("NextSendTime(%s) = %s, but %s is already outside quiet hours", at, got, m)
						}
					}
				}
			})
		}
	}
}

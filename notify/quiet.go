package notify

import (
	"errors"
	"fmt"
	"time"

	// Quiet hours must not silently break in a minimal container image that
	// has no /usr/share/zoneinfo; the embedded database (~450 KB) is the
	// fallback Go uses only when the system one is missing.
	_ "time/tzdata"
)

// Default quiet hours for a new school: no non-urgent messages
// between 20:00 and 07:30 school-local time.
const (
	DefaultQuietStart = "20:00"
	DefaultQuietEnd   = "07:30"
)

// Errors from NewQuietHours, for callers validating school settings.
var (
	ErrInvalidTimeZone  = errors.New("invalid time zone")
	ErrInvalidClockTime = errors.New("invalid clock time, want HH:MM (00:00-23:59)")
)

// QuietHours is a school's daily window, in its own time zone, during which
// non-urgent messages wait. The window is [start, end) in local wall-clock
// time and may wrap midnight (20:00-07:30). The zero value has no quiet hours.
//
// Whether an instant is quiet depends only on the wall-clock time a person
// in that zone sees at that instant. Across daylight-saving changes this
// means:
//   - spring forward: local times in the gap never happen. If the window end
//     falls in the gap (e.g. end 01:30 when 01:00 jumps to 02:00), quiet
//     hours end at the jump itself (02:00 new time), the first moment the
//     clock reads later than the end; nothing waits for an hour that never
//     comes.
//   - fall back: local times in the repeated hour happen twice, and each
//     occurrence is judged by its wall clock. An end inside the repeated hour
//     (01:30) is reached at its first occurrence.
//
// With the usual evening-to-morning window neither case arises in
// Europe/London (changes happen at 01:00/02:00, inside the window); what
// matters there is that the deferred send lands on 07:30 local, whose UTC
// instant differs by an hour either side of a change.
type QuietHours struct {
	loc        *time.Location
	start, end time.Duration // offsets from local midnight
}

// NewQuietHours builds quiet hours from an IANA zone name (e.g.
// "Europe/London") and start and end times as "HH:MM". start == end means no
// quiet hours. "Local" and "" are refused: a school's zone must be explicit,
// never the server's.
func NewQuietHours(zone, start, end string) (QuietHours, error) {
	if zone == "" || zone == "Local" {
		return QuietHours{}, fmt.Errorf("quiet hours: %w: %q", ErrInvalidTimeZone, zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours: %w: %q: %v", ErrInvalidTimeZone, zone, err)
	}
	s, err := parseClock(start)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours start: %w", err)
	}
	e, err := parseClock(end)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours end: %w", err)
	}
	return QuietHours{loc: loc, start: s, end: e}, nil
}

// parseClock reads a strict "HH:MM" 24-hour time as an offset from midnight.
func parseClock(s string) (time.Duration, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidClockTime, s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%w: %q", ErrInvalidClockTime, s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Enabled reports whether there is any quiet window at all.
func (q QuietHours) Enabled() bool { return q.loc != nil && q.start != q.end }

// Location is the school's time zone (nil for the zero value).
func (q QuietHours) Location() *time.Location { return q.loc }

// String renders the window as "20:00-07:30 Europe/London", or "none".
func (q QuietHours) String() string {
	if !q.Enabled() {
		return "none"
	}
	return fmt.Sprintf("%s-%s %s", formatClock(q.start), formatClock(q.end), q.loc)
}

func formatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// InQuietHours reports whether a non-urgent message must not be sent at t.
func (q QuietHours) InQuietHours(t time.Time) bool {
	if !q.Enabled() {
		return false
	}
	tod := timeOfDay(t.In(q.loc))
	if q.start < q.end {
		return tod >= q.start && tod < q.end
	}
	return tod >= q.start || tod < q.end
}

// NextSendTime returns the first instant at or after t outside quiet hours:
// t itself if t is not quiet, otherwise normally the window end in local
// time (see QuietHours for daylight-saving gaps). The result is in the
// school's zone.
func (q QuietHours) NextSendTime(t time.Time) time.Time {
	cur := t
	if q.loc != nil {
		cur = t.In(q.loc)
	}
	// Between two zone transitions the UTC offset is fixed, so the wall clock
	// moves with real time and the end is reached after (end - now) mod 24h.
	// If a transition comes first, judge again from the transition instant,
	// where the wall clock may have jumped. Real zones change offset at most
	// a few times a year, so a handful of steps always suffices.
	for range 4 {
		if !q.InQuietHours(cur) {
			return cur
		}
		wait := (q.end - timeOfDay(cur) + 24*time.Hour) % (24 * time.Hour)
		cand := cur.Add(wait)
		_, next := cur.ZoneBounds()
		if next.IsZero() || cand.Before(next) {
			return cand
		}
		cur = next.In(q.loc)
	}
	return cur
}

// timeOfDay is how long after local midnight the wall clock of t reads.
func timeOfDay(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}

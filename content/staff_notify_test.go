package content

import (
	"testing"
	"time"
)

func TestWorkingHoursWithinAndNextStart(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	w := DefaultWorkingHours // Mon–Fri 07:30–18:00
	for _, c := range []struct {
		name   string
		at     time.Time
		within bool
		next   time.Time
	}{
		{"Monday morning in hours", time.Date(2026, 11, 2, 10, 0, 0, 0, london), true, time.Date(2026, 11, 3, 7, 30, 0, 0, london)},
		{"at the start", time.Date(2026, 11, 2, 7, 30, 0, 0, london), true, time.Date(2026, 11, 3, 7, 30, 0, 0, london)},
		{"at the end", time.Date(2026, 11, 2, 18, 0, 0, 0, london), false, time.Date(2026, 11, 3, 7, 30, 0, 0, london)},
		{"before the start", time.Date(2026, 11, 2, 6, 0, 0, 0, london), false, time.Date(2026, 11, 2, 7, 30, 0, 0, london)},
		{"Friday evening waits for Monday", time.Date(2026, 11, 6, 21, 0, 0, 0, london), false, time.Date(2026, 11, 9, 7, 30, 0, 0, london)},
		{"Saturday", time.Date(2026, 11, 7, 12, 0, 0, 0, london), false, time.Date(2026, 11, 9, 7, 30, 0, 0, london)},
		// Clocks go forward on Sunday 29 March 2026: Monday starts at 07:30 BST.
		{"over the clock change", time.Date(2026, 3, 27, 19, 0, 0, 0, london), false, time.Date(2026, 3, 30, 7, 30, 0, 0, london)},
	} {
		if got := w.Within(c.at, london); got != c.within {
			t.Errorf("%s: Within = %v", c.name, got)
		}
		if got := w.NextStart(c.at, london); !got.Equal(c.next) {
			t.Errorf("%s: NextStart = %v, want %v", c.name, got, c.next)
		}
	}
	if got := (WorkingHours{StartMinute: 480, EndMinute: 960}).NextStart(time.Now(), london); !got.IsZero() {
		t.Errorf("no working days: NextStart = %v, want zero", got)
	}
	if got := time.Date(2026, 3, 30, 7, 30, 0, 0, london).UTC(); got.Hour() != 6 {
		t.Errorf("BST start is %v UTC", got)
	}
}

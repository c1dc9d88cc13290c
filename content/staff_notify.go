package content

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// DefaultWorkingHours are a staff member's working hours until they set
// their own: weekdays 07:30–18:00 in the school's time zone.
var DefaultWorkingHours = WorkingHours{StartMinute: 7*60 + 30, EndMinute: 18 * 60,
	Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}

// WorkingHoursOf is the staff member's working hours, or the default.
func WorkingHoursOf(st *Staff) WorkingHours {
	if st.WorkingHours != nil {
		return *st.WorkingHours
	}
	return DefaultWorkingHours
}

// Within reports whether t falls inside the working hours, read in loc
// (the school's time zone): on a day worked, at or after the start and
// before the end.
func (w WorkingHours) Within(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	if !slices.Contains(w.Days, lt.Weekday()) {
		return false
	}
	m := lt.Hour()*60 + lt.Minute()
	return m >= w.StartMinute && m < w.EndMinute
}

// NextStart is the first start of working hours after t, in loc; the zero
// time if no day is worked. Days are built with time.Date, so a day whose
// clocks change still starts at its wall-clock start.
func (w WorkingHours) NextStart(t time.Time, loc *time.Location) time.Time {
	if len(w.Days) == 0 {
		return time.Time{}
	}
	lt := t.In(loc)
	for d := 0; d <= 7; d++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+d, 0, 0, 0, 0, loc)
		if !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), w.StartMinute/60, w.StartMinute%60, 0, 0, loc)
		if start.After(t) {
			return start
		}
	}
	return time.Time{}
}

// StaffSettings keeps what a staff member sets for themselves on the staff
// document: their push devices, working hours and digest choice. Every
// write is by _id.
type StaffSettings interface {
	// PutStaffDevice registers or refreshes d for the staff member, taking
	// it from any parent or other staff member that had it (one phone,
	// one owner); at most MaxDevicesPerParent are kept.
	PutStaffDevice(ctx context.Context, staffID string, d Device) error
	// RemoveStaffDevice drops the device; CodeNotFound if it is not theirs.
	RemoveStaffDevice(ctx context.Context, staffID, deviceID string) error
	// SetStaffSettings replaces the working hours (nil: the default) and
	// the digest opt-out.
	SetStaffSettings(ctx context.Context, staffID string, hours *WorkingHours, digestOff bool) error
}

// StaffPush records that one event's push went to one staff member, so a
// task that runs again sends nothing twice. Its id is a hash: the record
// names neither the event nor the person.
type StaffPush struct {
	ID       string
	SchoolID string
	At       time.Time
}

// StaffPushID names the push of one event (kind and ref) to one staff member.
func StaffPushID(kind, refID, staffID string) string {
	h := sha256.Sum256([]byte("staff-push\x00" + kind + "\x00" + refID + "\x00" + staffID))
	return "spu_" + hex.EncodeToString(h[:16])
}

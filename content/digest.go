package content

import (
	"context"
	"strings"
	"time"
)

// Due-date reminders and the household digest: when each is sent, in the
// school's time zone, and the fixed IDs that make a re-run send nothing new.

const (
	// DueReminderHour is the local hour, on the day before an assignment's
	// due date, when families that have not sent anything back for it are
	// reminded: after school, well before the default quiet hours.
	DueReminderHour = 16
	// DigestHour is the local hour of the household digest.
	DigestHour = 17
	// DigestMinChildren is how many linked children a parent needs to
	// choose the digest: with one child there is nothing to bundle.
	DigestMinChildren = 2
	// DigestHeldMax bounds the held broadcasts one digest reads.
	DigestHeldMax = 100
)

// DueDate is the calendar day (YYYY-MM-DD) an assignment is due, at the
// school.
func DueDate(due time.Time, loc *time.Location) string {
	return due.In(loc).Format(time.DateOnly)
}

// DueReminderAt is when families are reminded of an assignment due at due:
// DueReminderHour on the day before its due date, at the school.
func DueReminderAt(due time.Time, loc *time.Location) time.Time {
	d := due.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day()-1, DueReminderHour, 0, 0, 0, loc)
}

// DueReminderBroadcastID is the reminder broadcast of an assignment due on
// dueDate (YYYY-MM-DD): one per assignment and due date, so a re-run
// publishes it once and a due date moved to another day is reminded anew.
func DueReminderBroadcastID(assignmentID, dueDate string) string {
	return "brd_due_" + assignmentID + "_" + strings.ReplaceAll(dueDate, "-", "")
}

// DigestDay is the digest a push held at at belongs to, at a school in loc:
// today's if DigestHour has not yet come, else tomorrow's; and when that
// digest is sent.
func DigestDay(at time.Time, loc *time.Location) (day string, sendAt time.Time) {
	l := at.In(loc)
	sendAt = time.Date(l.Year(), l.Month(), l.Day(), DigestHour, 0, 0, 0, loc)
	if !at.Before(sendAt) {
		sendAt = time.Date(l.Year(), l.Month(), l.Day()+1, DigestHour, 0, 0, 0, loc)
	}
	return sendAt.Format(time.DateOnly), sendAt
}

// DigestBroadcastID is the digest broadcast of a parent's held pushes from
// one school on one day.
func DigestBroadcastID(parentID, day, schoolID string) string {
	return "brd_dg_" + parentID + "_" + strings.ReplaceAll(day, "-", "") + "_" + schoolID
}

// LinkedChildren counts the parent's live links to children.
func (p *Parent) LinkedChildren() int {
	n := 0
	for _, c := range p.Children {
		if c.State == LinkLinked {
			n++
		}
	}
	return n
}

// DigestHolds records the pushes that wait for a parent's daily digest, on
// the parent's document (by _id).
type DigestHolds interface {
	// HoldForDigest records that broadcastID's push to parentID waits for
	// day's digest. Idempotent.
	HoldForDigest(ctx context.Context, parentID, day, broadcastID string) error
	// ClearDigest forgets day's held broadcasts once its digest is out.
	ClearDigest(ctx context.Context, parentID, day string) error
}

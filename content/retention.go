package content

import (
	"context"
	"time"
)

// The retention clocks (the privacy promises the system enforces: notice,
// closure, erasure and purge dates), as pure functions of a subject's dates and the time now, so
// the sweeps, the API's timeline and the tests share one reading of them.
// Months are calendar months in UTC (time.AddDate), the way a person reads
// "11 months".
const (
	NoticeAfterMonths      = 11                  // idle parent: send the inactivity notice
	CloseAfterMonths       = 12                  // idle parent: close …
	NoticeMinAge           = 30 * 24 * time.Hour // … once the notice is this old
	EraseAfterClosure      = 90 * 24 * time.Hour // closed parent: erase
	ChildPurgeAfter        = 90 * 24 * time.Hour // child removed by school and every parent
	SchoolPurgeAfter       = 42 * 24 * time.Hour // subscription ended: six weeks
	StaffDeleteAfterMonths = 24                  // staff idle two years
	AuditKeepMonths        = 12                  // audit events
	ExportLinkTTL          = 24 * time.Hour      // a parent's export can be downloaded this long
)

// ParentClock is what the parent clocks read: a projection of the parent.
type ParentClock struct {
	ID           string
	State        ParentState
	LastActiveAt time.Time
	WarnedAt     time.Time
	ClosedAt     time.Time
	CreatedAt    time.Time
	SchoolID     string // a school the parent is linked through (messages go out under it)
}

// ParentStep is what a sweep does next to one parent.
type ParentStep string

const (
	StepNone          ParentStep = ""
	StepWarn          ParentStep = "warn"           // active → warned, send the notice
	StepCancelWarning ParentStep = "cancel_warning" // warned but signed in since: back to active
	StepClose         ParentStep = "close"          // warned, idle 12 months, notice ≥ 30 days old
	StepErase         ParentStep = "erase"          // closed 90 days ago
)

// idleSince is when the parent was last seen: the last sign-in, or the
// account's creation for one never seen.
func (p ParentClock) idleSince() time.Time {
	if p.LastActiveAt.IsZero() {
		return p.CreatedAt
	}
	return p.LastActiveAt
}

// NoticeDue is when an active parent is due the inactivity notice.
func (p ParentClock) NoticeDue() time.Time { return p.idleSince().AddDate(0, NoticeAfterMonths, 0) }

// CloseDue is when a parent closes: 12 months idle, and never sooner than
// 30 days after the notice (a notice sent late pushes closure back). For a
// parent not yet warned the notice is assumed to go out when due.
func (p ParentClock) CloseDue() time.Time {
	byIdle := p.idleSince().AddDate(0, CloseAfterMonths, 0)
	warned := p.WarnedAt
	if warned.IsZero() {
		warned = p.NoticeDue()
	}
	if byNotice := warned.Add(NoticeMinAge); byNotice.After(byIdle) {
		return byNotice
	}
	return byIdle
}

// EraseDue is when a closed parent's personal data is erased.
func (p ParentClock) EraseDue() time.Time { return p.ClosedAt.Add(EraseAfterClosure) }

// NextParentStep is the one step a sweep at now takes for the parent. It is
// a function of stored state only, so a sweep that runs twice, or late,
// takes each step once: catching up after missed days is the same call.
func NextParentStep(p ParentClock, now time.Time) ParentStep {
	switch p.State {
	case ParentActive:
		if !now.Before(p.NoticeDue()) {
			return StepWarn
		}
	case ParentWarned:
		// Any sign-in since the notice cancels it and restarts the cycle.
		if p.LastActiveAt.After(p.WarnedAt) || now.Before(p.NoticeDue()) {
			return StepCancelWarning
		}
		if !now.Before(p.CloseDue()) {
			return StepClose
		}
	case ParentClosed:
		if !p.ClosedAt.IsZero() && !now.Before(p.EraseDue()) {
			return StepErase
		}
	}
	return StepNone
}

// ParentSweepFilter is what a store may leave out of a parent sweep's
// stream: active parents seen after IdleBefore, who have no step due (see
// Skips). They are most parents, and the test is one state and one date,
// so a store can apply it as a plain filter and the sweep never decodes
// the parents who used the app this year.
type ParentSweepFilter struct {
	IdleBefore time.Time
}

// minNoticeIdle is the shortest idle time after which a notice can be due:
// eleven calendar months are at least 334 days (a year less its longest
// month); a day less covers a daylight-saving hour in a local-time date.
const minNoticeIdle = (365 - 31 - 1) * 24 * time.Hour

// ParentSweepFilterAt is the filter for a sweep at now.
func ParentSweepFilterAt(now time.Time) ParentSweepFilter {
	return ParentSweepFilter{IdleBefore: now.Add(-minNoticeIdle)}
}

// Skips reports whether a store may leave p out of the sweep at the
// filter's time: an active parent last seen after IdleBefore is not due the
// notice, and an active parent has no other step.
func (f ParentSweepFilter) Skips(p ParentClock) bool {
	return p.State == ParentActive && p.LastActiveAt.After(f.IdleBefore)
}

// ParentTimeline is what "your account closes on …" shows.
type ParentTimeline struct {
	State    ParentState
	NoticeOn time.Time // when the notice is (or was) due; zero once closed
	ClosesOn time.Time // zero once closed
	ErasedOn time.Time // zero until closed
	LastSeen time.Time
	WarnedAt time.Time
	ClosedAt time.Time
}

// TimelineOf is the parent's retention timeline as of now.
func TimelineOf(p ParentClock) ParentTimeline {
	t := ParentTimeline{State: p.State, LastSeen: p.idleSince(), WarnedAt: p.WarnedAt, ClosedAt: p.ClosedAt}
	switch p.State {
	case ParentActive, ParentWarned, ParentInvited:
		t.NoticeOn, t.ClosesOn = p.NoticeDue(), p.CloseDue()
		if p.State == ParentWarned {
			t.NoticeOn = p.WarnedAt
		}
	case ParentClosed:
		t.ErasedOn = p.EraseDue()
	}
	return t
}

// ChildPurgeDue reports when a child's data is purged: 90 days after the
// later of the school's and every parent's removal. A child still linked
// to the school or to any parent is not due (re-linking resets the clock,
// since the removal times are those of the latest removals).
func ChildPurgeDue(c *Child) (time.Time, bool) {
	if c.SchoolLink.State != LinkRemoved || c.SchoolLink.RemovedAt.IsZero() {
		return time.Time{}, false
	}
	last := c.SchoolLink.RemovedAt
	for _, l := range c.Parents {
		if l.State != LinkRemoved || l.RemovedAt.IsZero() {
			return time.Time{}, false
		}
		if l.RemovedAt.After(last) {
			last = l.RemovedAt
		}
	}
	return last.Add(ChildPurgeAfter), true
}

// SchoolPurgeDue reports when an ended subscription's school is purged.
func SchoolPurgeDue(s *School) (time.Time, bool) {
	if s.Subscription.State != SubscriptionEnded || s.Subscription.EndedAt.IsZero() {
		return time.Time{}, false
	}
	return s.Subscription.EndedAt.Add(SchoolPurgeAfter), true
}

// Subscription states.
const (
	SubscriptionActive = "active"
	SubscriptionEnded  = "ended"
)

// StaffDeleteDue is when an idle staff account is deleted.
func StaffDeleteDue(lastActive, created time.Time) time.Time {
	if lastActive.IsZero() {
		lastActive = created
	}
	return lastActive.AddDate(0, StaffDeleteAfterMonths, 0)
}

// AuditCutoff is the oldest audit time kept at now.
func AuditCutoff(now time.Time) time.Time { return now.AddDate(0, -AuditKeepMonths, 0) }

// DayKey names the UTC day of t, the key that makes a daily sweep run once.
func DayKey(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Retention is what the retention sweeps and the data-rights routes need
// from the store. Streams read one projection in one pass; writes are
// single-document updates by _id, batched.
type Retention interface {
	// EachParentClock streams every parent's clock, in no set order.
	EachParentClock(ctx context.Context, fn func(ParentClock) error) error
	// EachSweepParentClock streams the clock of every parent f does not
	// skip (ParentSweepFilter.Skips), in no set order: what a parent sweep
	// reads.
	EachSweepParentClock(ctx context.Context, f ParentSweepFilter, fn func(ParentClock) error) error
	// WarnParents moves active parents to warned at at.
	WarnParents(ctx context.Context, ids []string, at time.Time) error
	// CancelWarnings moves warned parents back to active.
	CancelWarnings(ctx context.Context, ids []string) error
	// CloseParent deactivates a parent at once: state closed, every
	// session revoked, device tokens dropped. Closing a closed or erased
	// parent changes nothing.
	CloseParent(ctx context.Context, id string, at time.Time) error
	// ParentSignedIn records a sign-in: last active now, and a pending
	// inactivity notice cancelled.
	ParentSignedIn(ctx context.Context, id string, at time.Time) error

	// EachChildPurgeClock streams every child with its link states.
	EachChildPurgeClock(ctx context.Context, fn func(*Child) error) error
	// EndedSchools lists schools whose subscription has ended.
	EndedSchools(ctx context.Context) ([]*School, error)
	// EachStaffClock streams staff ids with last-active and creation times.
	EachStaffClock(ctx context.Context, fn func(id string, lastActive, created time.Time) error) error
	// DeleteAuditBefore deletes audit events older than cutoff.
	DeleteAuditBefore(ctx context.Context, cutoff time.Time) (int64, error)
}

// The invited clock: a parent a school invited who never joined is erased
// InvitedEraseAfterMonths after the last invite or reminder sent to them,
// and the school is told InvitedNoticeBefore that (its funnel shows the
// family's removal date). A new invite restarts the clock; a parent who
// joins leaves it for good (they are on the idle clock above instead).
const (
	InvitedEraseAfterMonths = 12
	InvitedNoticeBefore     = 30 * 24 * time.Hour
)

// ErasureInviteExpired is why an invited parent who never joined is erased.
const ErasureInviteExpired = "invite_expired"

// InvitedClock is what the invited clock reads: a projection of a parent
// and their invitations.
type InvitedClock struct {
	ID    string
	State ParentState
	// LastInviteAt is the latest invite or reminder send to the parent at
	// any school (the invitation's IssuedAt, renewed by every send), or the
	// parent's creation when nothing was ever sent.
	LastInviteAt time.Time
	// NoticeAt is when the school was told the family would be removed;
	// NoticeFor is the LastInviteAt that notice was about.
	NoticeAt, NoticeFor time.Time
	SchoolIDs           []string // schools the parent is linked at (told, and shown on the certificate)
}

// InvitedStep is what a sweep does next to one invited parent.
type InvitedStep string

const (
	InvitedStepNone         InvitedStep = ""
	InvitedStepNotice       InvitedStep = "invite_notice"        // tell the school
	InvitedStepCancelNotice InvitedStep = "invite_notice_cancel" // invited again since the notice
	InvitedStepErase        InvitedStep = "invite_erase"
)

// noticed reports whether the school was told about the current invite
// (a notice about an earlier one no longer counts).
func (c InvitedClock) noticed() bool {
	return !c.NoticeAt.IsZero() && !c.NoticeFor.Before(c.LastInviteAt)
}

// InviteNoticeDue is when the school is told: 30 days before the erasure.
func (c InvitedClock) InviteNoticeDue() time.Time {
	return c.LastInviteAt.AddDate(0, InvitedEraseAfterMonths, 0).Add(-InvitedNoticeBefore)
}

// InviteEraseDue is when the parent is erased: 12 months after the last
// invite, and never sooner than 30 days after the school was told (a
// notice given late pushes the erasure back). Before the notice it is the
// date the notice will announce.
func (c InvitedClock) InviteEraseDue() time.Time {
	if !c.noticed() {
		return c.LastInviteAt.AddDate(0, InvitedEraseAfterMonths, 0)
	}
	return InviteRemovalOn(c.NoticeAt, c.NoticeFor)
}

// InviteRemovalOn is the erasure date a notice given at noticeAt about the
// invite sent at lastInvite announces.
func InviteRemovalOn(noticeAt, lastInvite time.Time) time.Time {
	byInvite := lastInvite.AddDate(0, InvitedEraseAfterMonths, 0)
	if byNotice := noticeAt.Add(InvitedNoticeBefore); byNotice.After(byInvite) {
		return byNotice
	}
	return byInvite
}

// NextInvitedStep is the one step a sweep at now takes for the parent, a
// function of stored state only, so a sweep run twice (or late) takes each
// step once.
func NextInvitedStep(c InvitedClock, now time.Time) InvitedStep {
	if c.State != ParentInvited || c.LastInviteAt.IsZero() {
		return InvitedStepNone
	}
	if !c.noticed() {
		if !now.Before(c.InviteNoticeDue()) {
			return InvitedStepNotice // a stale notice is replaced by this one
		}
		if !c.NoticeAt.IsZero() {
			return InvitedStepCancelNotice
		}
		return InvitedStepNone
	}
	if !now.Before(c.InviteEraseDue()) {
		return InvitedStepErase
	}
	return InvitedStepNone
}

// InvitedRetention is what the invited clock needs from the store.
type InvitedRetention interface {
	// EachInvitedClock streams the clock of every parent still invited.
	EachInvitedClock(ctx context.Context, fn func(InvitedClock) error) error
	// NoteInviteNotice records that the parent's schools were told at at
	// about the invite sent at lastInvite.
	NoteInviteNotice(ctx context.Context, id string, at, lastInvite time.Time) error
	// CancelInviteNotice forgets a notice made stale by a new invite.
	CancelInviteNotice(ctx context.Context, id string) error
}

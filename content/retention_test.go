package content

import (
	"testing"
	"time"
)

func TestNextParentStep(t *testing.T) {
	t0 := time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC)
	d := 24 * time.Hour
	for _, tc := range []struct {
		name string
		p    ParentClock
		now  time.Time
		want ParentStep
	}{
		{"active, idle under 11 months", ParentClock{State: ParentActive, LastActiveAt: t0}, t0.AddDate(0, 11, 0).Add(-time.Second), StepNone},
		{"active, idle 11 months", ParentClock{State: ParentActive, LastActiveAt: t0}, t0.AddDate(0, 11, 0), StepWarn},
		{"active, idle 3 years (missed runs)", ParentClock{State: ParentActive, LastActiveAt: t0}, t0.AddDate(3, 0, 0), StepWarn},
		{"never seen: from creation", ParentClock{State: ParentActive, CreatedAt: t0}, t0.AddDate(0, 11, 0), StepWarn},
		{"invited: not on the clock", ParentClock{State: ParentInvited, CreatedAt: t0}, t0.AddDate(5, 0, 0), StepNone},
		{"warned, notice 29 days old", ParentClock{State: ParentWarned, LastActiveAt: t0, WarnedAt: t0.AddDate(0, 12, 0).Add(-29 * d)}, t0.AddDate(0, 12, 0), StepNone},
		{"warned 30 days, idle 12 months", ParentClock{State: ParentWarned, LastActiveAt: t0, WarnedAt: t0.AddDate(0, 11, 0)}, t0.AddDate(0, 11, 0).Add(30 * d), StepClose},
		// 31 March + 11 months is 3 March: at 12 months the notice is 28 days old.
		{"12 months idle but notice 28 days old", ParentClock{State: ParentWarned, LastActiveAt: t0, WarnedAt: t0.AddDate(0, 11, 0)}, t0.AddDate(0, 12, 0), StepNone},
		{"warned late: 30 days after the notice", ParentClock{State: ParentWarned, LastActiveAt: t0, WarnedAt: t0.AddDate(0, 14, 0)}, t0.AddDate(0, 14, 0).Add(29 * d), StepNone},
		{"warned late, 30 days on", ParentClock{State: ParentWarned, LastActiveAt: t0, WarnedAt: t0.AddDate(0, 14, 0)}, t0.AddDate(0, 14, 0).Add(30 * d), StepClose},
		{"warned, signed in since", ParentClock{State: ParentWarned, LastActiveAt: t0.AddDate(0, 11, 5), WarnedAt: t0.AddDate(0, 11, 0)}, t0.AddDate(0, 12, 0), StepCancelWarning},
		{"closed 89 days", ParentClock{State: ParentClosed, ClosedAt: t0}, t0.Add(89 * d), StepNone},
		{"closed 90 days", ParentClock{State: ParentClosed, ClosedAt: t0}, t0.Add(90 * d), StepErase},
		{"erased", ParentClock{State: ParentErased, ClosedAt: t0}, t0.AddDate(2, 0, 0), StepNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NextParentStep(tc.p, tc.now); got != tc.want {
				t.Fatalf("step %q, want %q", got, tc.want)
			}
		})
	}
}

func TestChildPurgeDue(t *testing.T) {
	d1 := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	d2 := d1.Add(20 * 24 * time.Hour)
	removed := SchoolLink{State: LinkRemoved, RemovedAt: d1}
	for _, tc := range []struct {
		name  string
		c     Child
		ok    bool
		dueAt time.Time
	}{
		{"school linked", Child{SchoolLink: SchoolLink{State: LinkLinked}}, false, time.Time{}},
		{"a parent still linked", Child{SchoolLink: removed, Parents: []ParentLink{{State: LinkLinked}}}, false, time.Time{}},
		{"school then parent", Child{SchoolLink: removed, Parents: []ParentLink{{State: LinkRemoved, RemovedAt: d2}}}, true, d2.Add(ChildPurgeAfter)},
		{"parent then school", Child{SchoolLink: SchoolLink{State: LinkRemoved, RemovedAt: d2}, Parents: []ParentLink{{State: LinkRemoved, RemovedAt: d1}}}, true, d2.Add(ChildPurgeAfter)},
		{"no parents", Child{SchoolLink: removed}, true, d1.Add(ChildPurgeAfter)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := ChildPurgeDue(&tc.c)
			if ok != tc.ok || !at.Equal(tc.dueAt) {
				t.Fatalf("due %v %v, want %v %v", at, ok, tc.dueAt, tc.ok)
			}
		})
	}
}

// The sweep filter may only skip parents with no step due: checked for
// every idle day across two years (month ends, leap days, a local-time
// zone with summer time) and every hour round each due time. It must also
// skip the recent ones, or it saves nothing.
func TestParentSweepFilterAdmitsEveryDueParent(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		london = time.FixedZone("GMT+1", 3600)
	}
	d := 24 * time.Hour
	for _, loc := range []*time.Location{time.UTC, london} {
		start := time.Date(2023, 1, 1, 0, 30, 0, 0, loc)
		for day := 0; day < 2*366; day++ {
			idle := start.Add(time.Duration(day) * d)
			for _, p := range []ParentClock{
				{State: ParentActive, LastActiveAt: idle},
				{State: ParentActive, CreatedAt: idle},
				{State: ParentWarned, LastActiveAt: idle, WarnedAt: idle.AddDate(0, 11, 0)},
				{State: ParentWarned, LastActiveAt: idle.AddDate(0, 11, 3), WarnedAt: idle.AddDate(0, 11, 0)},
				{State: ParentClosed, ClosedAt: idle},
			} {
				// Around every moment a step can come due.
				for _, due := range []time.Time{p.NoticeDue(), p.CloseDue(), p.EraseDue()} {
					for h := -26; h <= 26; h++ {
						now := due.Add(time.Duration(h) * time.Hour).UTC()
						if NextParentStep(p, now) != StepNone && ParentSweepFilterAt(now).Skips(p) {
							t.Fatalf("%s parent idle since %s: step %q at %s, filter leaves it out",
								p.State, idle, NextParentStep(p, now), now)
						}
					}
				}
			}
		}
	}

	now := time.Date(2025, 6, 15, 3, 0, 0, 0, time.UTC)
	f := ParentSweepFilterAt(now)
	for _, tc := range []struct {
		name string
		p    ParentClock
		want bool
	}{
		{"active, seen 10 months ago", ParentClock{State: ParentActive, LastActiveAt: now.AddDate(0, -10, 0)}, false},
		{"active, seen 11 months ago", ParentClock{State: ParentActive, LastActiveAt: now.AddDate(0, -11, 0)}, true},
		{"never seen (kept: a store cannot tell)", ParentClock{State: ParentActive, CreatedAt: now.AddDate(0, -1, 0)}, true},
		{"never seen, created 2 years ago", ParentClock{State: ParentActive, CreatedAt: now.AddDate(-2, 0, 0)}, true},
		{"seen last week, created 2 years ago", ParentClock{State: ParentActive, LastActiveAt: now.Add(-7 * d), CreatedAt: now.AddDate(-2, 0, 0)}, false},
		{"warned yesterday", ParentClock{State: ParentWarned, LastActiveAt: now.AddDate(0, -11, 0), WarnedAt: now.Add(-d)}, true},
		{"closed 30 days ago", ParentClock{State: ParentClosed, ClosedAt: now.Add(-30 * d)}, true},
		{"closed 90 days ago", ParentClock{State: ParentClosed, ClosedAt: now.Add(-90 * d)}, true},
		{"warned, signed in since", ParentClock{State: ParentWarned, LastActiveAt: now.Add(-d), WarnedAt: now.Add(-5 * d)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := !f.Skips(tc.p); got != tc.want {
				t.Fatalf("streamed %v, want %v", got, tc.want)
			}
		})
	}
}

// The invited clock, by clock travel from one invite: nothing at 11
// months, the school told once 30 days before 12 months, the parent
// erased at 12 months; a new invite restarts it; joining takes the parent
// off it.
func TestNextInvitedStep(t *testing.T) {
	inv := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) // + 12 months − 30 days = 16 December
	d := 24 * time.Hour
	fresh := InvitedClock{State: ParentInvited, LastInviteAt: inv}
	noticeDay := inv.AddDate(0, 12, 0).Add(-InvitedNoticeBefore)
	noticed := fresh
	noticed.NoticeAt, noticed.NoticeFor = noticeDay, inv
	reinvited := noticed
	reinvited.LastInviteAt = inv.AddDate(0, 11, 20) // a reminder after the notice
	late := fresh
	late.NoticeAt, late.NoticeFor = inv.AddDate(0, 14, 0), inv // a sweep that missed two months
	for _, tc := range []struct {
		name string
		c    InvitedClock
		now  time.Time
		want InvitedStep
	}{
		{"+11 months: nothing", fresh, inv.AddDate(0, 11, 0), InvitedStepNone},
		{"a second before the notice", fresh, noticeDay.Add(-time.Second), InvitedStepNone},
		{"30 days before 12 months: notice", fresh, noticeDay, InvitedStepNotice},
		{"noticed: not again the next day", noticed, noticeDay.Add(d), InvitedStepNone},
		{"noticed, a second before 12 months", noticed, inv.AddDate(0, 12, 0).Add(-time.Second), InvitedStepNone},
		{"+12 months: erase", noticed, inv.AddDate(0, 12, 0), InvitedStepErase},
		{"+3 years, never noticed (missed runs): notice first", fresh, inv.AddDate(3, 0, 0), InvitedStepNotice},
		{"noticed late: 29 days on", late, late.NoticeAt.Add(29 * d), InvitedStepNone},
		{"noticed late: 30 days on", late, late.NoticeAt.Add(30 * d), InvitedStepErase},
		{"new invite after the notice: the notice is withdrawn", reinvited, inv.AddDate(0, 12, 0), InvitedStepCancelNotice},
		{"new invite: nothing at its +11 months", InvitedClock{State: ParentInvited, LastInviteAt: reinvited.LastInviteAt}, reinvited.LastInviteAt.AddDate(0, 11, 0), InvitedStepNone},
		{"new invite: notice again at its own time", reinvited, reinvited.LastInviteAt.AddDate(0, 12, 0).Add(-InvitedNoticeBefore), InvitedStepNotice},
		{"joined: never on this clock", InvitedClock{State: ParentActive, LastInviteAt: inv}, inv.AddDate(5, 0, 0), InvitedStepNone},
		{"joined after the notice", InvitedClock{State: ParentActive, LastInviteAt: inv, NoticeAt: noticeDay, NoticeFor: inv}, inv.AddDate(1, 0, 0), InvitedStepNone},
		{"warned or closed: not this clock", InvitedClock{State: ParentClosed, LastInviteAt: inv}, inv.AddDate(5, 0, 0), InvitedStepNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NextInvitedStep(tc.c, tc.now); got != tc.want {
				t.Fatalf("step %q, want %q", got, tc.want)
			}
		})
	}
	if got, want := noticed.InviteEraseDue(), inv.AddDate(0, 12, 0); !got.Equal(want) {
		t.Fatalf("erase due %v, want %v", got, want)
	}
	if got, want := InviteRemovalOn(late.NoticeAt, inv), late.NoticeAt.Add(InvitedNoticeBefore); !got.Equal(want) {
		t.Fatalf("late notice announces %v, want %v", got, want)
	}
}

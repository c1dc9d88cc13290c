package mongostore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestSweepParentStreamMatchesTheFilter: the store's filter streams exactly
// the parents content.ParentSweepFilter does not skip, never-seen parents
// (no lastActiveAt stored) included, and each with its clock and school.
func TestSweepParentStreamMatchesTheFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	now := t0
	d := 24 * time.Hour
	clocks := []content.ParentClock{
		{State: content.ParentActive, LastActiveAt: now.AddDate(0, -2, 0), CreatedAt: now.AddDate(-2, 0, 0)},
		{State: content.ParentActive, LastActiveAt: now.AddDate(0, -11, 0), CreatedAt: now.AddDate(-2, 0, 0)},
		{State: content.ParentActive, LastActiveAt: now.Add(-333 * d).Add(time.Second), CreatedAt: now.AddDate(-2, 0, 0)},
		{State: content.ParentActive, CreatedAt: now.AddDate(0, -1, 0)},
		{State: content.ParentActive, CreatedAt: now.AddDate(-1, 0, 0)},
		{State: content.ParentWarned, LastActiveAt: now.AddDate(0, -11, 0), WarnedAt: now.Add(-d), CreatedAt: now.AddDate(-2, 0, 0)},
		{State: content.ParentClosed, LastActiveAt: now.AddDate(-1, 0, 0), ClosedAt: now.Add(-30 * d), CreatedAt: now.AddDate(-2, 0, 0)},
		{State: content.ParentClosed, LastActiveAt: now.AddDate(-1, -3, 0), ClosedAt: now.Add(-90 * d), CreatedAt: now.AddDate(-2, 0, 0)},
		{State: content.ParentInvited, CreatedAt: now.AddDate(-3, 0, 0)},
	}
	f := content.ParentSweepFilterAt(now)
	var want []string
	for i, c := range clocks {
		id := fmt.Sprintf("par_sweep_%d", i)
		p := &content.Parent{ID: id, FirstName: "P", LastName: "S", Language: "en", State: c.State,
			Children:     []content.ChildLink{{ChildID: "chd_" + id, SchoolID: "sch_1", State: content.LinkLinked, LinkedAt: c.CreatedAt}},
			LastActiveAt: c.LastActiveAt, WarnedAt: c.WarnedAt, ClosedAt: c.ClosedAt, CreatedAt: c.CreatedAt}
		if err := s.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
		if !f.Skips(c) {
			want = append(want, id)
		}
	}
	if len(want) == 0 || len(want) == len(clocks) {
		t.Fatalf("the cases keep %d of %d: they test nothing", len(want), len(clocks))
	}
	var got []string
	if err := s.EachSweepParentClock(ctx, f, func(pc content.ParentClock) error {
		got = append(got, pc.ID)
		var i int
		fmt.Sscanf(pc.ID, "par_sweep_%d", &i)
		c := clocks[i]
		if pc.State != c.State || !pc.LastActiveAt.Equal(c.LastActiveAt) || !pc.WarnedAt.Equal(c.WarnedAt) ||
			!pc.ClosedAt.Equal(c.ClosedAt) || !pc.CreatedAt.Equal(c.CreatedAt) || pc.SchoolID != "sch_1" {
			t.Errorf("%s streamed as %+v, stored %+v", pc.ID, pc, c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("streamed %v, want %v", got, want)
	}
}

// TestWarnParentsInBulk: more parents than one bulk write carries are all
// warned, and a parent gone since the stream is no error.
func TestWarnParentsInBulk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	var ids []string
	for i := 0; i < 75; i++ {
		id := fmt.Sprintf("par_warn_%03d", i)
		if err := s.CreateParent(ctx, &content.Parent{ID: id, FirstName: "P", LastName: "W", Language: "en",
			State: content.ParentActive, LastActiveAt: t0.AddDate(-1, 0, 0), CreatedAt: t0.AddDate(-2, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := s.WarnParents(ctx, append(ids, "par_warn_gone"), t0); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		p, err := s.Parent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != content.ParentWarned || !p.WarnedAt.Equal(t0) {
			t.Fatalf("%s is %s warned at %s", id, p.State, p.WarnedAt)
		}
	}
	if err := s.CancelWarnings(ctx, ids[:40]); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		p, err := s.Parent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := i >= 40; (p.State == content.ParentWarned) != want || p.WarnedAt.IsZero() == want {
			t.Fatalf("%s is %s warned at %s after cancelling the first 40", id, p.State, p.WarnedAt)
		}
	}
}

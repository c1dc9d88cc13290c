package worker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
)

// stepsWorld adds, beside the world's school, one parent at each point of
// the clock fourteen months after the world's start, and moves the clock
// there.
func stepsWorld(t *testing.T) *retentionWorld {
	w := newRetentionWorld(t)
	s := w.start
	parent := func(id string, state content.ParentState, last, warned, closed int) {
		p := &content.Parent{ID: id, FirstName: "Pat", LastName: "P", Language: "en", State: state, CreatedAt: s,
			Children: []content.ChildLink{{ChildID: "chd_" + id, SchoolID: "sch_r", FirstName: "Kid", YearGroup: "Y2",
				State: content.LinkLinked, LinkedAt: s}}}
		// Days after the start; -1 leaves the date unset.
		if last >= 0 {
			p.LastActiveAt = s.AddDate(0, 0, last)
		}
		if warned >= 0 {
			p.WarnedAt = s.AddDate(0, 0, warned)
		}
		if closed >= 0 {
			p.ClosedAt = s.AddDate(0, 0, closed)
		}
		must(t, w.store.CreateParent(w.ctx, p))
	}
	parent("par_warn", content.ParentActive, 0, -1, -1)          // idle 14 months: notice
	parent("par_cancel", content.ParentWarned, 345, 340, -1)     // signed in after the notice
	parent("par_close", content.ParentWarned, 0, 340, -1)        // notice 3 months old, idle 14 months
	parent("par_erase", content.ParentClosed, 0, -1, 300)        // closed 4 months ago
	parent("par_recent", content.ParentActive, 400, -1, -1)      // seen last month
	parent("par_closed_fresh", content.ParentClosed, 0, -1, 400) // closed last month
	w.at(14, 0)
	return w
}

// TestParentSweepTakesEveryStepInOneRun: cancellations, closures and
// erasures are written while the stream runs and notices after it; one
// sweep takes each due parent its one step, and the store leaves out the
// recently active parent.
func TestParentSweepTakesEveryStepInOneRun(t *testing.T) {
	t.Parallel()
	w := stepsWorld(t)
	r := w.sweep()
	if r.Scanned != 5 || r.Warned != 1 || r.Cancelled != 1 || r.Closed != 1 || r.Erasing != 1 || len(r.NoticeBroadcasts) != 1 {
		t.Fatalf("sweep %+v: want 5 streamed (all but par_recent), 1 warned in 1 notice, 1 cancelled, 1 closed, 1 erasing", r)
	}
	for id, want := range map[string]content.ParentState{"par_warn": content.ParentWarned, "par_cancel": content.ParentActive,
		"par_close": content.ParentClosed, "par_recent": content.ParentActive, "par_closed_fresh": content.ParentClosed} {
		if p := w.parent(id); p.State != want {
			t.Errorf("%s is %s, want %s", id, p.State, want)
		}
	}
	if p := w.parent("par_cancel"); !p.WarnedAt.IsZero() {
		t.Errorf("cancelled warning still dated %s", p.WarnedAt)
	}
	if bs := w.noticeBroadcasts(); len(bs) != 1 || !slices.Equal(bs[0].Audience.ParentIDs, []string{"par_warn"}) {
		t.Fatalf("notices %+v, want one to par_warn", bs)
	}
	if w.drain() == 0 {
		t.Fatal("no erasure stage queued")
	}
	if r := w.sweep(); r.Warned+r.Cancelled+r.Closed+r.Erasing != 0 {
		t.Fatalf("second sweep did more: %+v", r)
	}
}

// failingClose is the store with closing broken.
type failingClose struct {
	*mongostore.Store
	err error
}

func (f failingClose) CloseParent(context.Context, string, time.Time) error { return f.err }

// TestParentSweepStopsOnAFailedStep: a step that fails during the stream
// fails the sweep, and no notice goes out in a sweep that failed (the
// retry sends it).
func TestParentSweepStopsOnAFailedStep(t *testing.T) {
	t.Parallel()
	w := stepsWorld(t)
	broken := errors.New("store refused")
	w.sweeps.Store = failingClose{Store: w.store, err: broken}
	_, err := w.sweeps.SweepParents(w.ctx)
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "par_close") {
		t.Fatalf("sweep error %v, want the close's", err)
	}
	if bs := w.noticeBroadcasts(); len(bs) != 0 {
		t.Fatalf("a failed sweep sent %d notices", len(bs))
	}
	if p := w.parent("par_warn"); p.State != content.ParentActive {
		t.Fatalf("a failed sweep warned par_warn (%s)", p.State)
	}
	w.sweeps.Store = w.store
	if r := w.sweep(); r.Warned != 1 || r.Closed != 1 {
		t.Fatalf("retry %+v: want 1 warned, 1 closed", r)
	}
}

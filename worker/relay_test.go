package worker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// TestRelayRepairsAfterACrash: a worker claimed three entries and died.
// After the lease those three are unknown (never resent); the page's other
// owed entries, which no task is working, are queued again; once every
// entry is settled the broadcast is done.
func TestRelayRepairsAfterACrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	b := &content.Broadcast{ID: "brd_r", SchoolID: "sch_1", Template: "award", State: content.BroadcastExpanding, CreatedAt: start}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	page := &content.LedgerPage{ID: content.LedgerPageID(b.ID, 0), BroadcastID: b.ID, SchoolID: "sch_1", CreatedAt: start}
	for i := 0; i < 10; i++ {
		page.Entries = append(page.Entries, content.LedgerEntry{RecipientID: "par_" + string(rune('a'+i)), Channel: "sms"})
	}
	if err := s.PutLedgerPages(ctx, []*content.LedgerPage{page}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBroadcastExpanded(ctx, b.ID, 1, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimEntries(ctx, page.ID, []int{0, 1, 2}, start); err != nil { // then the worker dies
		t.Fatal(err)
	}
	q := &taskstest.Recorder{}
	relay := &Relay{Ledger: s, Tasks: q, Clock: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lease: 10 * time.Minute, Grace: 10 * time.Minute}
	run := func() {
		t.Helper()
		if err := relay.ProcessTask(ctx, tasks.NewRelay(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}

	run() // within the lease and grace: nothing to repair
	if q.Len() != 0 {
		t.Fatalf("relay queued %d tasks for a fresh page", q.Len())
	}
	clock.Set(start.Add(11 * time.Minute))
	run()
	got, _ := s.LedgerPage(ctx, page.ID)
	for i, e := range got.Entries {
		want := content.StatePending
		if i < 3 {
			want = content.StateUnknown
		}
		if e.State() != want {
			t.Errorf("entry %d: %s, want %s", i, e.State(), want)
		}
	}
	if q.Len() != 1 {
		t.Fatalf("relay queued %d tasks, want 1 for the page", q.Len())
	}
	if p, err := tasks.ParseSendPage(q.Tasks()[0].Payload()); err != nil || p.PageID != page.ID {
		t.Fatalf("requeued %+v %v", p, err)
	}
	// The requeued page is worked: the seven owed entries are sent.
	won, err := s.ClaimEntries(ctx, page.ID, []int{3, 4, 5, 6, 7, 8, 9}, clock.Now())
	if err != nil || len(won) != 7 {
		t.Fatalf("claim the rest: %v %v", won, err)
	}
	var outs []content.EntryOutcome
	for i, c := range won {
		outs = append(outs, content.EntryOutcome{Index: i, Claim: c, State: content.StateSent})
	}
	if err := s.RecordOutcomes(ctx, page.ID, outs, clock.Now()); err != nil {
		t.Fatal(err)
	}
	run()
	if bb, _ := s.Broadcast(ctx, b.ID); bb.State != content.BroadcastDone {
		t.Fatalf("broadcast %s after every entry settled, want done", bb.State)
	}
	if n, _ := s.BroadcastsInState(ctx, content.BroadcastSending); len(n) != 0 {
		t.Fatalf("%d broadcasts still listed as sending", len(n))
	}
}

// A broadcast left expanding (its creator died before queueing the
// expansion, or Redis lost it) is expanded again after the grace period.
func TestRelayRequeuesALostExpansion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	b := &content.Broadcast{ID: "brd_lost", SchoolID: "sch_1", Template: "award", State: content.BroadcastExpanding, CreatedAt: start}
	if err := s.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	q := &taskstest.Recorder{}
	relay := &Relay{Ledger: s, Tasks: q, Clock: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lease: 10 * time.Minute, Grace: 10 * time.Minute}
	if err := relay.ProcessTask(ctx, tasks.NewRelay(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 0 {
		t.Fatalf("relay queued %d tasks for a broadcast created just now", q.Len())
	}
	clock.Set(start.Add(11 * time.Minute))
	if err := relay.ProcessTask(ctx, tasks.NewRelay(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 1 || q.Tasks()[0].Type() != tasks.TypeExpandBroadcast {
		t.Fatalf("relay queued %d tasks, want the expansion", q.Len())
	}
	if p, err := tasks.ParseExpandBroadcast(q.Tasks()[0].Payload()); err != nil || p.BroadcastID != b.ID {
		t.Fatalf("queued %+v %v", p, err)
	}
}

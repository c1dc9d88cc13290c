package mongostore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newPage(t *testing.T, s *mongostore.Store, n int) *content.LedgerPage {
	t.Helper()
	p := &content.LedgerPage{ID: content.LedgerPageID("brd_1", 0), BroadcastID: "brd_1", SchoolID: "sch_1", CreatedAt: t0}
	for i := 0; i < n; i++ {
		p.Entries = append(p.Entries, content.LedgerEntry{RecipientID: fmt.Sprintf("par_%03d", i), Channel: "sms"})
	}
	if err := s.PutLedgerPages(context.Background(), []*content.LedgerPage{p}); err != nil {
		t.Fatal(err)
	}
	return p
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestClaimsAreExclusive: eight workers race to claim, defer (release) and
// settle the same 100 entries in random sub-batches. At no moment do two
// workers hold one entry, and every entry ends sent exactly once.
func TestClaimsAreExclusive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	p := newPage(t, s, content.LedgerPageSize)
	var mu sync.Mutex
	holder := map[int]int{}   // entry → worker holding it now
	sentBy := map[int][]int{} // entry → workers that settled it as sent
	var wg sync.WaitGroup
	for w := 1; w <= 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for round := 0; round < 40; round++ {
				batch := rng.Perm(content.LedgerPageSize)[:10]
				won, err := s.ClaimEntries(ctx, p.ID, batch, t0)
				if err != nil {
					t.Error(err)
					return
				}
				var outcomes []content.EntryOutcome
				mu.Lock()
				for i, claim := range won {
					if h := holder[i]; h != 0 {
						t.Errorf("entry %d won by worker %d while worker %d holds it", i, w, h)
					}
					holder[i] = w
					if rng.IntN(3) == 0 { // defer: hand the claim back
						outcomes = append(outcomes, content.EntryOutcome{Index: i, Claim: claim, State: content.StateDeferred, Release: true, NotBefore: t0})
					} else {
						outcomes = append(outcomes, content.EntryOutcome{Index: i, Claim: claim, State: content.StateSent, ProviderID: fmt.Sprintf("SM%d", i)})
						sentBy[i] = append(sentBy[i], w)
					}
				}
				for _, o := range outcomes {
					if o.Release {
						delete(holder, o.Index) // cleared before the release is visible
					}
				}
				mu.Unlock()
				if err := s.RecordOutcomes(ctx, p.ID, outcomes, t0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Drain what is still pending or deferred with one more claimer.
	got, err := s.LedgerPage(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rest []int
	for i, e := range got.Entries {
		if e.Claimable(t0) {
			rest = append(rest, i)
		}
	}
	won, err := s.ClaimEntries(ctx, p.ID, rest, t0)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []content.EntryOutcome
	for i, claim := range won {
		outcomes = append(outcomes, content.EntryOutcome{Index: i, Claim: claim, State: content.StateSent})
		sentBy[i] = append(sentBy[i], 99)
	}
	if len(won) != len(rest) {
		t.Fatalf("drain won %d of %d claimable entries", len(won), len(rest))
	}
	if err := s.RecordOutcomes(ctx, p.ID, outcomes, t0); err != nil {
		t.Fatal(err)
	}
	got, err = s.LedgerPage(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got.Entries {
		if len(sentBy[i]) != 1 {
			t.Errorf("entry %d sent by %v, want exactly one worker", i, sentBy[i])
		}
		if e.State() != content.StateSent || e.Claims != e.Released+1 {
			t.Errorf("entry %d: state %s claims %d released %d", i, e.State(), e.Claims, e.Released)
		}
	}
}

func TestDeferredEntryWaitsForItsTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	p := newPage(t, s, 3)
	won, err := s.ClaimEntries(ctx, p.ID, []int{0}, t0)
	if err != nil || won[0] != 1 {
		t.Fatalf("claim: %v %v", won, err)
	}
	morning := t0.Add(10 * time.Hour)
	if err := s.RecordOutcomes(ctx, p.ID, []content.EntryOutcome{{Index: 0, Claim: 1, State: content.StateDeferred, Release: true, NotBefore: morning}}, t0); err != nil {
		t.Fatal(err)
	}
	got, _ := s.LedgerPage(ctx, p.ID)
	if st := got.Entries[0].State(); st != content.StateDeferred {
		t.Fatalf("state %s, want deferred", st)
	}
	if won, _ := s.ClaimEntries(ctx, p.ID, []int{0}, t0.Add(time.Hour)); len(won) != 0 {
		t.Fatalf("claimed before NotBefore: %v", won)
	}
	won, err = s.ClaimEntries(ctx, p.ID, []int{0}, morning)
	if err != nil || won[0] != 2 {
		t.Fatalf("morning claim: %v %v", won, err)
	}
	got, _ = s.LedgerPage(ctx, p.ID)
	if got.Entries[0].State() != content.StateSending || got.Entries[1].State() != content.StatePending {
		t.Fatalf("states %s %s", got.Entries[0].State(), got.Entries[1].State())
	}
}

// TestStatesOnlyMoveForward: late, repeated and out-of-order updates
// (webhooks, sweeps) never move an entry back.
func TestStatesOnlyMoveForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	p := newPage(t, s, 2)
	won, _ := s.ClaimEntries(ctx, p.ID, []int{0, 1}, t0)
	if err := s.RecordOutcomes(ctx, p.ID, []content.EntryOutcome{
		{Index: 0, Claim: won[0], State: content.StateSent, ProviderID: "SM0", Segments: 1, CostPence: 4},
		{Index: 1, Claim: won[1], State: content.StateUnknown, ErrorCode: "timeout"},
	}, t0); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		i     int
		state content.MessageState
		want  content.MessageState
	}{
		{0, content.StateDelivered, content.StateDelivered},
		{0, content.StateSent, content.StateDelivered},    // late "sent" callback
		{0, content.StateUnknown, content.StateDelivered}, // sweep after the fact
		{0, content.StateDelivered, content.StateDelivered},
		{1, content.StateSent, content.StateSent}, // a callback resolves unknown
		{1, content.StatePending, content.StateSent},
	}
	for _, st := range steps {
		if err := s.RaiseEntryState(ctx, p.ID, st.i, st.state, "", t0); err != nil {
			t.Fatal(err)
		}
		got, _ := s.LedgerPage(ctx, p.ID)
		if g := got.Entries[st.i].State(); g != st.want {
			t.Fatalf("after %s on %d: %s, want %s", st.state, st.i, g, st.want)
		}
	}
	got, _ := s.LedgerPage(ctx, p.ID)
	if e := got.Entries[0]; e.ProviderID != "SM0" || e.Segments != 1 || e.CostPence != 4 {
		t.Fatalf("entry 0 lost its send record: %+v", e)
	}
	// Settled entries are never claimed again.
	if won, _ := s.ClaimEntries(ctx, p.ID, []int{0, 1}, t0); len(won) != 0 {
		t.Fatalf("settled entries claimed: %v", won)
	}
}

func TestPutLedgerPagesIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	p := newPage(t, s, 5)
	if _, err := s.ClaimEntries(ctx, p.ID, []int{2}, t0); err != nil {
		t.Fatal(err)
	}
	second := &content.LedgerPage{ID: content.LedgerPageID("brd_1", 1), BroadcastID: "brd_1", N: 1,
		Entries: []content.LedgerEntry{{RecipientID: "par_x", Channel: "email"}}}
	// Re-running the expansion rewrites page 0 and adds page 1.
	if err := s.PutLedgerPages(ctx, []*content.LedgerPage{p, second}); err != nil {
		t.Fatalf("re-put: %v", err)
	}
	got, _ := s.LedgerPage(ctx, p.ID)
	if got.Entries[2].State() != content.StateSending {
		t.Fatalf("re-running the expansion reset a claimed entry: %s", got.Entries[2].State())
	}
	if _, err := s.LedgerPage(ctx, second.ID); err != nil {
		t.Fatalf("page 1 not written: %v", err)
	}
	if content.EntryID("brd_1", "par_001", "sms") != "brd_1:par_001:sms" {
		t.Fatal("entry ids are not deterministic")
	}
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// ledgerTally is what a broadcast's ledger says once every entry settled.
type ledgerTally struct {
	pages   int
	entries int
	states  map[content.MessageState]int
}

// waitSettled polls until the broadcast is expanded and every entry of its
// ledger has settled (sent, failed, suppressed or unknown), and returns
// when that was seen. ready is a cheap gate (the fake's count, say) so the
// ledger is not read, competing with the worker for the store, until it
// could be done; pages seen settled are not read again.
func waitSettled(ctx context.Context, ledger content.Ledger, broadcastID string, want int, timeout time.Duration, ready func() bool) (time.Time, ledgerTally, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	t := ledgerTally{states: map[content.MessageState]int{}}
	settled := map[int]bool{}
	for {
		if time.Now().After(deadline) {
			return time.Time{}, t, fmt.Errorf("after %s, %d of %d entries settled on %d of %d pages",
				timeout, t.entries, want, len(settled), t.pages)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, t, ctx.Err()
		case <-tick.C:
		}
		if !ready() {
			continue
		}
		b, err := ledger.Broadcast(ctx, broadcastID)
		if err != nil {
			return time.Time{}, t, err
		}
		if b.State == content.BroadcastExpanding {
			continue
		}
		t.pages = b.Pages
		for n := 0; n < b.Pages; n++ {
			if settled[n] {
				continue
			}
			p, err := ledger.LedgerPage(ctx, content.LedgerPageID(broadcastID, n))
			if err != nil {
				return time.Time{}, t, err
			}
			all := true
			for _, e := range p.Entries {
				all = all && e.State().Settled()
			}
			if !all {
				break // pages go roughly in order: look again later
			}
			settled[n] = true
			for _, e := range p.Entries {
				t.entries++
				t.states[e.State()]++
			}
		}
		if len(settled) == b.Pages && t.entries == want {
			return time.Now(), t, nil
		}
		if len(settled) == b.Pages {
			return time.Time{}, t, fmt.Errorf("ledger settled with %d entries, want %d", t.entries, want)
		}
	}
}

// onlySent fails unless every entry ended sent.
func (t ledgerTally) onlySent(want int) error {
	if t.states[content.StateSent] != want {
		return fmt.Errorf("ledger: %d entries on %d pages, states %v; want %d sent", t.entries, t.pages, t.states, want)
	}
	return nil
}

// waitDone polls until the broadcast is marked done.
func waitDone(ctx context.Context, ledger content.Ledger, broadcastID string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		b, err := ledger.Broadcast(ctx, broadcastID)
		if err != nil {
			return err
		}
		if b.State == content.BroadcastDone {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("broadcast %s not done %s after its last entry settled", broadcastID, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package worker

import (
	"context"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
)

// TestClosureStopsQueuedMessages: a message already in
// the ledger for a parent whose account is then closed is suppressed at
// send time, never sent; the others go.
func TestClosureStopsQueuedMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := emailParents(3, "en")
	f := newBroadcastFixture(t, ps, allOn(notify.ChannelEmail))
	h, fake := newEmailPages(t, f, 5*time.Second)
	if err := f.store.CloseParent(ctx, ps[1].ID, f.clock.Now()); err != nil { // after the page was written
		t.Fatal(err)
	}
	f.sendAll(t, h)
	entries := f.entries(t)
	if e := entries[ps[1].ID]; e.State() != content.StateSuppressed || e.ErrorCode != "account_closed" {
		t.Fatalf("closed parent's entry %s %q, want suppressed account_closed", e.State(), e.ErrorCode)
	}
	if got := fake.SentTo(ps[1].Email); got != 0 {
		t.Fatalf("closed parent got %d emails", got)
	}
	for _, p := range []*content.Parent{ps[0], ps[2]} {
		if e := entries[p.ID]; e.State() != content.StateSent {
			t.Fatalf("%s: %s, want sent", p.ID, e.State())
		}
	}
}

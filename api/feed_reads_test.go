package api

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestFeedPageStoreCommands: over HTTP, a parent's first feed page costs
// two store commands — their own record (authentication) and the feed
// head — once the school's time zone is remembered (one more the first
// time); a later page is their record and at most two buckets.
func TestFeedPageStoreCommands(t *testing.T) {
	w := newWorld(t)
	h := w.h
	for i := 0; i < 60; i++ {
		w.addFeedItem(t, "chd_1", fmt.Sprintf("asg:r%02d:act", i))
	}
	var cmds atomic.Int64
	mon := &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { cmds.Add(1) }}
	cl, err := mongo.Connect(options.Client().ApplyURI(mongotest.URI()).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Disconnect(context.Background()) })
	counted := mongostore.New(cl.Database(h.store.Database().Name()), 0)
	d := h.deps
	d.Roster, d.Identity, d.ParentFeed, d.Feed = counted, counted, counted, counted
	h.app = mustNew(t, d)
	tok := w.tokens[actParentA]

	get := func(url string) (feedPageDTO, int64) {
		t.Helper()
		before := cmds.Load()
		resp, body := h.do("GET", url, nil, tok)
		wantStatus(t, resp, body, 200)
		return decode[feedPageDTO](t, body), cmds.Load() - before
	}
	page, n := get("/v1/children/chd_1/feed?limit=20")
	if len(page.Items) != 20 || page.Items[0].DueDate == "" || n != 3 {
		t.Fatalf("first page, zone not yet remembered: %d items, due date %q, %d store commands (want 3)",
			len(page.Items), page.Items[0].DueDate, n)
	}
	for i := 0; i < 3; i++ {
		if page, n = get("/v1/children/chd_1/feed?limit=20"); len(page.Items) != 20 || n != 2 {
			t.Fatalf("first page: %d items, %d store commands, want 20 and 2", len(page.Items), n)
		}
	}
	if page, n = get("/v1/children/chd_1/feed?limit=20&cursor=" + page.NextCursor); len(page.Items) != 20 || n < 2 || n > 3 {
		t.Fatalf("second page: %d items, %d store commands, want 20 and 2–3", len(page.Items), n)
	}
	t.Logf("a later page: %d store commands", n)
}

package api

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestFeedPageStoreCommands: over HTTP, a parent's first feed page costs
// one store command once the child's feed view keeps the page and the
// parent's access: the view alone. The first request builds it: the view,
// the parent's record, the school (its time zone, remembered after), the
// feed head and the view's save. A later page is their record and at most
// two buckets.
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
	if len(page.Items) != 20 || page.Items[0].DueDate == "" || n != 5 {
		t.Fatalf("first page, nothing kept yet: %d items, due date %q, %d store commands (want 5)",
			len(page.Items), page.Items[0].DueDate, n)
	}
	first := page
	for i := 0; i < 3; i++ {
		if page, n = get("/v1/children/chd_1/feed?limit=20"); len(page.Items) != 20 || n != 1 {
			t.Fatalf("first page: %d items, %d store commands, want 20 and 1", len(page.Items), n)
		}
		if !reflect.DeepEqual(page, first) {
			t.Fatalf("the kept page differs from the page built from the feed:\n%+v\n%+v", page, first)
		}
	}
	// A shorter page from the kept one continues where the feed would.
	if short, n := get("/v1/children/chd_1/feed?limit=7"); len(short.Items) != 7 || n != 1 ||
		short.Items[6].ID != first.Items[6].ID || short.NextCursor == "" {
		t.Fatalf("page of 7: %d items, %d store commands, cursor %q", len(short.Items), n, short.NextCursor)
	} else if rest, _ := get("/v1/children/chd_1/feed?limit=13&cursor=" + short.NextCursor); len(rest.Items) != 13 ||
		rest.Items[0].ID != first.Items[7].ID || rest.Items[12].ID != first.Items[19].ID {
		t.Fatalf("after a page of 7, the next 13 are not the page's items 8–20")
	}
	if page, n = get("/v1/children/chd_1/feed?limit=20&cursor=" + page.NextCursor); len(page.Items) != 20 || n < 2 || n > 3 {
		t.Fatalf("second page: %d items, %d store commands, want 20 and 2–3", len(page.Items), n)
	}
	t.Logf("a later page: %d store commands", n)
}

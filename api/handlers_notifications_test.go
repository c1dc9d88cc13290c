package api

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

// TestMarkNotificationsRead: a parent's app reports the pushes it opened;
// only the caller's own push entries become read, and refs that are not
// theirs (another parent's push, an SMS, a page that does not exist) are
// ignored without saying which.
func TestMarkNotificationsRead(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	page := &content.LedgerPage{ID: content.LedgerPageID("brd_n", 0), BroadcastID: "brd_n", SchoolID: "sch_1",
		Entries: []content.LedgerEntry{
			{RecipientID: "par_a", Channel: "push", Rank: content.RankSent},
			{RecipientID: "par_b", Channel: "push", Rank: content.RankSent},
			{RecipientID: "par_a", Channel: "sms", Rank: content.RankSent},
		}}
	if err := w.h.store.PutLedgerPages(ctx, []*content.LedgerPage{page}); err != nil {
		t.Fatal(err)
	}
	refs := []string{content.EntryRef(page.ID, 0), content.EntryRef(page.ID, 1), content.EntryRef(page.ID, 2),
		"brd_missing:p00000/0", "not-a-ref"}
	r, b := w.h.do("POST", "/v1/me/notifications/read", map[string]any{"refs": refs}, w.tokens[actParentA])
	var got readResponse
	if r.StatusCode != 200 || json.Unmarshal(b, &got) != nil || got.Read != 1 {
		t.Fatalf("%d %s, want 200 with read 1", r.StatusCode, b)
	}
	p, err := w.h.store.LedgerPage(ctx, page.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []content.MessageState{content.StateRead, content.StateSent, content.StateSent}
	for i, e := range p.Entries {
		if e.State() != want[i] {
			t.Errorf("entry %d: %s, want %s", i, e.State(), want[i])
		}
	}
	for _, body := range []map[string]any{{"refs": []string{}}, {"refs": make([]string, 101)}, {}} {
		if r, b := w.h.do("POST", "/v1/me/notifications/read", body, w.tokens[actParentA]); r.StatusCode != 400 {
			t.Errorf("%v: %d %s, want 400", body, r.StatusCode, b)
		}
	}
}

package mongostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

func inboxItem(parentID, sourceID, school string, at time.Time, classes ...string) *content.InboxItem {
	return &content.InboxItem{ID: content.InboxItemID(parentID, sourceID), ParentID: parentID, SchoolID: school,
		Kind: content.InboxAnnouncement, SourceID: sourceID, Title: "Title of " + sourceID, Language: "en",
		ClassIDs: classes, CreatedAt: at}
}

// TestInboxAddIsIdempotentAndKeepsReadState: adding the same items again
// (a re-run expansion, even with other values) changes nothing: the first
// title and time stay, a read item stays read, and counts do not double.
func TestInboxAddIsIdempotentAndKeepsReadState(t *testing.T) {
	t.Parallel()
	s := mongotest.NewStore(t)
	ctx := context.Background()
	items := []*content.InboxItem{
		inboxItem("par_a", "ann_1", "sch_1", t0, "cls_1"),
		inboxItem("par_b", "ann_1", "sch_1", t0, "cls_2"),
		inboxItem("par_a", "ann_2", "sch_1", t0.Add(time.Hour), "cls_1"),
	}
	if err := s.AddToInbox(ctx, items); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkInboxRead(ctx, content.InboxItemID("par_a", "ann_1"), content.ReadViaApp, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	again := inboxItem("par_a", "ann_1", "sch_1", t0.Add(24*time.Hour), "cls_9")
	again.Title = "Changed"
	if err := s.AddToInbox(ctx, append(items, again)); err != nil {
		t.Fatal(err)
	}
	// A second read keeps the first time and way.
	if _, err := s.MarkInboxRead(ctx, content.InboxItemID("par_a", "ann_1"), content.ReadViaPush, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	page, err := s.InboxPage(ctx, "par_a", nil, content.InboxCursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Unread != 1 {
		t.Fatalf("items %d unread %d, want 2 and 1", len(page.Items), page.Unread)
	}
	if page.Items[0].SourceID != "ann_2" || page.Items[1].SourceID != "ann_1" {
		t.Fatalf("order %s, %s; want newest first", page.Items[0].SourceID, page.Items[1].SourceID)
	}
	first := page.Items[1]
	if first.Title != "Title of ann_1" || !first.CreatedAt.Equal(t0) || first.ReadVia != content.ReadViaApp ||
		!first.ReadAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("re-added item changed: %+v", first)
	}
	reads, err := s.InboxReads(ctx, "ann_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(reads.Read) != 1 || reads.Read["par_a"] != content.ReadViaApp || len(reads.Classes) != 2 || reads.Classes["par_a"][0] != "cls_1" {
		t.Fatalf("reads %+v", reads)
	}
	if err := s.AddToInbox(ctx, []*content.InboxItem{{ID: "par_a:ann_3", ParentID: "par_b", SourceID: "ann_3", SchoolID: "sch_1"}}); !content.IsCode(err, content.CodeInvalid) {
		t.Fatalf("mismatched id: %v, want invalid", err)
	}
}

// TestInboxPagesNewestFirst: 25 items, some sharing a time, come back in
// pages of 10 with no repeat and no gap, and only the parent's own.
func TestInboxPagesNewestFirst(t *testing.T) {
	t.Parallel()
	s := mongotest.NewStore(t)
	ctx := context.Background()
	var items []*content.InboxItem
	for i := 0; i < 25; i++ {
		items = append(items, inboxItem("par_a", fmt.Sprintf("ann_%02d", i), "sch_1", t0.Add(time.Duration(i/2)*time.Minute)))
		items = append(items, inboxItem("par_b", fmt.Sprintf("ann_%02d", i), "sch_1", t0))
	}
	if err := s.AddToInbox(ctx, items); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var after content.InboxCursor
	var prev *content.InboxItem
	for pages := 0; ; pages++ {
		page, err := s.InboxPage(ctx, "par_a", nil, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.ParentID != "par_a" || seen[it.ID] {
				t.Fatalf("item %s repeated or not the parent's", it.ID)
			}
			if prev != nil && (it.CreatedAt.After(prev.CreatedAt) || (it.CreatedAt.Equal(prev.CreatedAt) && it.SourceID > prev.SourceID)) {
				t.Fatalf("%s after %s: not newest first", it.SourceID, prev.SourceID)
			}
			seen[it.ID], prev = true, it
		}
		if page.Unread != 25 {
			t.Fatalf("unread %d, want 25", page.Unread)
		}
		if page.Next.IsZero() {
			break
		}
		after = page.Next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 25 {
		t.Fatalf("saw %d items, want 25", len(seen))
	}
}

// TestInboxErasure: erasing a parent removes their items and their names
// from the sources' documents; erasing a school removes its items from
// every parent's inbox and leaves another school's.
func TestInboxErasure(t *testing.T) {
	t.Parallel()
	s := mongotest.NewStore(t)
	ctx := context.Background()
	if err := s.AddToInbox(ctx, []*content.InboxItem{
		inboxItem("par_a", "ann_1", "sch_1", t0), inboxItem("par_b", "ann_1", "sch_1", t0),
		inboxItem("par_b", "ann_2", "sch_2", t0),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkInboxRead(ctx, content.InboxItemID("par_a", "ann_1"), content.ReadViaApp, t0); err != nil {
		t.Fatal(err)
	}
	// Only the inbox areas: the erasure of a parent also tombstones them.
	for _, e := range s.Erasers(content.SubjectParent) {
		if e.Area() == "mongo:inbox" {
			if _, err := e.Erase(ctx, content.ErasureSubject{Kind: content.SubjectParent, ID: "par_a"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.InboxItem(ctx, content.InboxItemID("par_a", "ann_1")); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("erased parent's item: %v", err)
	}
	reads, _ := s.InboxReads(ctx, "ann_1")
	if _, ok := reads.Read["par_a"]; ok || len(reads.Classes) != 1 {
		t.Fatalf("source still names the erased parent: %+v", reads)
	}
	for _, e := range s.Erasers(content.SubjectSchool) {
		if e.Area() == "mongo:inbox" {
			if _, err := e.Erase(ctx, content.ErasureSubject{Kind: content.SubjectSchool, ID: "sch_1"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	page, err := s.InboxPage(ctx, "par_b", []string{"sch_1", "sch_2"}, content.InboxCursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].SourceID != "ann_2" {
		t.Fatalf("after the school's erasure par_b has %+v, want only ann_2", page.Items)
	}
}

// BenchmarkInboxPage lists 20 items for one parent among 20,000 parents
// with 5 items each (100,000 items), and opens one item.
func BenchmarkInboxPage(b *testing.B) {
	s := mongotest.NewStore(b)
	ctx := context.Background()
	const parents, perParent = 20000, 5
	start := time.Now()
	for k := 0; k < perParent; k++ {
		src := fmt.Sprintf("ann_%d", k)
		for p := 0; p < parents; p += 100 {
			batch := make([]*content.InboxItem, 0, 100)
			for i := p; i < p+100; i++ {
				batch = append(batch, inboxItem(fmt.Sprintf("par_%05d", i), src, "sch_1", t0.Add(time.Duration(k)*time.Hour), "cls_1"))
			}
			if err := s.AddToInbox(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	seed := time.Since(start)
	b.ReportMetric(float64(parents*perParent)/seed.Seconds(), "items_added/s")
	b.Logf("seeded %d items in %s (%.0f items/s)", parents*perParent, seed, float64(parents*perParent)/seed.Seconds())
	run := func(name string, fn func(i int) error) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := fn(i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("page20", func(i int) error {
		page, err := s.InboxPage(ctx, fmt.Sprintf("par_%05d", i%parents), nil, content.InboxCursor{}, 20)
		if err == nil && len(page.Items) != perParent {
			err = fmt.Errorf("%d items", len(page.Items))
		}
		return err
	})
	run("open", func(i int) error {
		_, err := s.MarkInboxRead(ctx, content.InboxItemID(fmt.Sprintf("par_%05d", i%parents), "ann_1"), content.ReadViaApp, t0)
		return err
	})
	run("reads", func(i int) error {
		r, err := s.InboxReads(ctx, "ann_1")
		if err == nil && len(r.Classes) != parents {
			err = fmt.Errorf("%d recipients", len(r.Classes))
		}
		return err
	})
}

var _ content.Inbox = (*mongostore.Store)(nil)

package mongostore_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// checkAgainstBuckets fails unless every item of a page is what a read of
// its bucket says, progress and every parent's response included.
func checkAgainstBuckets(t *testing.T, s *mongostore.Store, page []*content.FeedItem) {
	t.Helper()
	for _, it := range page {
		rec, err := s.FeedItem(context.Background(), it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(it, rec) {
			t.Fatalf("item %s on the page differs from its bucket:\n page   %+v\n bucket %+v", it.ID, it, rec)
		}
	}
}

func titlesFrom(t *testing.T, page []*content.FeedItem, newest int) {
	t.Helper()
	for i, it := range page {
		if want := fmt.Sprintf("Activity %d", newest-i); it.Title != want {
			t.Fatalf("item %d is %q, want %q", i, it.Title, want)
		}
	}
}

// TestFeedFirstPageIsTheHead: a first page is one lookup (the head's copy
// of the newest items) and shows exactly what the buckets hold — seen,
// done, each parent's rating, comment and replies, a cleared comment —
// while later pages go on from the buckets and the copy stays one window
// long as items are added.
func TestFeedFirstPageIsTheHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mongotest.NewDatabase(t)
	s, finds := countingStore(t, db)
	for i := 0; i < 60; i++ {
		if _, err := s.AddFeedItem(ctx, activityItem("chd_a", i)); err != nil {
			t.Fatal(err)
		}
	}
	id := func(pos int) string { return content.FeedItemID("chd_a", int64(pos)) }
	if _, err := s.MarkFeedItemSeen(ctx, id(59), t0); err != nil {
		t.Fatal(err)
	}
	must(t, s.MarkFeedItemDone(ctx, id(58), "par_a", content.SubmissionID("asg_058", "chd_a", "par_a"), 5, "Great fun", t0))
	must(t, s.RecordFeedReply(ctx, id(58), "par_a", "rep_1", "Well done", t0))
	must(t, s.MarkFeedItemDone(ctx, id(57), "par_b", content.SubmissionID("asg_057", "chd_a", "par_b"), 3, "Hide me", t0))
	must(t, s.ClearFeedComment(ctx, id(57), "par_b"))
	must(t, s.MarkFeedItemDone(ctx, id(10), "par_a", "", 2, "Old one", t0)) // outside the copy

	before := finds.Load()
	page, next, err := s.FeedPage(ctx, "chd_a", -1, 20)
	if err != nil {
		t.Fatal(err)
	}
	if n := finds.Load() - before; n != 1 {
		t.Fatalf("a first page took %d lookups, want 1", n)
	}
	if len(page) != 20 || next != 40 {
		t.Fatalf("first page: %d items, next %d", len(page), next)
	}
	titlesFrom(t, page, 59)
	checkAgainstBuckets(t, s, page)
	if it := page[1].ForReader("par_a", false); it.State() != content.FeedDone || it.Rating != 5 || it.Comment != "Great fun" || it.LatestReply != "Well done" {
		t.Fatalf("par_a's response on the first page: %+v", it)
	}
	if it := page[2].ForReader("par_b", false); it.Rating != 3 || it.Comment != "" {
		t.Fatalf("a cleared comment shows on the first page: %+v", it)
	}

	// The longest page is still the head alone; later pages read buckets.
	before = finds.Load()
	if page, _, err = s.FeedPage(ctx, "chd_a", -1, content.FeedPageMax); err != nil || len(page) != content.FeedPageMax {
		t.Fatalf("longest page: %d items, %v", len(page), err)
	}
	if n := finds.Load() - before; n != 1 {
		t.Fatalf("a first page of %d took %d lookups, want 1", content.FeedPageMax, n)
	}
	page, _, err = s.FeedPage(ctx, "chd_a", next, 20)
	if err != nil {
		t.Fatal(err)
	}
	titlesFrom(t, page, 39)

	// Thirty more: the copy moves on and drops what left it.
	for i := 60; i < 90; i++ {
		if _, err := s.AddFeedItem(ctx, activityItem("chd_a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.MarkFeedItemSeen(ctx, id(80), t0); err != nil {
		t.Fatal(err)
	}
	var head struct {
		N         int64                     `bson:"n"`
		Items     map[string]string         `bson:"i"`
		Progress  map[string]bson.Raw       `bson:"p"`
		Responses map[string]map[string]any `bson:"r"`
	}
	if err := db.Collection(mongostore.FeedCollection()).FindOne(ctx, bson.D{{Key: "_id", Value: "h:chd_a"}}).Decode(&head); err != nil {
		t.Fatal(err)
	}
	inWindow := func(k string) bool {
		p, err := strconv.ParseInt(k, 10, 64)
		return err == nil && p >= head.N-int64(content.FeedPageMax) && p < head.N
	}
	for k := range head.Items {
		if !inWindow(k) {
			t.Errorf("head still copies item %s of %d", k, head.N)
		}
	}
	for k := range head.Progress {
		if !inWindow(k) {
			t.Errorf("head still copies progress %s of %d", k, head.N)
		}
	}
	for pid, bySlot := range head.Responses {
		for k := range bySlot {
			if !inWindow(k) {
				t.Errorf("head still copies %s's response %s of %d", pid, k, head.N)
			}
		}
	}
	if len(head.Items) != content.FeedPageMax {
		t.Errorf("head copies %d items, want %d", len(head.Items), content.FeedPageMax)
	}
	page, next, err = s.FeedPage(ctx, "chd_a", -1, 20)
	if err != nil || next != 70 {
		t.Fatalf("first page after adds: next %d, %v", next, err)
	}
	titlesFrom(t, page, 89)
	checkAgainstBuckets(t, s, page)
}

// TestFeedHeadWithoutCopy: a head written before heads copied the newest
// items is read through the buckets, and starts a copy with its next item,
// after which a first page mixes the copy and the buckets correctly.
func TestFeedHeadWithoutCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mongotest.NewDatabase(t)
	s, finds := countingStore(t, db)
	for i := 0; i < 30; i++ {
		if _, err := s.AddFeedItem(ctx, activityItem("chd_a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Collection(mongostore.FeedCollection()).UpdateOne(ctx, bson.D{{Key: "_id", Value: "h:chd_a"}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "w0", Value: ""}, {Key: "i", Value: ""}, {Key: "p", Value: ""}, {Key: "r", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	page, next, err := s.FeedPage(ctx, "chd_a", -1, 20)
	if err != nil || len(page) != 20 || next != 10 {
		t.Fatalf("old head: %d items, next %d, %v", len(page), next, err)
	}
	titlesFrom(t, page, 29)
	if _, err := s.MarkFeedItemSeen(ctx, content.FeedItemID("chd_a", 29), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFeedItem(ctx, activityItem("chd_a", 30)); err != nil {
		t.Fatal(err)
	}
	before := finds.Load()
	page, next, err = s.FeedPage(ctx, "chd_a", -1, 20)
	if err != nil || len(page) != 20 || next != 11 {
		t.Fatalf("after one add: %d items, next %d, %v", len(page), next, err)
	}
	if n := finds.Load() - before; n != 3 { // the head (30), buckets 1 (29–25) and 0 (24–11)
		t.Fatalf("head and two buckets took %d lookups, want 3", n)
	}
	titlesFrom(t, page, 30)
	checkAgainstBuckets(t, s, page)
	if page[1].State() != content.FeedSeen {
		t.Fatalf("progress written before the copy began is lost: %+v", page[1])
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

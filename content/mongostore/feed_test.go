package mongostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

func activityItem(child string, n int) *content.FeedItem {
	return &content.FeedItem{ChildID: child, Key: fmt.Sprintf("asg:asg_%03d:act_1", n), Kind: content.FeedActivity,
		At: t0.Add(time.Duration(n) * time.Hour), AssignmentID: fmt.Sprintf("asg_%03d", n), ActivityID: "act_1",
		Title: fmt.Sprintf("Activity %d", n), ActivityKind: content.ActivityGame, Subject: content.SubjectMaths,
		Minutes: 15, DueAt: t0.Add(72 * time.Hour), SetBy: "stf_1", TeacherName: "Mrs Khan"}
}

// TestFeedPagesNewestFirst: 120 items over three buckets read back newest
// first in pages of 20 with no gaps or repeats, across bucket edges.
func TestFeedPagesNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	const n = 120
	for i := 0; i < n; i++ {
		id, err := s.AddFeedItem(ctx, activityItem("chd_a", i))
		if err != nil {
			t.Fatal(err)
		}
		if want := content.FeedItemID("chd_a", int64(i)); id != want {
			t.Fatalf("item %d: id %s, want %s", i, id, want)
		}
	}
	var got []string
	before := int64(-1)
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		items, next, err := s.FeedPage(ctx, "chd_a", before, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			got = append(got, it.Title)
		}
		if next < 0 {
			break
		}
		before = next
	}
	if len(got) != n {
		t.Fatalf("read %d items, want %d", len(got), n)
	}
	for i, title := range got {
		if want := fmt.Sprintf("Activity %d", n-1-i); title != want {
			t.Fatalf("item %d is %q, want %q", i, title, want)
		}
	}
	// Another child's feed is empty.
	items, next, err := s.FeedPage(ctx, "chd_b", -1, 20)
	if err != nil || len(items) != 0 || next != -1 {
		t.Fatalf("empty feed: %d items, next %d, err %v", len(items), next, err)
	}
}

// TestFeedItemAddedOnce: the same key added again (a retried release), also
// concurrently, yields one item and keeps its progress.
func TestFeedItemAddedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for w := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.AddFeedItem(ctx, activityItem("chd_a", 1))
			if err != nil {
				t.Error(err)
			}
			ids[w] = id
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("racing adds returned different ids: %v", ids)
		}
	}
	if err := s.MarkFeedItemDone(ctx, ids[0], "par_a", "sub_1", 4, "We loved it", t0); err != nil {
		t.Fatal(err)
	}
	if id, err := s.AddFeedItem(ctx, activityItem("chd_a", 1)); err != nil || id != ids[0] {
		t.Fatalf("re-add: %s, %v", id, err)
	}
	items, _, err := s.FeedPage(ctx, "chd_a", -1, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d items, want 1", len(items))
	}
	if it := items[0].ForReader("par_a", false); it.State() != content.FeedDone || it.Rating != 4 || it.Comment != "We loved it" {
		t.Fatalf("progress lost on re-add: %+v", it)
	}
}

// TestFeedProgress: seen, done and replies move forward only and count once.
func TestFeedProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	id, err := s.AddFeedItem(ctx, activityItem("chd_a", 1))
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.FeedItem(ctx, id)
	if err != nil || it.State() != content.FeedNew {
		t.Fatalf("new item: %+v %v", it, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := s.MarkFeedItemSeen(ctx, id, t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if it, _ = s.FeedItem(ctx, id); it.State() != content.FeedSeen || !it.SeenAt.Equal(t0) {
		t.Fatalf("seen: state %s at %v", it.State(), it.SeenAt)
	}
	if err := s.MarkFeedItemDone(ctx, id, "par_a", "sub_1", 5, "", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkFeedItemSeen(ctx, id, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		id, text string
		at       time.Time
	}{{"rep_1", "Lovely work", t0.Add(4 * time.Hour)}, {"rep_1", "Lovely work", t0.Add(4 * time.Hour)}, {"rep_2", "Well done both of you", t0.Add(5 * time.Hour)}} {
		if err := s.RecordFeedReply(ctx, id, "par_a", r.id, r.text, r.at); err != nil {
			t.Fatal(err)
		}
	}
	it, _ = s.FeedItem(ctx, id)
	it = it.ForReader("par_a", false)
	if it.State() != content.FeedDone || it.Rating != 5 || it.ReplyCount() != 2 || it.LatestReply != "Well done both of you" {
		t.Fatalf("after progress: state %s rating %d replies %d latest %q", it.State(), it.Rating, it.ReplyCount(), it.LatestReply)
	}
	for _, bad := range []string{"chd_a.7", "chd_a", "chd_a.x", "chd_b.0", ".0", "chd_a.01"} {
		if _, err := s.MarkFeedItemSeen(ctx, bad, t0); content.ErrorCode(err) != content.CodeNotFound {
			t.Errorf("seen %q: %v, want not found", bad, err)
		}
	}
	if err := s.MarkFeedItemDone(ctx, id, "par_a", "", 6, "", t0); content.ErrorCode(err) != content.CodeInvalid {
		t.Errorf("rating 6: %v", err)
	}
}

// TestFeedResponsesArePerParent: two parents of one child share the item's
// progress, but each one's rating, comment and replies are kept as their
// own, and a reader sees only their own unless the family shares.
func TestFeedResponsesArePerParent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mongotest.NewStore(t)
	id, err := s.AddFeedItem(ctx, activityItem("chd_a", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFeedItemDone(ctx, id, "par_a", "sub_x.chd_a.par_a", 5, "A's private words", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFeedItemDone(ctx, id, "par_b", "sub_x.chd_a.par_b", 2, "B's private words", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFeedReply(ctx, id, "par_b", "rep_b", "Reply to B only", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFeedItemDone(ctx, id, "par.x", "", 1, "x", t0); err == nil {
		t.Fatal("a parent id with a dot named a response field")
	}
	items, _, err := s.FeedPage(ctx, "chd_a", -1, 20)
	if err != nil || len(items) != 1 {
		t.Fatalf("page: %d items, %v", len(items), err)
	}
	a, b := items[0].ForReader("par_a", false), items[0].ForReader("par_b", false)
	if !a.Done || a.Comment != "A's private words" || a.Rating != 5 || a.ReplyCount() != 0 || a.LatestReply != "" {
		t.Errorf("A sees %+v", a)
	}
	if !b.Done || b.Comment != "B's private words" || b.Rating != 2 || b.ReplyCount() != 1 || b.LatestReply != "Reply to B only" {
		t.Errorf("B sees %+v", b)
	}
	if shared := items[0].ForReader("par_a", true); shared.Comment != "B's private words" || shared.ReplyCount() != 1 {
		t.Errorf("shared family view: %+v", shared)
	}
	if len(a.Responses) != 0 || len(b.Responses) != 0 {
		t.Error("a reader's view carries the stored responses")
	}

	// Erasing B takes B's response from the shared item and leaves A's.
	for _, er := range s.Erasers(content.SubjectParent) {
		if er.Area() == "mongo:feed_responses" {
			if _, err := er.Erase(ctx, content.ErasureSubject{Kind: content.SubjectParent, ID: "par_b"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	it, err := s.FeedItem(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := it.ResponseOf("par_b"); ok || len(it.Responses) != 1 || it.Responses[0].Comment != "A's private words" {
		t.Fatalf("after erasing B: %+v", it.Responses)
	}
}

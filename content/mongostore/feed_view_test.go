package mongostore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
)

// TestFeedViewAccessEndsWithTheLink: a parent's kept access to a child's
// feed is gone from the view once a roster import ends or drops the link,
// or erases the parent; a page kept before a feed write is never answered
// after it; an access or page saved from a read older than such a change
// is saved stale.
func TestFeedViewAccessEndsWithTheLink(t *testing.T) {
	ctx := context.Background()
	s := mongotest.NewStore(t)
	now := time.Now().UTC()
	link := func(child string, state content.LinkState) content.ChildLink {
		return content.ChildLink{ChildID: child, SchoolID: "sch_1", State: state, LinkedAt: now}
	}
	p := &content.Parent{ID: "par_1", State: content.ParentActive, Sessions: []string{"ses_1"}, CreatedAt: now,
		Children: []content.ChildLink{link("chd_1", content.LinkLinked), link("chd_2", content.LinkLinked), link("chd_3", content.LinkLinked)}}
	if err := s.CreateParent(ctx, p); err != nil {
		t.Fatal(err)
	}
	keep := func(child string) {
		t.Helper()
		v, err := s.FeedView(ctx, child, now)
		if err != nil {
			t.Fatal(err)
		}
		a := &content.FeedAccess{ParentID: p.ID, Sessions: p.Sessions, SchoolID: "sch_1", CheckedAt: now}
		if err := s.SaveFeedView(ctx, v, nil, -1, a, now); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(child string) bool {
		t.Helper()
		v, err := s.FeedView(ctx, child, now)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := v.Access[p.ID]
		return ok
	}
	for _, c := range []string{"chd_1", "chd_2", "chd_3"} {
		keep(c)
		if !kept(c) {
			t.Fatalf("%s: access not kept", c)
		}
	}
	if v, _ := s.FeedView(ctx, "chd_1", now.Add(content.FeedAccessTTL)); len(v.Access) != 0 {
		t.Fatalf("an access answers past FeedAccessTTL")
	}

	// The import ends chd_1's link (marked removed) and drops chd_2's; chd_3
	// stays linked.
	err := s.ApplyImport(ctx, &content.ImportWrites{ParentUpdates: []content.ParentUpdate{{ID: p.ID,
		Children: []content.ChildLink{link("chd_1", content.LinkRemoved), link("chd_3", content.LinkLinked)},
		Before:   []string{"chd_1", "chd_2", "chd_3"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if kept("chd_1") || kept("chd_2") || !kept("chd_3") {
		t.Fatalf("after the import: kept chd_1 %v, chd_2 %v, chd_3 %v; want false, false, true", kept("chd_1"), kept("chd_2"), kept("chd_3"))
	}

	// A save from a view read before a revocation is stale.
	before, err := s.FeedView(ctx, "chd_3", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ClearAccountSessions(ctx, content.KindParent, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFeedView(ctx, before, nil, -1, &content.FeedAccess{ParentID: p.ID, Sessions: []string{"ses_1"}, CheckedAt: now}, now); err != nil {
		t.Fatal(err)
	}
	if kept("chd_3") {
		t.Fatal("an access checked before the sessions ended answers after it")
	}

	// A page saved from a view read before a feed write is stale.
	if _, err := s.AddFeedItem(ctx, &content.FeedItem{ChildID: "chd_3", Key: "asg:a:act", Kind: content.FeedActivity, At: now, Title: "One"}); err != nil {
		t.Fatal(err)
	}
	base, err := s.FeedView(ctx, "chd_3", now)
	if err != nil {
		t.Fatal(err)
	}
	items, next, err := s.FeedPage(ctx, "chd_3", -1, content.FeedPageMax)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFeedItem(ctx, &content.FeedItem{ChildID: "chd_3", Key: "asg:b:act", Kind: content.FeedActivity, At: now, Title: "Two"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFeedView(ctx, base, items, next, nil, now); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.FeedView(ctx, "chd_3", now); v.HasPage {
		t.Fatal("a page built before a feed write answers after it")
	}
	if err := s.MarkFeedItemDone(ctx, content.FeedItemID("chd_3", 0), p.ID, "sub_1."+p.ID, 5, "Great fun", now); err != nil {
		t.Fatal(err)
	}
	base, _ = s.FeedView(ctx, "chd_3", now)
	items, next, _ = s.FeedPage(ctx, "chd_3", -1, content.FeedPageMax)
	if err := s.SaveFeedView(ctx, base, items, next, nil, now); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.FeedView(ctx, "chd_3", now); !v.HasPage || len(v.Page) != 2 || v.Page[0].Title != "Two" {
		t.Fatalf("a current page is not kept: %+v", v)
	} else if !reflect.DeepEqual(v.Page, items) || v.Next != next || !v.Page[1].Done || len(v.Page[1].Responses) != 1 {
		t.Fatalf("the kept page is not the page read from the feed:\n kept %+v\n read %+v", v.Page, items)
	} else if v2, _ := s.FeedView(ctx, "chd_3", now.Add(content.FeedPageTTL)); v2.HasPage {
		t.Fatal("a page answers past FeedPageTTL")
	}
}

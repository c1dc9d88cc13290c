package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

// keptFeed reads the newest page of the child's feed with tok and checks
// the child's feed view now keeps the parent's access and the page, so the
// next read is answered from the view alone.
func keptFeed(t *testing.T, w *world, tok, childID, parentID string) feedPageDTO {
	t.Helper()
	resp, body := w.h.do("GET", "/v1/children/"+childID+"/feed", nil, tok)
	wantStatus(t, resp, body, 200)
	v, err := w.h.store.FeedView(context.Background(), childID, w.h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Access[parentID]; !ok || !v.HasPage {
		t.Fatalf("after a read the view keeps access %v and a page %v", ok, v.HasPage)
	}
	resp, body = w.h.do("GET", "/v1/children/"+childID+"/feed", nil, tok)
	wantStatus(t, resp, body, 200)
	return decode[feedPageDTO](t, body)
}

// TestKeptFeedAccessEndsWithTheAccess: over HTTP, once a parent's newest
// feed page is answered from the child's feed view alone, whatever takes
// their access away takes it on the very next request: signing out, the
// school unlinking them, the account closing, every session ending (a
// password reset), newer devices pushing the session out. A parent who
// never had the child is refused though the view keeps another's access.
func TestKeptFeedAccessEndsWithTheAccess(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		revoke func(t *testing.T, w *world, tok string)
		want   int
	}{
		{"signs out", func(t *testing.T, w *world, tok string) {
			resp, body := w.h.do("POST", "/v1/auth/logout", nil, tok)
			wantStatus(t, resp, body, 204)
		}, 401},
		{"school unlinks them", func(t *testing.T, w *world, _ string) {
			resp, body := w.h.do("DELETE", "/v1/schools/sch_1/children/chd_1/parents/"+w.ParentA.ID,
				map[string]string{"reason": "court order"}, w.tokens[actAdmin])
			wantStatus(t, resp, body, 204)
		}, 404},
		{"account closes", func(t *testing.T, w *world, _ string) {
			if err := w.h.store.CloseParent(ctx, w.ParentA.ID, w.h.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}, 401},
		{"every session ends", func(t *testing.T, w *world, _ string) {
			if err := w.h.store.ClearAccountSessions(ctx, content.KindParent, w.ParentA.ID); err != nil {
				t.Fatal(err)
			}
		}, 401},
		{"newer devices push the session out", func(t *testing.T, w *world, _ string) {
			for i := 0; i < maxSessionsPerAccount; i++ {
				w.h.login(w.ParentA.Email, fixturePassword)
			}
		}, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			for i := 0; i < 3; i++ {
				w.addFeedItem(t, "chd_1", fmt.Sprintf("asg:kept%d:act", i))
			}
			tok := w.h.login(w.ParentA.Email, fixturePassword).AccessToken
			if page := keptFeed(t, w, tok, "chd_1", w.ParentA.ID); len(page.Items) != 3 {
				t.Fatalf("kept page: %d items, want 3", len(page.Items))
			}
			tc.revoke(t, w, tok)
			for i := 0; i < 2; i++ {
				resp, body := w.h.do("GET", "/v1/children/chd_1/feed", nil, tok)
				wantStatus(t, resp, body, tc.want)
			}
		})
	}
	t.Run("another parent", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.addFeedItem(t, "chd_1", "asg:kept:act")
		keptFeed(t, w, w.h.login(w.ParentA.Email, fixturePassword).AccessToken, "chd_1", w.ParentA.ID)
		for _, actor := range []string{actParentB, actParentOther, actClosed} {
			resp, body := w.h.do("GET", "/v1/children/chd_1/feed", nil, w.tokens[actor])
			if resp.StatusCode != 404 && resp.StatusCode != 401 {
				t.Fatalf("%s reading a feed whose view keeps parent A's access: %d %s", actor, resp.StatusCode, body)
			}
		}
	})
}

// TestKeptFeedPageFollowsTheFeed: a page kept in the child's feed view is
// never served once the feed changed: a new item, an item opened and a
// rating with a comment all show on the next read, and the comment only
// to the parent who wrote it.
func TestKeptFeedPageFollowsTheFeed(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	first := w.addFeedItem(t, "chd_1", "asg:follow1:act")
	tok := w.h.login(w.ParentA.Email, fixturePassword).AccessToken
	if page := keptFeed(t, w, tok, "chd_1", w.ParentA.ID); len(page.Items) != 1 || page.Items[0].State != "new" {
		t.Fatalf("kept page: %+v", page.Items)
	}
	second := w.addFeedItem(t, "chd_1", "asg:follow2:act")
	page := keptFeed(t, w, tok, "chd_1", w.ParentA.ID)
	if len(page.Items) != 2 || page.Items[0].ID != second {
		t.Fatalf("after a new item: %d items, first %q, want 2 and %q", len(page.Items), page.Items[0].ID, second)
	}
	resp, body := w.h.do("POST", "/v1/children/chd_1/feed/"+first+"/seen", nil, tok)
	wantStatus(t, resp, body, 204)
	if page = keptFeed(t, w, tok, "chd_1", w.ParentA.ID); page.Items[1].State != "seen" {
		t.Fatalf("after opening: state %q, want seen", page.Items[1].State)
	}
	if err := w.h.store.MarkFeedItemDone(ctx, first, w.ParentA.ID, "", 4, "We loved the story", w.h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if page = keptFeed(t, w, tok, "chd_1", w.ParentA.ID); page.Items[1].State != "done" || page.Items[1].Rating == nil || *page.Items[1].Rating != 4 ||
		page.Items[1].Comment != "We loved the story" {
		t.Fatalf("after rating: %+v", page.Items[1])
	}
}

// TestKeptFeedPageShowsEachParentTheirOwn: the kept page holds every
// parent's response to the child's items, and each reader still sees only
// their own: a co-parent reading the page parent A's read kept sees the
// activity done (progress is the child's) but not A's rating or comment;
// a contact with no link to the child (no parental responsibility) gets
// 404 from the same kept view.
func TestKeptFeedPageShowsEachParentTheirOwn(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	s := w.h.store
	item := w.addFeedItem(t, "chd_1", "asg:own:act")
	newParent := func(id, email string, kids ...*content.Child) string {
		t.Helper()
		hash, err := w.h.deps.Passwords.Hash(ctx, fixturePassword)
		if err != nil {
			t.Fatal(err)
		}
		p := &content.Parent{ID: id, FirstName: "Co", LastName: "Parent", Email: email, Language: "en",
			State: content.ParentActive, PasswordHash: hash, Sessions: []string{}, LastActiveAt: w.h.clock.Now(), CreatedAt: w.h.clock.Now()}
		if err := s.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := s.PutLogin(ctx, &content.Login{Key: loginKey(content.KindParent, "email", email), Kind: content.KindParent, AccountID: id}); err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if err := w.h.linkForTest(ctx, p, k); err != nil {
				t.Fatal(err)
			}
		}
		return w.h.login(email, fixturePassword).AccessToken
	}
	coParent := newParent("par_co", "co.parent@example.test", w.K1)
	contact := newParent("par_contact", "contact@example.test")
	if err := s.MarkFeedItemDone(ctx, item, w.ParentA.ID, "", 5, "Parent A's own words", w.h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	tokA := w.h.login(w.ParentA.Email, fixturePassword).AccessToken
	if page := keptFeed(t, w, tokA, "chd_1", w.ParentA.ID); page.Items[0].Comment != "Parent A's own words" {
		t.Fatalf("parent A's own comment: %q", page.Items[0].Comment)
	}
	page := keptFeed(t, w, coParent, "chd_1", "par_co")
	if it := page.Items[0]; it.State != "done" || it.Comment != "" || it.Rating != nil {
		t.Fatalf("co-parent sees state %q, comment %q, rating %v; want done and neither of A's", it.State, it.Comment, it.Rating)
	}
	resp, body := w.h.do("GET", "/v1/children/chd_1/feed", nil, contact)
	wantStatus(t, resp, body, 404)
}

package api

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// freshParent adds a signed-in parent linked to child k (password
// fixturePassword) and returns it with its access token: routes that end
// an account act on one of these, not on the matrix's actors.
func (w *world) freshParent(t testing.TB, k *content.Child) (*content.Parent, string) {
	t.Helper()
	ctx := context.Background()
	hash, err := w.h.deps.Passwords.Hash(ctx, fixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	id := content.NewID("par")
	email := id + "@example.test"
	p := &content.Parent{ID: id, FirstName: "Fresh", LastName: "Parent", Email: email, Language: "en",
		State: content.ParentActive, PasswordHash: hash, Sessions: []string{}, LastActiveAt: w.h.clock.Now(), CreatedAt: w.h.clock.Now()}
	if err := w.h.store.CreateParent(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := w.h.store.PutLogin(ctx, &content.Login{Key: loginKey(content.KindParent, "email", email), Kind: content.KindParent, AccountID: id}); err != nil {
		t.Fatal(err)
	}
	if err := w.h.linkForTest(ctx, p, k); err != nil {
		t.Fatal(err)
	}
	return p, w.h.login(email, fixturePassword).AccessToken
}

// rightsCell: parent actors act on a fresh account at their own school;
// everyone else uses their own token (and is refused).
func rightsCell(path string, body any) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, actor string) cell {
		switch actor {
		case actParentA, actParentB:
			_, tok := w.freshParent(t, w.K1)
			return cell{path: path, body: body, token: tok}
		case actParentOther:
			_, tok := w.freshParent(t, w.KO)
			return cell{path: path, body: body, token: tok}
		}
		return cell{path: path, body: body}
	}
}

func TestMyRetentionTimeline(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	resp, body := w.h.do("GET", "/v1/me/retention", nil, w.tokens[actParentA])
	wantStatus(t, resp, body, 200)
	got := decode[retentionDTO](t, body)
	last := w.h.clock.Now().UTC()
	if got.State != "active" || got.ClosesOn == nil || !got.ClosesOn.Equal(last.AddDate(0, 12, 0)) ||
		got.NoticeOn == nil || !got.NoticeOn.Equal(last.AddDate(0, 11, 0)) || got.ErasesOn != nil {
		t.Fatalf("timeline %+v (last seen %v)", got, last)
	}
}

// TestCloseMyAccount: closing is immediate — the same token fails on the
// next request, signing in fails, the closure is audited.
func TestCloseMyAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p, tok := w.freshParent(t, w.K1)
	resp, body := w.h.do("POST", "/v1/me/close", map[string]string{"password": fixturePassword}, tok)
	wantStatus(t, resp, body, 200)
	got := decode[closeAccountDTO](t, body)
	if got.State != "closed" || got.ErasesOn == nil || !got.ErasesOn.Equal(got.ClosedAt.Add(90*24*time.Hour)) {
		t.Fatalf("close answer %+v", got)
	}
	resp, body = w.h.do("GET", "/v1/me", nil, tok)
	wantStatus(t, resp, body, 401)
	resp, body = w.h.do("POST", "/v1/auth/login", map[string]string{"email": p.Email, "password": fixturePassword}, "")
	wantStatus(t, resp, body, 401)
	stored, err := w.h.store.Parent(context.Background(), p.ID)
	if err != nil || stored.State != content.ParentClosed || len(stored.Sessions) != 0 {
		t.Fatalf("stored %+v %v", stored, err)
	}
}

// TestEraseMe: the password confirms; a wrong one changes nothing; the
// right one closes the account at once and queues the erasure chain.
func TestEraseMe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	p, tok := w.freshParent(t, w.K1)
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no password", map[string]string{}, 403, "password"},
		{"unknown field", map[string]any{"password": fixturePassword, "schoolId": "sch_2"}, 400, ""},
		{"wrong password", map[string]string{"password": "not-the-password-1"}, 403, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := w.h.do("POST", "/v1/me/erase", tc.body, tok)
			wantStatus(t, resp, body, tc.status)
			if tc.field != "" {
				e := decode[struct {
					Error struct {
						Fields map[string]string `json:"fields"`
					} `json:"error"`
				}](t, body)
				if e.Error.Fields[tc.field] == "" {
					t.Fatalf("no field error for %s: %s", tc.field, body)
				}
			}
			if st, _ := w.h.store.Parent(ctx, p.ID); st.State != content.ParentActive {
				t.Fatalf("refused erasure left the account %s", st.State)
			}
			if _, err := w.h.store.Erasure(ctx, "parent:"+p.ID); !content.IsCode(err, content.CodeNotFound) {
				t.Fatalf("refused erasure wrote a record (%v)", err)
			}
		})
	}
	resp, body := w.h.do("POST", "/v1/me/erase", map[string]string{"password": fixturePassword}, tok)
	wantStatus(t, resp, body, 202)
	rec := decode[erasureDTO](t, body)
	if rec.ID != "parent:"+p.ID || rec.Reason != content.ErasureRequested || rec.CompletedAt != nil {
		t.Fatalf("erasure answer %+v", rec)
	}
	queued := w.h.queue.OfType(tasks.TypeEraseStage)
	if len(queued) != 1 {
		t.Fatalf("%d erasure stages queued, want 1", len(queued))
	}
	if st, _ := tasks.ParseEraseStage(queued[0].Payload()); st.ID != p.ID || st.Kind != content.SubjectParent || st.Stage != 0 {
		t.Fatalf("queued stage %+v", st)
	}
	resp, body = w.h.do("GET", "/v1/me", nil, tok)
	wantStatus(t, resp, body, 401)
	stored, _ := w.h.store.Erasure(ctx, "parent:"+p.ID)
	if !slices.Equal(stored.SchoolIDs, []string{"sch_1"}) || stored.RequestedBy != p.ID {
		t.Fatalf("erasure record %+v", stored)
	}
}

// TestSubscriptionEndAndReactivate: admins end and resume; the purge date
// is six weeks on; once the purge has started reactivation is refused.
func TestSubscriptionEndAndReactivate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	confirm := map[string]string{"confirm_school_name": "Riverside Primary", "password": fixturePassword}
	resp, body := w.h.do("POST", "/v1/schools/sch_1/subscription/end", confirm, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	got := decode[subscriptionStateDTO](t, body)
	if got.State != "ended" || got.EndedAt == nil || got.PurgesOn == nil || !got.PurgesOn.Equal(got.EndedAt.Add(42*24*time.Hour)) {
		t.Fatalf("ended %+v", got)
	}
	w.h.clock.Advance(time.Minute)
	resp, body = w.h.do("POST", "/v1/schools/sch_1/subscription/end", confirm, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	if again := decode[subscriptionStateDTO](t, body); !again.EndedAt.Equal(*got.EndedAt) {
		t.Fatalf("ending again moved the end from %v to %v", got.EndedAt, again.EndedAt)
	}
	resp, body = w.h.do("POST", "/v1/schools/sch_1/subscription/reactivate", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	if r := decode[subscriptionStateDTO](t, body); r.State != "active" || r.EndedAt != nil || r.PurgesOn != nil {
		t.Fatalf("reactivated %+v", r)
	}
	// Once a purge has started there is nothing to reactivate.
	if _, _, err := w.h.store.StartErasure(ctx, &content.ErasureRecord{Subject: content.ErasureSubject{Kind: content.SubjectSchool, ID: "sch_1"},
		Reason: content.ErasureSchoolEnded, RequestedAt: w.h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	resp, body = w.h.do("POST", "/v1/schools/sch_1/subscription/reactivate", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 409)
}

// TestSignInCancelsInactivityNotice: a warned parent who signs in is active
// again with the notice cleared.
func TestSignInCancelsInactivityNotice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	p, _ := w.freshParent(t, w.K1)
	if err := w.h.store.WarnParents(ctx, []string{p.ID}, w.h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.h.clock.Advance(24 * time.Hour)
	w.h.login(p.Email, fixturePassword)
	got, err := w.h.store.Parent(ctx, p.ID)
	if err != nil || got.State != content.ParentActive || !got.WarnedAt.IsZero() || !got.LastActiveAt.Equal(w.h.clock.Now()) {
		t.Fatalf("after sign-in %+v %v", got, err)
	}
}

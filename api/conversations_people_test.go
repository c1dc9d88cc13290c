package api

import (
	"context"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

// TestConversationAndInboxReachOnlyTheirParent tries a family's thread and
// inbox item from everyone near it: a co-parent of the same child (their
// own account, parental responsibility too), a school contact with no
// parental responsibility (a parent record with no link to the child), a
// parent of another school, and the parent themselves once the school has
// unlinked them. Only the parent, while linked, sees either.
func TestConversationAndInboxReachOnlyTheirParent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, ctx := w.h, context.Background()
	account := func(id, email string, kids ...*content.Child) string {
		t.Helper()
		hash, err := h.deps.Passwords.Hash(ctx, fixturePassword)
		if err != nil {
			t.Fatal(err)
		}
		p := &content.Parent{ID: id, FirstName: "Near", LastName: "By", Email: email, Language: "en",
			State: content.ParentActive, PasswordHash: hash, Sessions: []string{}, CreatedAt: h.clock.Now()}
		if err := h.store.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := h.store.PutLogin(ctx, &content.Login{Key: loginKey(content.KindParent, "email", email),
			Kind: content.KindParent, AccountID: id}); err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if err := h.linkForTest(ctx, p, k); err != nil {
				t.Fatal(err)
			}
		}
		return h.login(email, fixturePassword).AccessToken
	}
	coParent := account("par_co", "co.parent@example.test", w.K1)
	contact := account("par_contact", "contact.no.pr@example.test")
	a, other := w.tokens[actParentA], w.tokens[actParentOther]

	const first = "Is PE on Tuesday this week?"
	resp, body := h.do("POST", "/v1/me/conversations", map[string]any{"child_id": "chd_1", "body": first}, a,
		withHeader("Idempotency-Key", "people-1"))
	wantStatus(t, resp, body, 201)
	conv := decode[convView](t, body)
	item := content.InboxItem{ID: content.InboxItemID("par_a", conv.ID), ParentID: "par_a", SchoolID: "sch_1",
		Kind: content.InboxConversation, SourceID: conv.ID, Title: "Message from the Kingfishers",
		ChildIDs: []string{"chd_1"}, ClassIDs: []string{"cls_1"}, CreatedAt: h.clock.Now()}
	if err := h.store.AddToInbox(ctx, []*content.InboxItem{&item}); err != nil {
		t.Fatal(err)
	}

	thread, itemPath := "/v1/me/conversations/"+conv.ID, "/v1/me/inbox/"+item.ID
	for name, tok := range map[string]string{"co-parent": coParent, "contact without parental responsibility": contact,
		"parent at another school": other} {
		for _, path := range []string{thread, itemPath} {
			resp, body := h.do("GET", path, nil, tok)
			wantStatus(t, resp, body, 404)
		}
		resp, body := h.do("POST", thread+"/messages", map[string]any{"body": "hello"}, tok,
			withHeader("Idempotency-Key", "people-"+name))
		wantStatus(t, resp, body, 404)
		for _, list := range []string{"/v1/me/conversations", "/v1/me/inbox"} {
			resp, body := h.do("GET", list, nil, tok)
			wantStatus(t, resp, body, 200)
			if strings.Contains(string(body), conv.ID) || strings.Contains(string(body), first) {
				t.Errorf("%s's %s shows parent A's thread: %s", name, list, body)
			}
		}
	}
	// The contact cannot start a thread about a child they are not linked to.
	resp, body = h.do("POST", "/v1/me/conversations", map[string]any{"child_id": "chd_1", "body": "hi"}, contact,
		withHeader("Idempotency-Key", "people-contact"))
	wantStatus(t, resp, body, 404)

	// Parent A sees both while linked.
	for _, path := range []string{thread, itemPath} {
		resp, body := h.do("GET", path, nil, a)
		wantStatus(t, resp, body, 200)
	}
	// Once the school unlinks parent A, neither the thread nor the item
	// answers, and neither list shows them.
	resp, body = h.do("DELETE", "/v1/schools/sch_1/children/chd_1/parents/par_a",
		map[string]any{"reason": "court order"}, w.tokens[actAdmin])
	wantStatus(t, resp, body, 204)
	for _, path := range []string{thread, itemPath} {
		resp, body := h.do("GET", path, nil, a)
		wantStatus(t, resp, body, 404)
	}
	for _, list := range []string{"/v1/me/conversations", "/v1/me/inbox"} {
		resp, body := h.do("GET", list, nil, a)
		wantStatus(t, resp, body, 200)
		if strings.Contains(string(body), conv.ID) {
			t.Errorf("unlinked parent A's %s still shows the thread: %s", list, body)
		}
	}
}

package api

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// auditReasons lists the reasons of the school's audit events with action.
func auditReasons(t *testing.T, w *world, action, subject string) []string {
	t.Helper()
	cur, err := w.h.store.Database().Collection("audit").Find(context.Background(), bson.M{"action": action, "subject": subject})
	if err != nil {
		t.Fatal(err)
	}
	var events []struct {
		ActorID string `bson:"actorId"`
		Reason  string `bson:"reason"`
	}
	if err := cur.All(context.Background(), &events); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.ActorID != w.Admin.ID {
			t.Errorf("%s audited as done by %q", action, e.ActorID)
		}
		out = append(out, e.Reason)
	}
	return out
}

// TestUnlinkIsASafeguardingCut (A5): unlinking needs a reason (422
// without), which is audited and never shown to the parent or logged; the
// parent is cut off at once from the child, the feed, the photos and the
// submissions; only an admin's link with a reason (audited) restores them,
// and giving the parent's phone as a "new" parent is no way round it.
func TestUnlinkIsASafeguardingCut(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin, pa := w.tokens[actAdmin], w.tokens[actParentA]
	ph := w.storePhotoOfA(t)
	w.submitAsA(t)
	reads := []string{"/v1/children/chd_1", "/v1/children/chd_1/feed", "/v1/photos/" + ph.ID,
		"/v1/children/chd_1/assignments/asg_1/submission"}
	for _, path := range reads {
		r, b := w.h.do("GET", path, nil, pa)
		wantStatus(t, r, b, 200)
	}

	unlink := "/v1/schools/sch_1/children/chd_1/parents/par_a"
	for _, body := range []any{nil, map[string]any{}, map[string]any{"reason": "   "}} {
		r, b := w.h.do("DELETE", unlink, body, admin)
		wantStatus(t, r, b, 422)
		if e := decode[errorBody](t, b); e.Error.Fields["reason"] == "" {
			t.Fatalf("422 without naming the reason: %s", b)
		}
	}
	r, b := w.h.do("GET", "/v1/children/chd_1", nil, pa)
	wantStatus(t, r, b, 200) // nothing was unlinked without a reason

	const reason = "Court order 4471 received: no contact with Eirlys"
	r, b = w.h.do("DELETE", unlink, map[string]any{"reason": reason}, admin)
	wantStatus(t, r, b, 204)
	for _, path := range reads {
		r, b := w.h.do("GET", path, nil, pa)
		wantStatus(t, r, b, 404)
		if strings.Contains(string(b), "Eirlys") {
			t.Errorf("%s names the child after the unlink: %s", path, b)
		}
	}
	r, b = w.h.do("POST", "/v1/children/chd_1/assignments/asg_1/submission", map[string]any{"done": true}, pa)
	wantStatus(t, r, b, 404)
	r, b = w.h.do("GET", "/v1/me", nil, pa)
	wantStatus(t, r, b, 200)
	if me := decode[meDTO](t, b); len(me.Children) != 0 || strings.Contains(string(b), "Court order") {
		t.Fatalf("me after the unlink: %s", b)
	}
	if got := auditReasons(t, w, "parent.unlink", "parent:par_a"); len(got) != 1 || got[0] != reason {
		t.Fatalf("unlink audited with reasons %q, want [%q]", got, reason)
	}
	if strings.Contains(w.h.logBuf.String(), "Court order") {
		t.Fatal("the unlink reason reached the logs")
	}
	k, err := w.h.store.Child(context.Background(), "chd_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Severed) != 1 || k.Severed[0].ParentID != "par_a" || k.Severed[0].By != w.Admin.ID || len(k.Severed[0].ContactKeys) != 2 {
		t.Fatalf("severance recorded as %+v", k.Severed)
	}

	// Linking again needs a reason, whether the parent is named by id or
	// comes back as "new" contact details with the same phone.
	link := "/v1/schools/sch_1/children/chd_1/parents"
	for _, body := range []map[string]any{
		{"parent_id": "par_a"},
		{"first_name": "Gwen", "last_name": "Pritchard", "phone": "07911 123501"},
		{"first_name": "Gwen", "last_name": "Pritchard", "email": "GWEN.P@example.test"},
	} {
		r, b := w.h.do("POST", link, body, admin)
		wantStatus(t, r, b, 422)
		if e := decode[errorBody](t, b); e.Error.Fields["reason"] == "" {
			t.Fatalf("422 without naming the reason: %s", b)
		}
	}
	r, b = w.h.do("GET", "/v1/children/chd_1", nil, pa)
	wantStatus(t, r, b, 404)

	const relink = "Order discharged 9 May"
	r, b = w.h.do("POST", link, map[string]any{"parent_id": "par_a", "reason": relink}, admin)
	wantStatus(t, r, b, 201)
	if got := auditReasons(t, w, "parent.relink", "parent:par_a"); len(got) != 1 || got[0] != relink {
		t.Fatalf("re-link audited with reasons %q, want [%q]", got, relink)
	}
	for _, path := range reads {
		r, b := w.h.do("GET", path, nil, pa)
		wantStatus(t, r, b, 200)
	}
	if k, _ := w.h.store.Child(context.Background(), "chd_1"); len(k.Severed) != 0 {
		t.Fatalf("the re-link left the severance: %+v", k.Severed)
	}
}

// rosterCSV is the whole of S1 as an Arbor-style export: K1 with parent
// A's contacts, K2 with parent B's, K3 with a family contact, each with
// parental responsibility.
const rosterCSV = "UPN,Forename,Surname,Year,Class,Contact 1 Name,Contact 1 Mobile,Contact 1 Email,Contact 1 Parental Responsibility\r\n" +
	"H801200001001,Eirlys,Pritchard,Y2,Kingfishers,Gwenllian Pritchard,07911 123501,gwen.p@example.test,Yes\r\n" +
	"H801200001002,Zofia,Kowalczyk,Y2,Kingfishers,Katarzyna Kowalczyk,07911 123502,kasia.k@example.test,Yes\r\n" +
	"H801200001003,Idris,Vaughan,Y4,Herons,Rhys Vaughan,07911 123600,rhys.v@example.test,Yes\r\n"

func (w *world) importRoster(t *testing.T) importResultDTO {
	t.Helper()
	r, b := w.h.do("POST", "/v1/schools/sch_1/imports?dry_run=false&pr_missing=treat_all_as_parents", rosterCSV, w.tokens[actAdmin],
		withHeader("Content-Type", "text/csv"))
	wantStatus(t, r, b, 200)
	return decode[importResultDTO](t, b)
}

// liveParents lists the parents with a live link to the child.
func (w *world) liveParents(t *testing.T, childID string) []string {
	t.Helper()
	k, err := w.h.store.Child(context.Background(), childID)
	if err != nil {
		t.Fatal(err)
	}
	return linkedParents(k)
}

// TestUnlinkSurvivesReimport (A5): the MIS file still lists the unlinked
// parent's contact; importing it again links nobody back, neither the same
// parent nor a new placeholder the import makes for the same phone after
// the first one was erased, and invites nobody for the severed child.
func TestUnlinkSurvivesReimport(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	admin := w.tokens[actAdmin]
	w.importRoster(t)
	k3 := w.liveParents(t, "chd_3")
	if len(k3) != 1 || !slices.Contains(w.liveParents(t, "chd_1"), "par_a") {
		t.Fatalf("first import: K1 %v, K3 %v", w.liveParents(t, "chd_1"), k3)
	}
	rhys := k3[0]

	for _, u := range []string{"/v1/schools/sch_1/children/chd_1/parents/par_a", "/v1/schools/sch_1/children/chd_3/parents/" + rhys} {
		r, b := w.h.do("DELETE", u, map[string]any{"reason": "Safeguarding: see file"}, admin)
		wantStatus(t, r, b, 204)
	}
	// The invited parent is erased (their document becomes a tombstone),
	// so the next import does not match them and makes a new placeholder
	// for the same contact.
	pr, err := w.h.store.Parent(ctx, rhys)
	if err != nil {
		t.Fatal(err)
	}
	pr.State, pr.FirstName, pr.LastName, pr.Phone, pr.Email = content.ParentErased, "", "", "", ""
	if err := w.h.store.UpdateParent(ctx, pr); err != nil {
		t.Fatal(err)
	}

	got := w.importRoster(t)
	if p := w.liveParents(t, "chd_1"); slices.Contains(p, "par_a") {
		t.Fatalf("the re-import linked parent A to K1 again: %v", p)
	}
	if p := w.liveParents(t, "chd_3"); len(p) != 0 {
		t.Fatalf("the re-import linked K3 to %v, the severed contact", p)
	}
	r, b := w.h.do("GET", "/v1/children/chd_1", nil, w.tokens[actParentA])
	wantStatus(t, r, b, 404)
	if got.InviteBroadcastID != "" {
		bc, err := w.h.store.Broadcast(ctx, got.InviteBroadcastID)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := w.h.store.AudienceParents(ctx, bc)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if pa, err := w.h.store.Parent(ctx, id); err == nil && pa.Phone == "+447911123600" {
				t.Fatalf("the re-import invites the severed contact again (%s)", id)
			}
		}
	}
	n, err := w.h.store.Database().Collection("parents").CountDocuments(ctx, bson.M{"phone": "+447911123600"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the re-import made %d placeholder(s) for the severed contact", n)
	}
}

// TestUnlinkRevokesOutstandingCodes (A5): a code issued before the unlink
// stops working when it covered only the severed child, and one covering
// other children no longer links the severed one when it is claimed into
// an existing account.
func TestUnlinkRevokesOutstandingCodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin := w.tokens[actAdmin]
	newParent := func(childID string, body map[string]any) parentDTO {
		t.Helper()
		r, b := w.h.do("POST", "/v1/schools/sch_1/children/"+childID+"/parents", body, admin)
		wantStatus(t, r, b, 201)
		return decode[parentDTO](t, b)
	}
	code := func(parentID string) string {
		t.Helper()
		r, b := w.h.do("POST", "/v1/schools/sch_1/parents/"+parentID+"/invite-code", nil, admin)
		wantStatus(t, r, b, 201)
		return decode[inviteCodeDTO](t, b).Code
	}
	unlink := func(childID, parentID string) {
		t.Helper()
		r, b := w.h.do("DELETE", "/v1/schools/sch_1/children/"+childID+"/parents/"+parentID, map[string]any{"reason": "Safeguarding"}, admin)
		wantStatus(t, r, b, 204)
	}

	// Only K3: the code dies with the link, for redemption and for claims.
	only := newParent("chd_3", map[string]any{"first_name": "Rhys", "last_name": "Vaughan", "phone": "07911 123600"})
	c1 := code(only.ID)
	unlink("chd_3", only.ID)
	r, b := w.h.do("POST", "/v1/invites/redeem", redeemBody(c1, "rhys.v@example.test"), "")
	wantStatus(t, r, b, 400)
	r, b = w.h.do("POST", "/v1/me/invites/claim", claimBody(c1), w.tokens[actParentA])
	wantStatus(t, r, b, 400)

	// K3 and K2, claimed into parent A's existing account: A gets K2, not K3.
	both := newParent("chd_3", map[string]any{"first_name": "Mari", "last_name": "Vaughan", "phone": "07911 123601"})
	newParent("chd_2", map[string]any{"parent_id": both.ID})
	c2 := code(both.ID)
	unlink("chd_3", both.ID)
	claimed := w.h.claim(c2, w.tokens[actParentA])
	var kids []string
	for _, c := range claimed.Children {
		kids = append(kids, c.ID)
	}
	r, b = w.h.do("GET", "/v1/me", nil, w.tokens[actParentA])
	wantStatus(t, r, b, 200)
	for _, c := range decode[meDTO](t, b).Children {
		kids = append(kids, c.ID)
	}
	if !slices.Contains(kids, "chd_2") || slices.Contains(kids, "chd_3") {
		t.Fatalf("after claiming a code issued before the unlink, A has %v (want K2, not K3)", kids)
	}
	if p := w.liveParents(t, "chd_3"); len(p) != 0 {
		t.Fatalf("K3 linked to %v", p)
	}
}

// TestRemovedChildStaysReadable (A6): when the school removes a child
// (they left), the linked parent keeps reading the child, the feed, their
// submission and photos, but nothing new is accepted (409 child_left, also
// from staff); the parent gets one child_left notice, however often the
// removal is repeated.
func TestRemovedChildStaysReadable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin, pa := w.tokens[actAdmin], w.tokens[actParentA]
	ph := w.storePhotoOfA(t)
	sub := w.submitAsA(t)
	wk := newInviteWorker(t, w.h)
	remove := func() {
		t.Helper()
		r, b := w.h.do("DELETE", "/v1/schools/sch_1/children/chd_1", nil, admin)
		wantStatus(t, r, b, 204)
		for _, task := range w.h.queue.OfType(tasks.TypeExpandBroadcast) {
			wk.run(t, task)
		}
		wk.drain(t)
	}
	remove()

	for _, path := range []string{"/v1/children/chd_1", "/v1/children/chd_1/feed", "/v1/photos/" + ph.ID,
		"/v1/children/chd_1/assignments/asg_1/submission"} {
		r, b := w.h.do("GET", path, nil, pa)
		wantStatus(t, r, b, 200)
	}
	r, b := w.h.do("GET", "/v1/me", nil, pa)
	wantStatus(t, r, b, 200)
	me := decode[meDTO](t, b)
	if len(me.Children) != 1 || me.Children[0].ID != "chd_1" || !me.Children[0].LeftSchool {
		t.Fatalf("me after the child left: %s", b)
	}

	photo, ct := multipartPhoto(t, smallJPEG(t))
	writes := []struct {
		name, method, path string
		body               any
		token              string
		opts               []reqOpt
	}{
		{"submission", "POST", "/v1/children/chd_1/assignments/asg_1/submission", map[string]any{"done": true, "rating": 5}, pa, nil},
		{"photo", "POST", "/v1/children/chd_1/assignments/asg_1/submission/photos", photo, pa, []reqOpt{withHeader("Content-Type", ct)}},
		{"parent reply", "POST", "/v1/children/chd_1/assignments/asg_1/submission/replies", map[string]any{"body": "Thanks!"}, pa, nil},
		{"teacher reply", "POST", "/v1/schools/sch_1/assignments/asg_1/submissions/" + sub.ID + "/replies", map[string]any{"body": "Well done"}, w.tokens[actTeacher], nil},
		{"award", "POST", "/v1/schools/sch_1/children/chd_1/awards", map[string]any{"reason": "Kindness"}, w.tokens[actTeacher], nil},
	}
	for _, c := range writes {
		r, b := w.h.do(c.method, c.path, c.body, c.token, c.opts...)
		if r.StatusCode != 409 || decode[errorBody](t, b).Error.Code != string(content.CodeChildLeft) {
			t.Errorf("%s about a child who left: %d %s, want 409 child_left", c.name, r.StatusCode, b)
		}
	}
	stored, err := w.h.store.Submission(context.Background(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Rating != sub.Rating || len(stored.Replies) != 0 || len(stored.PhotoIDs) != len(sub.PhotoIDs) {
		t.Fatalf("the submission changed after the child left: %+v", stored)
	}

	// One notice, in the parent's language, even when the removal is repeated.
	remove()
	if n := wk.twilio.SentTo(w.ParentA.Phone); n != 1 {
		t.Fatalf("parent A got %d texts, want one child_left notice", n)
	}
	for _, m := range wk.twilio.Accepted() {
		if m.To == w.ParentA.Phone && !strings.Contains(m.Body, "Eirlys has left Riverside Primary") {
			t.Fatalf("the notice reads %q", m.Body)
		}
	}
	// Parent B (another child) heard nothing.
	if n := wk.twilio.SentTo(w.ParentB.Phone); n != 0 {
		t.Fatalf("parent B got %d texts", n)
	}
}

// TestUnlinkDropsPendingMessagesAboutTheChild (A5): an award about K1 is
// queued for parent A (who also has K2 at the school); the school unlinks
// A from K1 before it is sent; the sender re-checks the link at send time
// and A is not told about K1.
func TestUnlinkDropsPendingMessagesAboutTheChild(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin := w.tokens[actAdmin]
	wk := newInviteWorker(t, w.h)
	r, b := w.h.do("POST", "/v1/schools/sch_1/children/chd_2/parents", map[string]any{"parent_id": "par_a"}, admin)
	wantStatus(t, r, b, 201)
	r, b = w.h.do("POST", "/v1/schools/sch_1/children/chd_1/awards", map[string]any{"reason": "Kindness"}, w.tokens[actTeacher])
	wantStatus(t, r, b, 201)
	award := decode[awardDTO](t, b)
	for _, task := range w.h.queue.OfType(tasks.TypeExpandBroadcast) {
		wk.run(t, task) // the award's pages are written and their sends queued
	}
	page, err := w.h.store.LedgerPage(context.Background(), content.LedgerPageID("brd_"+award.ID, 0))
	if err != nil || len(page.Entries) != 1 || page.Entries[0].RecipientID != "par_a" {
		t.Fatalf("the award was not owed to parent A before the unlink: %+v %v", page, err)
	}
	r, b = w.h.do("DELETE", "/v1/schools/sch_1/children/chd_1/parents/par_a", map[string]any{"reason": "Safeguarding"}, admin)
	wantStatus(t, r, b, 204)
	wk.drain(t)
	if n := wk.twilio.SentTo(w.ParentA.Phone); n != 0 {
		t.Fatalf("parent A was sent %d message(s) about a child they were unlinked from", n)
	}
	page, err = w.h.store.LedgerPage(context.Background(), content.LedgerPageID("brd_"+award.ID, 0))
	if err != nil || page.Entries[0].State() != content.StateSuppressed || page.Entries[0].ErrorCode != "not_linked" {
		t.Fatalf("the award's entry after the unlink: %+v %v", page, err)
	}
}

// TestRemovedChildReadableUntilPurge (A6, E3): a child the school removed
// stays readable to the linked parent 89 days on; once the parent has gone
// too (here: they erase their account), the child-purge clock (90 days
// after the school's and every parent's removal) deletes the child, the
// feed and the photos.
func TestRemovedChildReadableUntilPurge(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	ph := w.storePhotoOfA(t)
	if _, err := w.h.store.AddFeedItem(ctx, &content.FeedItem{ChildID: "chd_1", Key: "awd:awd_1", Kind: content.FeedAward,
		At: w.h.clock.Now(), Title: "Award", SetBy: w.Teacher.ID, TeacherName: "Ms Llewellyn", AwardID: "awd_1", Reason: "Kindness"}); err != nil {
		t.Fatal(err)
	}
	wk := newInviteWorker(t, w.h)
	r, b := w.h.do("DELETE", "/v1/schools/sch_1/children/chd_1", nil, w.tokens[actAdmin])
	wantStatus(t, r, b, 204)
	sweepChildren := func() {
		t.Helper()
		task, err := tasks.NewRetentionSweep(tasks.SweepChildren, content.DayKey(w.h.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		wk.run(t, task)
		wk.drain(t)
	}

	w.h.clock.Advance(89 * 24 * time.Hour)
	sweepChildren()
	tok := w.h.login(w.ParentA.Email, fixturePassword).AccessToken
	for _, path := range []string{"/v1/children/chd_1", "/v1/children/chd_1/feed", "/v1/photos/" + ph.ID} {
		r, b := w.h.do("GET", path, nil, tok)
		wantStatus(t, r, b, 200)
		if strings.HasSuffix(path, "/feed") && len(decode[feedPageDTO](t, b).Items) != 1 {
			t.Fatalf("the feed 89 days after the child left: %s", b)
		}
	}
	// The parent goes too: their erasure pulls their link from the child.
	r, b = w.h.do("POST", "/v1/me/erase", map[string]string{"password": fixturePassword}, tok)
	wantStatus(t, r, b, 202)
	for _, task := range w.h.queue.OfType(tasks.TypeEraseStage) {
		wk.run(t, task)
	}
	wk.drain(t)
	sweepChildren() // day 89: the school's removal is not 90 days old yet
	if _, err := w.h.store.Child(ctx, "chd_1"); err != nil {
		t.Fatalf("the child was purged before the clock ran out: %v", err)
	}
	w.h.clock.Advance(24 * time.Hour)
	sweepChildren()
	if _, err := w.h.store.Child(ctx, "chd_1"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("the child is still stored after the purge clock (%v)", err)
	}
	if _, err := w.h.store.Photo(ctx, ph.ID); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("the child's photo is still stored after the purge clock (%v)", err)
	}
	if items, _, err := w.h.store.FeedPage(ctx, "chd_1", -1, 10); err != nil || len(items) != 0 {
		t.Fatalf("the child's feed after the purge: %d items (%v)", len(items), err)
	}
}

package worker

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/sync/semaphore"
)

// snapshotFixture is an SMS fixture whose page is written by the real
// expansion, so its entries carry the recipients' snapshots: parents
// linked at the school, each to one child, and an award broadcast about
// those children (child_ids), so an unlink matters at send time.
func snapshotFixture(t *testing.T, n int) (*smsFixture, []*content.Parent) {
	t.Helper()
	ctx := context.Background()
	ps := parentsN(n)
	var ids, kids []string
	for i, p := range ps {
		kid := "chd_" + p.ID
		p.Children = []content.ChildLink{{ChildID: kid, SchoolID: "sch_1", FirstName: []string{"Efa", "Bryn", "Cai", "Dewi"}[i%4],
			State: content.LinkLinked}}
		ids, kids = append(ids, p.ID), append(kids, kid)
	}
	f := newSMSFixture(t, ps, 1_000_000)
	b := &content.Broadcast{ID: "brd_snap", SchoolID: "sch_1", Template: string(notify.TemplateAward), Category: "awards",
		Params:   map[string]string{"teacher_name": "Mrs Khan", "child_ids": strings.Join(kids, ",")},
		Audience: content.Audience{ParentIDs: ids}, State: content.BroadcastExpanding}
	if err := f.store.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	expand(t, f.store, f.queue, b.ID)
	f.page = content.LedgerPageID(b.ID, 0)
	page, err := f.store.LedgerPage(ctx, f.page)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != n || page.SnapshotAt.IsZero() {
		t.Fatalf("page holds %d entries (want %d), snapshot at %v", len(page.Entries), n, page.SnapshotAt)
	}
	for _, e := range page.Entries {
		if e.Channel != "sms" || e.Snapshot == nil || e.Snapshot.Phone == "" || len(e.Snapshot.Children) != 1 {
			t.Fatalf("entry %+v: want an SMS entry with the parent's snapshot", e)
		}
	}
	return f, ps
}

// TestSMSSendsFromTheSnapshot: an unchanged parent's SMS is sent from the
// ledger's snapshot, with no read of their record. The proof: a number
// changed in the record behind the store's back (no change mark, which no
// store write skips) is not seen, while the snapshot's own number, child's
// name and language are used. Once sent, the snapshot is gone from the
// ledger (it holds personal data).
func TestSMSSendsFromTheSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, ps := snapshotFixture(t, 2)
	if _, err := f.store.Database().Collection("parents").UpdateOne(ctx, bson.D{{Key: "_id", Value: ps[0].ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "phone", Value: "+447911199999"}}}}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	body := map[string]string{}
	for _, m := range f.fake.Accepted() {
		body[m.To] = m.Body
	}
	if len(body) != 2 || !strings.Contains(body[ps[0].Phone], "Efa") || !strings.Contains(body[ps[1].Phone], "Bryn") {
		t.Fatalf("sent %v, want each snapshot's number with its own child's name", body)
	}
	for id, e := range f.states(t) {
		if e.State() != content.StateSent || e.Snapshot != nil {
			t.Errorf("%s: %s, snapshot %+v; want sent and the snapshot dropped", id, e.State(), e.Snapshot)
		}
	}
}

// TestSMSPolicyAfterExpansion: what changes between the expansion and the
// send is applied at send time, as when every send read the record:
//   - a STOP (the suppression check is made per claim, not snapshotted);
//   - the account closed, or erased;
//   - the parent unlinked from the child the message is about;
//   - the parent's language for the category: the message goes in the
//     new language. A snapshot is not a promise to send what was true at
//     expansion; it spares a read only while it is still true, so a
//     parent who changed their language after a broadcast was queued (or
//     whose number changed) gets the message as they now asked for it.
func TestSMSPolicyAfterExpansion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, ps := snapshotFixture(t, 6)
	// ps[0] says STOP.
	key, err := content.SuppressionKeyOf([]byte("test-key"), content.SuppressionSMS, ps[0].Phone)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS,
		Reason: content.SuppressStop, At: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// ps[1] closes the account.
	if err := f.store.CloseParent(ctx, ps[1].ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// ps[2] is unlinked from the child the message is about.
	p2, err := f.store.Parent(ctx, ps[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	p2.Children[0].State = content.LinkRemoved
	if err := f.store.SetParentChildLinks(ctx, p2.ID, p2.Children); err != nil {
		t.Fatal(err)
	}
	// ps[3] asks for award messages in Welsh.
	if err := f.store.SetPreferences(ctx, ps[3].ID, map[string]content.ChannelPreference{"awards": {Language: "cy"}}, false); err != nil {
		t.Fatal(err)
	}
	// ps[4] changes number through the store.
	p4, err := f.store.Parent(ctx, ps[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	p4.Phone = "+447911188888"
	if err := f.store.UpdateParent(ctx, p4); err != nil {
		t.Fatal(err)
	}
	f.run(t)

	st := f.states(t)
	for _, c := range []struct {
		p     string
		state content.MessageState
		code  string
	}{
		{ps[0].ID, content.StateSuppressed, "opted_out"},
		{ps[1].ID, content.StateSuppressed, "account_closed"},
		{ps[2].ID, content.StateSuppressed, "not_linked"},
		{ps[3].ID, content.StateSent, ""},
		{ps[4].ID, content.StateSent, ""},
		{ps[5].ID, content.StateSent, ""},
	} {
		if e := st[c.p]; e.State() != c.state || e.ErrorCode != c.code || e.Snapshot != nil {
			t.Errorf("%s: %s %q (snapshot %v), want %s %q and no snapshot", c.p, e.State(), e.ErrorCode, e.Snapshot != nil, c.state, c.code)
		}
	}
	body := map[string]string{}
	for _, m := range f.fake.Accepted() {
		body[m.To] = m.Body
	}
	if len(body) != 3 {
		t.Fatalf("sent to %v, want 3 numbers", body)
	}
	cy, err := notify.MustCatalog().RenderOrEnglish(notify.TemplateAward, "cy",
		notify.Params{SchoolName: "Riverside Primary", ChildFirstName: "Dewi", TeacherName: "Mrs Khan"})
	if err != nil || cy.Language != "cy" {
		t.Fatalf("render Welsh: %v", err)
	}
	if got := body[ps[3].Phone]; got != cy.SMS("", "").Body {
		t.Errorf("language changed after expansion: sent %q, want the Welsh %q", got, cy.SMS("", "").Body)
	}
	if _, ok := body["+447911188888"]; !ok {
		t.Errorf("number changed after expansion: sent to %v, want the new number", body)
	}
	if _, ok := body[ps[4].Phone]; ok {
		t.Errorf("the old number got the message after the parent changed it")
	}
}

// TestSMSMarksOnlyWhatChanged: a school's change marks name the parents
// changed, so one closure re-reads one record; a roster import, which
// changes many at once, marks the whole school; changes before the
// snapshot count too within the clocks' allowed skew, never after it
// minus that skew.
func TestSMSMarksOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, ps := snapshotFixture(t, 3)
	before := time.Now().UTC()
	if err := f.store.CloseParent(ctx, ps[0].ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ids, all, err := f.store.ParentsChangedSince(ctx, "sch_1", before)
	if err != nil || all || len(ids) != 1 || !ids[ps[0].ID] {
		t.Fatalf("changes since %v: %v all=%v err=%v, want %s only", before, ids, all, err, ps[0].ID)
	}
	if ids, all, err := f.store.ParentsChangedSince(ctx, "sch_1", before.Add(2*time.Minute)); err != nil || all || len(ids) != 0 {
		t.Fatalf("changes since two minutes on: %v all=%v err=%v, want none", ids, all, err)
	}
	if ids, all, err := f.store.ParentsChangedSince(ctx, "sch_other", before); err != nil || all || len(ids) != 0 {
		t.Fatalf("another school's changes: %v all=%v err=%v, want none", ids, all, err)
	}
	if _, all, err := f.store.ParentsChangedSince(ctx, "sch_1", before.Add(-5*24*time.Hour)); err != nil || !all {
		t.Fatalf("a snapshot older than the marks kept: all=%v err=%v, want all", all, err)
	}
	w := &content.ImportWrites{ParentUpdates: []content.ParentUpdate{{ID: ps[1].ID,
		Children: []content.ChildLink{{ChildID: "chd_" + ps[1].ID, SchoolID: "sch_1", State: content.LinkLinked}}}}}
	if err := f.store.ApplyImport(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, all, err := f.store.ParentsChangedSince(ctx, "sch_1", before); err != nil || !all {
		t.Fatalf("after a roster import: all=%v err=%v, want all", all, err)
	}
}

// roundWatch records, for a round of claims, how many claims were made
// before each suppression and parent-change read.
type roundWatch struct {
	mu      sync.Mutex
	claims  int
	checks  []int // claims made when each suppression read began
	changes []int // claims made when each parent-change read began
}

type watchedLedger struct {
	content.Ledger
	w *roundWatch
}

func (l watchedLedger) ClaimEntries(ctx context.Context, pageID string, indexes []int, at time.Time) (map[int]int, error) {
	won, err := l.Ledger.ClaimEntries(ctx, pageID, indexes, at)
	l.w.mu.Lock()
	l.w.claims++
	l.w.mu.Unlock()
	return won, err
}

type watchedSuppressions struct {
	content.Suppressions
	w *roundWatch
}

func (s watchedSuppressions) Check(ctx context.Context) (content.SuppressionCheck, error) {
	s.w.mu.Lock()
	s.w.checks = append(s.w.checks, s.w.claims)
	s.w.mu.Unlock()
	return s.Suppressions.Check(ctx)
}

type watchedRoster struct {
	content.Roster
	w *roundWatch
}

func (r watchedRoster) ParentsChangedSince(ctx context.Context, schoolID string, since time.Time) (map[string]bool, bool, error) {
	r.w.mu.Lock()
	r.w.changes = append(r.w.changes, r.w.claims)
	r.w.mu.Unlock()
	return r.Roster.ParentsChangedSince(ctx, schoolID, since)
}

// TestSMSRoundChecksPolicyAfterItsClaims: the first claims of a task's
// pages are one round. Policy is read once for the whole round — one
// suppression read, one read of parent changes — and only after every
// claim of the round is made, so what changed before any of those claims
// is seen on every page: a STOP, a closure and an unlink made between the
// expansion and the send, one on each of three pages, all suppress.
func TestSMSRoundChecksPolicyAfterItsClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := parentsN(250)
	var ids, kids []string
	for _, p := range ps {
		kid := "chd_" + p.ID
		p.Children = []content.ChildLink{{ChildID: kid, SchoolID: "sch_1", FirstName: "Efa", State: content.LinkLinked}}
		ids, kids = append(ids, p.ID), append(kids, kid)
	}
	f := newSMSFixture(t, ps, 1_000_000)
	b := &content.Broadcast{ID: "brd_round", SchoolID: "sch_1", Template: string(notify.TemplateAward), Category: "awards",
		Params:   map[string]string{"teacher_name": "Mrs Khan", "child_ids": strings.Join(kids, ",")},
		Audience: content.Audience{ParentIDs: ids}, State: content.BroadcastExpanding}
	if err := f.store.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	expand(t, f.store, f.queue, b.ID)
	// After the expansion, before the send: one change on each page.
	key, err := content.SuppressionKeyOf([]byte("test-key"), content.SuppressionSMS, ps[7].Phone)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS,
		Reason: content.SuppressStop, At: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.CloseParent(ctx, ps[120].ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := f.store.Parent(ctx, ps[240].ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Children[0].State = content.LinkRemoved
	if err := f.store.SetParentChildLinks(ctx, p.ID, p.Children); err != nil {
		t.Fatal(err)
	}

	w := &roundWatch{}
	f.h.Ledger = watchedLedger{Ledger: f.store, w: w}
	f.h.Suppressions = watchedSuppressions{Suppressions: f.store, w: w}
	f.h.Roster = watchedRoster{Roster: f.store, w: w}
	f.h.ClaimSize, f.h.RoundSize, f.h.Held = 100, 1000, semaphore.NewWeighted(2000)
	var pages []*content.LedgerPage
	for n := range 3 {
		page, err := f.store.LedgerPage(ctx, content.LedgerPageID(b.ID, n))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
	}
	if err := f.h.SendPages(ctx, pages); err != nil {
		t.Fatal(err)
	}
	if len(w.checks) != 1 || w.checks[0] != 3 || len(w.changes) != 1 || w.changes[0] != 3 {
		t.Fatalf("suppression reads after %v claims, parent-change reads after %v; want one each, after all 3", w.checks, w.changes)
	}
	want := map[string]string{ps[7].ID: "opted_out", ps[120].ID: "account_closed", ps[240].ID: "not_linked"}
	sent := 0
	for _, page := range pages {
		page, err := f.store.LedgerPage(ctx, page.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if code, ok := want[e.RecipientID]; ok {
				if e.State() != content.StateSuppressed || e.ErrorCode != code {
					t.Errorf("%s: %s %q, want suppressed %q", e.RecipientID, e.State(), e.ErrorCode, code)
				}
				continue
			}
			if e.State() != content.StateSent {
				t.Errorf("%s: %s %q, want sent", e.RecipientID, e.State(), e.ErrorCode)
			}
			sent++
		}
	}
	if sent != 247 || len(f.fake.Accepted()) != 247 {
		t.Fatalf("%d entries sent, %d texts accepted; want 247", sent, len(f.fake.Accepted()))
	}
	if !f.h.Held.TryAcquire(2000) {
		t.Fatal("room not given back after the task")
	}
}

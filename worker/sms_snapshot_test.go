package worker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"go.mongodb.org/mongo-driver/v2/bson"
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

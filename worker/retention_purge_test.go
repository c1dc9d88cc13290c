package worker

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const day = 24 * time.Hour

// TestRetentionE3ChildPurge: removed by the school on D1
// and by the parent on D2, the child is purged at max(D1, D2) + 90 days;
// a re-link in between resets the clock.
func TestRetentionE3ChildPurge(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	w.family("par_001", "chd_001")
	ctx := w.ctx
	remove := func(school, parent time.Time) {
		t.Helper()
		k, err := w.store.Child(ctx, "chd_001")
		must(t, err)
		k.SchoolLink = content.SchoolLink{State: content.LinkRemoved, RemovedAt: school}
		if parent.IsZero() {
			k.Parents[0].State, k.Parents[0].RemovedAt = content.LinkLinked, time.Time{}
		} else {
			k.Parents[0].State, k.Parents[0].RemovedAt = content.LinkRemoved, parent
		}
		must(t, w.store.UpdateChild(ctx, k))
	}
	sweepAt := func(at time.Time) int {
		t.Helper()
		w.clock.Set(at)
		must(t, w.sweeps.SweepChildren(ctx))
		return w.drain()
	}
	d1 := w.start.AddDate(0, 1, 0)
	d2 := d1.Add(10 * day)
	remove(d1, time.Time{}) // the school only: the parent still holds the child
	if n := sweepAt(d1.Add(200 * day)); n != 0 {
		t.Fatalf("purge ran (%d stages) while a parent is linked", n)
	}
	remove(d1, d2)
	if n := sweepAt(d2.Add(89 * day)); n != 0 {
		t.Fatalf("purge ran at max(D1,D2)+89 days")
	}
	// Re-linked by the parent on D3, removed again on D4: the clock starts
	// from D4.
	d4 := d2.Add(60 * day)
	remove(d1, d4)
	if n := sweepAt(d2.Add(90 * day)); n != 0 {
		t.Fatalf("purge ran 90 days after the first removal though the child was re-linked")
	}
	if n := sweepAt(d4.Add(90 * day)); n == 0 {
		t.Fatal("no purge at max(D1, D4) + 90 days")
	}
	if _, err := w.store.Child(ctx, "chd_001"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("child still stored after the purge (%v)", err)
	}
	if p := w.parent("par_001"); len(p.Children) != 0 {
		t.Fatalf("parent still lists the purged child: %+v", p.Children)
	}
	rec, err := w.store.Erasure(ctx, "child:chd_001")
	must(t, err)
	if !rec.Complete() || rec.Counts["mongo:children"] != 1 || rec.Reason != content.ErasureChildRemoved {
		t.Fatalf("certificate %+v", rec)
	}
}

// TestRetentionE4SchoolPurge: a school whose subscription
// ended is kept six weeks (reactivation restores it), then purged whole —
// its families erased as subjects of their own.
func TestRetentionE4SchoolPurge(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	w.family("par_001", "chd_001")
	w.family("par_002", "chd_002")
	ctx := w.ctx
	end := func(at time.Time) {
		sc, err := w.store.School(ctx, "sch_r")
		must(t, err)
		sc.Subscription = content.Subscription{State: content.SubscriptionEnded, EndedAt: at}
		must(t, w.store.UpdateSchool(ctx, sc))
	}
	sweepAt := func(at time.Time) int {
		t.Helper()
		w.clock.Set(at)
		must(t, w.sweeps.SweepSchools(ctx))
		return w.drain()
	}
	// Engagement counters of the school, a class and both children.
	must(t, w.store.CreateClass(ctx, &content.Class{ID: "cls_r1", SchoolID: "sch_r", Name: "Oak", YearGroup: "Y2", CreatedAt: w.start}))
	for _, kid := range []string{"chd_001", "chd_002"} {
		must(t, w.store.RecordEngagement(ctx, content.EngagementEvent{Kind: content.EngageView, SchoolID: "sch_r",
			ClassIDs: []string{"cls_r1"}, ChildID: kid, PupilPremium: kid == "chd_002", At: w.start}))
	}
	if n := len(engagementMentioning(t, w, "sch_r", "cls_r1", "chd_001", "chd_002")); n == 0 {
		t.Fatal("the seed wrote no engagement counters")
	}
	// Conversations of the school: one with a family, and one whose parent
	// is no longer any family of the school (only the school's purge
	// reaches it), each unread for a teacher.
	for _, cv := range []struct{ id, parent, child string }{{"cnv_r1", "par_001", "chd_001"}, {"cnv_r2", "par_gone", "chd_gone"}} {
		must(t, w.store.CreateConversation(ctx, &content.Conversation{ID: cv.id, SchoolID: "sch_r", ClassID: "cls_r1", ChildID: cv.child,
			ParentID: cv.parent, StaffIDs: []string{"stf_r"}, State: content.ConversationOpen, CreatedAt: w.start, LastAt: w.start,
			AwaitingReply: true, UnreadBy: []string{"stf_r"}, Messages: []content.ConversationMessage{{ID: cv.id + "_m1",
				AuthorKind: content.AuthorParent, AuthorID: cv.parent, Body: "PURGE-CANARY " + cv.id, Via: content.ViaApp, CreatedAt: w.start}}}))
	}
	// The school's inbox items and an attachment: one item in the inbox
	// of a parent who is none of its families (the school's erasure, not
	// a parent's, must reach it) beside their item from another school,
	// which stays.
	must(t, w.store.AddToInbox(ctx, []*content.InboxItem{
		{ID: content.InboxItemID("par_001", "ann_r"), ParentID: "par_001", SchoolID: "sch_r", Kind: content.InboxAnnouncement,
			SourceID: "ann_r", Title: "Sports day", ClassIDs: []string{"cls_r1"}, CreatedAt: w.start},
		{ID: content.InboxItemID("par_away", "ann_r"), ParentID: "par_away", SchoolID: "sch_r", Kind: content.InboxAnnouncement,
			SourceID: "ann_r", Title: "Sports day", CreatedAt: w.start},
		{ID: content.InboxItemID("par_away", "ann_x"), ParentID: "par_away", SchoolID: "sch_x", Kind: content.InboxAnnouncement,
			SourceID: "ann_x", Title: "Elsewhere", CreatedAt: w.start},
	}))
	must(t, w.store.StoreAttachment(ctx, &content.Attachment{ID: "att_r", SchoolID: "sch_r", Name: "letter.pdf",
		ContentType: content.AttachmentPDF, Size: 10, CreatedBy: "stf_1", CreatedAt: w.start}, []byte("%PDF-1.4 x")))
	schoolColls := []string{"inbox_items", "inbox_index", "inbox_sources", "attachments", "attachmentfiles.files", "attachmentfiles.chunks"}
	if n := len(collectionsMentioning(t, w, schoolColls, "sch_r", "ann_r", "att_r")); n < 6 {
		t.Fatalf("the seed wrote %d inbox and attachment documents naming the school, want at least 6", n)
	}
	ended := w.start.AddDate(0, 2, 0)
	end(ended)
	if n := sweepAt(ended.Add(41 * day)); n != 0 {
		t.Fatal("school purged before six weeks")
	}
	// Reactivated, then ended again later: the six weeks start again.
	sc, _ := w.store.School(ctx, "sch_r")
	sc.Subscription = content.Subscription{State: content.SubscriptionActive}
	must(t, w.store.UpdateSchool(ctx, sc))
	if n := sweepAt(ended.Add(60 * day)); n != 0 {
		t.Fatal("a reactivated school was purged")
	}
	if p := w.parent("par_001"); p.FirstName == "" {
		t.Fatal("reactivation did not keep the families")
	}
	ended2 := ended.Add(70 * day)
	end(ended2)
	if n := sweepAt(ended2.Add(42 * day)); n == 0 {
		t.Fatal("no purge six weeks after the end")
	}
	if _, err := w.store.School(ctx, "sch_r"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("school still stored (%v)", err)
	}
	for _, id := range []string{"chd_001", "chd_002"} {
		if _, err := w.store.Child(ctx, id); !content.IsCode(err, content.CodeNotFound) {
			t.Fatalf("child %s still stored (%v)", id, err)
		}
	}
	for _, id := range []string{"par_001", "par_002"} {
		if p := w.parent(id); p.State != content.ParentErased || p.Phone != "" {
			t.Fatalf("parent %s after the school purge: %+v", id, p)
		}
	}
	rec, err := w.store.Erasure(ctx, "school:sch_r")
	must(t, err)
	if !rec.Complete() || rec.Counts["parents_erased"] != 2 || rec.Counts["mongo:schools"] != 1 {
		t.Fatalf("certificate %+v", rec)
	}
	if left := engagementMentioning(t, w, "sch_r", "cls_r1", "chd_001", "chd_002"); len(left) > 0 {
		t.Fatalf("engagement counters survive the purge: %v", left)
	}
	for _, coll := range []string{"conversations", "conversation_staff"} {
		if n, err := w.store.Database().Collection(coll).CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
			t.Fatalf("%s: %d documents survive the purge (%v)", coll, n, err)
		}
	}
	if left := collectionsMentioning(t, w, schoolColls, "sch_r", "ann_r", "att_r"); len(left) > 0 {
		t.Fatalf("inbox items or attachments survive the purge: %v", left)
	}
	page, err := w.store.InboxPage(ctx, "par_away", nil, content.InboxCursor{}, 10)
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].SourceID != "ann_x" {
		t.Fatalf("the other school's item after the purge: %+v", page.Items)
	}
}

// collectionsMentioning lists the documents of colls whose stored form
// names any of ids, as "collection/_id".
func collectionsMentioning(t *testing.T, w *retentionWorld, colls []string, ids ...string) []string {
	t.Helper()
	var out []string
	for _, coll := range colls {
		cur, err := w.store.Database().Collection(coll).Find(w.ctx, bson.D{})
		must(t, err)
		for cur.Next(w.ctx) {
			for _, id := range ids {
				if bytes.Contains(cur.Current, []byte(id)) {
					out = append(out, fmt.Sprintf("%s/%v", coll, cur.Current.Lookup("_id")))
					break
				}
			}
		}
		must(t, cur.Err())
		_ = cur.Close(w.ctx)
	}
	return out
}

// engagementMentioning lists the engagement documents whose stored form
// names any of ids.
func engagementMentioning(t *testing.T, w *retentionWorld, ids ...string) []string {
	t.Helper()
	cur, err := w.store.Database().Collection("engagement").Find(w.ctx, bson.D{})
	must(t, err)
	defer cur.Close(w.ctx)
	var out []string
	for cur.Next(w.ctx) {
		for _, id := range ids {
			if bytes.Contains(cur.Current, []byte(id)) {
				out = append(out, cur.Current.Lookup("_id").StringValue())
				break
			}
		}
	}
	must(t, cur.Err())
	return out
}

// TestRetentionStaffAndAudit: staff idle two years are deleted with their
// sign-in data; audit events past 12 months are deleted.
func TestRetentionStaffAndAudit(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	ctx := w.ctx
	for _, id := range []string{"stf_idle", "stf_busy"} {
		must(t, w.store.CreateStaff(ctx, &content.Staff{ID: id, Email: id + "@school.test", FirstName: "S", LastName: id,
			Schools: []content.SchoolRoles{{SchoolID: "sch_r", Roles: []content.Role{content.RoleTeacher}}}, LastActiveAt: w.start, CreatedAt: w.start}))
		must(t, w.store.PutLogin(ctx, &content.Login{Key: "staff:email:" + id + "@school.test", Kind: content.KindStaff, AccountID: id}))
	}
	must(t, w.store.TouchActive(ctx, content.KindStaff, "stf_busy", w.start.AddDate(1, 6, 0)))
	must(t, w.store.RecordAudit(ctx, &content.AuditEvent{ID: "aud_old", At: w.start, Action: "auth.login", Subject: "staff:x"}))
	must(t, w.store.RecordAudit(ctx, &content.AuditEvent{ID: "aud_new", At: w.start.AddDate(1, 11, 0), Action: "auth.login", Subject: "staff:x"}))
	w.clock.Set(w.start.AddDate(2, 0, 0))
	must(t, w.sweeps.SweepStaff(ctx))
	w.drain()
	if _, err := w.store.Staff(ctx, "stf_idle"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("idle staff still stored (%v)", err)
	}
	if _, err := w.store.Login(ctx, "staff:email:stf_idle@school.test"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("idle staff's login still stored (%v)", err)
	}
	if _, err := w.store.Staff(ctx, "stf_busy"); err != nil {
		t.Fatalf("active staff deleted: %v", err)
	}
	must(t, w.sweeps.SweepAudit(ctx))
	if n, _ := w.store.CountAudit(ctx, "auth.login", "staff:x"); n != 1 {
		t.Fatalf("%d audit events left, want the one under 12 months old", n)
	}
}

package worker

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/worker/tasks"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// canaryFlows is what seedCanaryFlows leaves for the sweep: the copies of
// a parent's data that other flows make (a sibling's feed, stored
// idempotency answers, export archives, outbox lines) and an invited
// parent who never joins.
type canaryFlows struct {
	canaries []string
	outbox   *outbox.Outbox
	dir      string
	invited  string // the invited parent's id
	invitedC []string
}

// seedCanaryFlows runs the flows that copy par_c's data elsewhere: par_c
// also has chd_s, shared with a co-parent par_co who stays, and commented
// on chd_s's feed item; par_c's own, par_co's and the school's exports are
// built by the export handler; a teacher's reply and par_c's own reply
// were made with Idempotency-Keys (their answers stored), as was a staff
// broadcast; the outbox holds the messages sent to par_c; and par_inv was
// invited (with canary contacts) and never joins.
func seedCanaryFlows(t *testing.T, w *retentionWorld, c func(string) string, phone, email string, now time.Time) *canaryFlows {
	t.Helper()
	ctx, s := w.ctx, w.store
	f := &canaryFlows{dir: filepath.Join(t.TempDir(), "outbox"), invited: "par_inv"}
	must(t, s.CreateParent(ctx, &content.Parent{ID: "par_co", FirstName: "Robin", LastName: "Stays", Language: "en",
		State: content.ParentActive, Children: []content.ChildLink{{ChildID: "chd_s", SchoolID: "sch_r", FirstName: "Sib",
			YearGroup: "Y4", State: content.LinkLinked, LinkedAt: now}}, LastActiveAt: now, CreatedAt: now}))
	must(t, s.CreateChild(ctx, &content.Child{ID: "chd_s", SchoolID: "sch_r", FirstName: "Sib", LastName: "Ling", YearGroup: "Y4",
		Parents: []content.ParentLink{{ParentID: "par_co", State: content.LinkLinked, LinkedAt: now},
			{ParentID: "par_c", Relationship: c("SiblingRelationship"), State: content.LinkLinked, LinkedAt: now}},
		SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}))
	p, err := s.Parent(ctx, "par_c")
	must(t, err)
	p.Children = append(p.Children, content.ChildLink{ChildID: "chd_s", SchoolID: "sch_r", FirstName: "Sib", YearGroup: "Y4",
		State: content.LinkLinked, LinkedAt: now})
	must(t, s.SetParentChildLinks(ctx, "par_c", p.Children))

	// par_c's comment on chd_s's assignment: the submission and the
	// feed item's excerpt of it.
	sibComment := c("SiblingComment")
	sub := &content.Submission{ID: content.SubmissionID("asg_s", "chd_s", "par_c"), SchoolID: "sch_r", AssignmentID: "asg_s",
		ChildID: "chd_s", ParentID: "par_c"}
	_, err = s.PutSubmission(ctx, sub, content.SubmissionUpdate{Comment: &sibComment}, now)
	must(t, err)
	item, err := s.AddFeedItem(ctx, &content.FeedItem{ChildID: "chd_s", Key: "asg_s:act", Kind: content.FeedActivity, At: now,
		AssignmentID: "asg_s", Title: "Reading"})
	must(t, err)
	must(t, s.MarkFeedItemDone(ctx, item, "par_c", sub.ID, 4, c("FeedExcerpt"), now))

	// Stored idempotency answers: par_c's own reply, a teacher's reply to
	// par_c (the answer is par_c's submission) and a staff broadcast
	// (whose answer names nobody: it must stay).
	answers := []struct {
		id, account string
		body        any
	}{
		{"idk_parent", "par_c", map[string]any{"id": sub.ID, "comment": c("IdemParentAnswer")}},
		{"idk_teacher", "stf_1", map[string]any{"id": sub.ID, "parent_id": "par_c", "comment": c("IdemTeacherAnswer")}},
		{"idk_broadcast", "stf_1", map[string]any{"id": "brd_c", "state": "expanding", "template": "award"}},
	}
	for _, a := range answers {
		body, _ := json.Marshal(a.body)
		must(t, s.ReserveIdempotencyKey(ctx, &content.IdempotencyRecord{ID: a.id, Fingerprint: "fp", ResourceID: "r_" + a.id,
			Holder: "hld", HeldAt: now, CreatedAt: now, SchoolID: "sch_r", AccountID: a.account}))
		must(t, s.CompleteIdempotencyKey(ctx, a.id, 201, body))
	}

	// The outbox: what was sent to par_c, and a line to the co-parent that
	// names par_c in full. One line to nobody erased must stay.
	ob, err := outbox.New(f.dir, nil)
	must(t, err)
	f.outbox = ob
	if r := ob.SendSMS(ctx, notify.SMS{Ref: "o1", To: phone, Body: "Code " + c("OutboxSMS")}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if _, err := ob.SendEmails(ctx, []notify.Email{{Ref: "o2", To: email, Subject: "Welcome", Text: c("OutboxEmail")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.SendPushes(ctx, []notify.Push{{Ref: "o3", Token: c("DeviceToken"), Title: "Award", Body: c("OutboxPush")}}); err != nil {
		t.Fatal(err)
	}
	if r := ob.SendSMS(ctx, notify.SMS{Ref: "o4", To: "+447700900555",
		Body: c("ParentFirst") + " " + c("ParentLast") + " added you " + c("OutboxMention")}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := ob.SendSMS(ctx, notify.SMS{Ref: "o5", To: "+447700900556", Body: "Reading tonight"}); r.Err != nil {
		t.Fatal(r.Err)
	}
	// par_c's device token, as device registration stores it.
	_, err = s.Database().Collection("parents").UpdateOne(ctx, bson.D{{Key: "_id", Value: "par_c"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "devices.dev_c", Value: bson.D{{Key: "platform", Value: "ios"},
			{Key: "token", Value: c("DeviceToken")}}}}}})
	must(t, err)

	// Export archives, built by the export handler.
	ex := &Exports{Store: s, Roster: s, Ledger: s, Tasks: w.queue, Clock: w.clock, Log: w.sweeps.Log, AppURL: "https://hometime.test"}
	for _, e := range []*content.Export{{ID: "exp_c", ParentID: "par_c"}, {ID: "exp_co", ParentID: "par_co"}, {ID: "exp_sch", SchoolID: "sch_r"}} {
		e.CreatedAt = now
		_, _, err := s.StartExport(ctx, e)
		must(t, err)
		task, err := tasks.NewBuildExport(e.ID)
		must(t, err)
		must(t, ex.ProcessTask(ctx, asynq.NewTask(task.Type(), task.Payload())))
	}

	// An invited parent who never joins.
	invPhone, invEmail := "+447700900888", "canaryinvited7f3a@example.test"
	must(t, s.CreateParent(ctx, &content.Parent{ID: f.invited, FirstName: c("InvitedFirst"), LastName: c("InvitedLast"),
		Phone: invPhone, Email: invEmail, Language: "en", State: content.ParentInvited,
		Children: []content.ChildLink{{ChildID: "chd_s", SchoolID: "sch_r", FirstName: "Sib", YearGroup: "Y4",
			State: content.LinkLinked, LinkedAt: now}}, CreatedAt: now}))
	must(t, s.PutLogin(ctx, &content.Login{Key: "parent:phone:" + invPhone, Kind: content.KindParent, AccountID: f.invited}))
	must(t, s.PutInvitation(ctx, &content.Invitation{ID: content.InvitationID("sch_r", f.invited), SchoolID: "sch_r",
		ParentID: f.invited, CodeHash: "hash_inv", IssuedAt: now, ExpiresAt: now.Add(content.InviteCodeTTL)}))
	if r := ob.SendSMS(ctx, notify.SMS{Ref: "o6", To: invPhone, Body: "Join " + c("InvitedSMS")}); r.Err != nil {
		t.Fatal(r.Err)
	}
	f.invitedC = []string{c("InvitedFirst"), c("InvitedLast"), invPhone, invEmail, c("InvitedSMS")}

	f.canaries = append([]string{c("SiblingRelationship"), sibComment, c("FeedExcerpt"), c("IdemParentAnswer"),
		c("IdemTeacherAnswer"), c("OutboxSMS"), c("OutboxEmail"), c("DeviceToken"), c("OutboxPush"), c("OutboxMention")},
		f.invitedC...)
	return f
}

// eraseInvited travels to the invited parent's notice day and then to 12
// months after the invite, running the invited sweep on each (twice on
// the notice day), so the erasure chain starts on the worker's queue.
func (f *canaryFlows) eraseInvited(t *testing.T, w *retentionWorld, invitedAt time.Time) {
	t.Helper()
	w.sweeps.Invited = w.store
	w.clock.Set(invitedAt.AddDate(0, 12, 0).Add(-content.InvitedNoticeBefore))
	for i := 0; i < 2; i++ {
		if _, err := w.sweeps.SweepInvited(w.ctx); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Set(invitedAt.AddDate(0, 12, 0))
	r, err := w.sweeps.SweepInvited(w.ctx)
	must(t, err)
	if r.Erasing != 1 {
		t.Fatalf("invited sweep at +12 months: %+v, want one erasure", r)
	}
}

// scan counts the canaries found outside MongoDB and Redis: in the outbox
// files and in every export archive still stored, unzipped. It reports the
// hits and how many files and archive entries it read.
func (f *canaryFlows) scan(t *testing.T, w *retentionWorld, canaries []string) (hits []string, files, entries int) {
	t.Helper()
	des, err := os.ReadDir(f.dir)
	must(t, err)
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join(f.dir, de.Name()))
		must(t, err)
		files++
		for _, cn := range canaries {
			if bytes.Contains(b, []byte(cn)) {
				hits = append(hits, "outbox/"+de.Name()+":"+cn)
			}
		}
	}
	for _, r := range f.outbox.Recent() {
		line, _ := json.Marshal(r)
		for _, cn := range canaries {
			if bytes.Contains(line, []byte(cn)) {
				hits = append(hits, "outbox-memory:"+cn)
			}
		}
	}
	cur, err := w.store.Database().Collection("exportfiles.files").Find(w.ctx, bson.D{})
	must(t, err)
	var ids []string
	for cur.Next(w.ctx) {
		ids = append(ids, cur.Current.Lookup("_id").StringValue())
	}
	must(t, cur.Err())
	for _, id := range ids {
		archive, err := w.store.ExportArchive(w.ctx, id)
		must(t, err)
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		must(t, err)
		for _, zf := range zr.File {
			rc, err := zf.Open()
			must(t, err)
			b, err := io.ReadAll(rc)
			rc.Close()
			must(t, err)
			entries++
			for _, cn := range canaries {
				if bytes.Contains(b, []byte(cn)) {
					hits = append(hits, "archive/"+id+"/"+zf.Name+":"+cn)
				}
			}
		}
	}
	return hits, files, entries
}

// idempotencyLeft lists the ids of the stored idempotency answers.
func idempotencyLeft(t *testing.T, w *retentionWorld) map[string]bool {
	t.Helper()
	cur, err := w.store.Database().Collection("idempotency_keys").Find(context.Background(), bson.D{})
	must(t, err)
	out := map[string]bool{}
	for cur.Next(w.ctx) {
		out[cur.Current.Lookup("_id").StringValue()] = true
	}
	must(t, cur.Err())
	return out
}

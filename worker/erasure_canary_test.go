package worker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestErasureCanarySweep: unique canary strings seeded in
// every personal field this store holds (names, contacts, login key, child
// name and UPN, comment, reply, photo and thumbnail bytes, IP in the audit
// log, the child's name in a broadcast), then the parent erased on request
// and the child purged after removal, each as a chain through real asynq
// and Redis. Afterwards no MongoDB collection in mongostore.Collections
// (GridFS chunks included), no Redis key (queued, completed and archived
// tasks included) and no log line holds a canary. The suppression list
// holds keyed hashes of the contacts, and the parent a tombstone.
func TestErasureCanarySweep(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	ctx := context.Background()
	logs := &lockedBuffer{b: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.erasure.Log, w.sweeps.Log = log, log
	s := w.store
	c := func(field string) string { return "CANARY" + field + "7f3a" }
	now := w.clock.Now()

	must(t, s.CreateChild(ctx, &content.Child{ID: "chd_c", SchoolID: "sch_r", FirstName: c("ChildFirst"), LastName: c("ChildLast"),
		UPN: c("UPN"), YearGroup: "Y2", Parents: []content.ParentLink{{ParentID: "par_c", Relationship: c("Relationship"), State: content.LinkLinked, LinkedAt: now}},
		SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}))
	phone, email := "+447700900777", strings.ToLower(c("Email"))+"@example.test"
	must(t, s.CreateParent(ctx, &content.Parent{ID: "par_c", FirstName: c("ParentFirst"), LastName: c("ParentLast"), Phone: phone, Email: email,
		Language: "en", State: content.ParentActive, PasswordHash: c("PasswordHash"),
		Children:     []content.ChildLink{{ChildID: "chd_c", SchoolID: "sch_r", FirstName: c("ChildFirst"), YearGroup: "Y2", State: content.LinkLinked, LinkedAt: now}},
		Consents:     []content.Consent{{Kind: "privacy_notice", Version: c("ConsentVersion"), Accepted: true, At: now}},
		LastActiveAt: now, CreatedAt: now}))
	must(t, s.PutLogin(ctx, &content.Login{Key: "parent:email:" + email, Kind: content.KindParent, AccountID: "par_c"}))
	must(t, s.PutLogin(ctx, &content.Login{Key: "parent:phone:" + phone, Kind: content.KindParent, AccountID: "par_c"}))
	must(t, s.CreateSession(ctx, &content.Session{ID: "ses_c", Kind: content.KindParent, AccountID: "par_c", CreatedAt: now, ExpiresAt: now.AddDate(0, 1, 0)}))
	must(t, s.AddAccountSession(ctx, content.KindParent, "par_c", "ses_c", 10))
	must(t, s.PutRefreshToken(ctx, &content.RefreshToken{Hash: "rth_c", SessionID: "ses_c", CreatedAt: now}))
	must(t, s.RecordAudit(ctx, &content.AuditEvent{ID: "aud_c", At: now, ActorKind: content.KindParent, ActorID: "par_c",
		Action: "auth.login", Subject: "parent:par_c", IP: "203.0.113.77"}))
	must(t, s.CreateBroadcast(ctx, &content.Broadcast{ID: "brd_c", SchoolID: "sch_r", CreatedBy: "stf_1", Template: "award", Category: "awards",
		Params: map[string]string{"child_first_name": c("ChildFirst"), "teacher_name": "Mrs Khan"}, Audience: content.Audience{ParentIDs: []string{"par_c"}},
		State: content.BroadcastDone, CreatedAt: now}))
	// An announcement naming the parent in its audience (IDs only).
	must(t, s.CreateAnnouncement(ctx, &content.Announcement{ID: "ann_c", SchoolID: "sch_r", CreatedBy: "stf_1", Title: "Trip",
		Body: "Coats please.", Language: "en", Audience: content.AnnouncementAudience{ParentIDs: []string{"par_c", "par_other"}},
		SendAt: now, State: content.AnnouncementSent, CreatedAt: now}))
	// An SMS still owed carries the recipient's snapshot (number, child's name).
	must(t, s.PutLedgerPages(ctx, []*content.LedgerPage{{ID: content.LedgerPageID("brd_c", 0), BroadcastID: "brd_c", SchoolID: "sch_r",
		CreatedAt: now, SnapshotAt: now, Entries: []content.LedgerEntry{{RecipientID: "par_c", Channel: "sms",
			Snapshot: &content.RecipientSnapshot{State: content.ParentActive, Phone: phone, Language: "en",
				Children: []content.SnapshotLink{{ChildID: "chd_c", FirstName: c("ChildFirst"), State: content.LinkLinked}}}}}}}))
	comment := c("Comment")
	sub := &content.Submission{ID: content.SubmissionID("asg_c", "chd_c", "par_c"), SchoolID: "sch_r", AssignmentID: "asg_c", ChildID: "chd_c", ParentID: "par_c"}
	_, err := s.PutSubmission(ctx, sub, content.SubmissionUpdate{Comment: &comment}, now)
	must(t, err)
	_, err = s.AddReply(ctx, sub.ID, content.Reply{ID: "rep_c", AuthorKind: content.KindParent, AuthorID: "par_c", Body: c("ReplyBody"), At: now})
	must(t, err)
	must(t, s.PutPhoto(ctx, sub, &content.Photo{ID: "pho_c", SubmissionID: sub.ID, SchoolID: "sch_r", ChildID: "chd_c", ParentID: "par_c",
		ContentType: "image/jpeg", SourceFormat: "jpeg", Width: 1, Height: 1, CreatedAt: now},
		[]byte("\xff\xd8"+c("PhotoEXIF")+"\xff\xd9"), []byte("\xff\xd8"+c("ThumbEXIF")+"\xff\xd9")))
	// An announcement in the parent's inbox, read: its title is in their
	// inbox and in their export, and goes with them.
	must(t, s.AddToInbox(ctx, []*content.InboxItem{{ID: content.InboxItemID("par_c", "ann_c"), ParentID: "par_c", SchoolID: "sch_r",
		Kind: content.InboxAnnouncement, SourceID: "ann_c", Title: c("InboxTitle"), Language: "en", ChildIDs: []string{"chd_c"}, CreatedAt: now}}))
	_, err = s.MarkInboxRead(ctx, content.InboxItemID("par_c", "ann_c"), content.ReadViaApp, now)
	must(t, err)
	canaries := []string{c("ChildFirst"), c("ChildLast"), c("UPN"), c("Relationship"), c("ParentFirst"), c("ParentLast"), phone, email,
		c("PasswordHash"), c("ConsentVersion"), "203.0.113.77", comment, c("ReplyBody"), c("PhotoEXIF"), c("ThumbEXIF"), c("InboxTitle")}
	// The flows that copy the parent's data elsewhere, and an invited
	// parent who never joins (seedCanaryFlows).
	flows := seedCanaryFlows(t, w, c, phone, email, now)
	canaries = append(canaries, flows.canaries...)
	seeded := map[string]bool{}
	flowHits, files0, entries0 := flows.scan(t, w, canaries)
	mongo0 := mongoCanaries(t, s, canaries)
	t.Logf("canary seed: %d strings; %d hits in MongoDB, %d in %d outbox files and %d archive entries",
		len(canaries), len(mongo0), len(flowHits), files0, entries0)
	for _, h := range append(mongo0, flowHits...) {
		seeded[h[strings.LastIndexByte(h, ':')+1:]] = true
	}
	for _, cn := range canaries {
		if !seeded[cn] {
			t.Fatalf("the seed did not store canary %q anywhere", cn)
		}
	}
	for _, id := range []string{"exp_c", "exp_sch"} {
		if !strings.Contains(strings.Join(flowHits, " "), "archive/"+id+"/") {
			t.Fatalf("export archive %s holds no canary before the erasure: the check would prove nothing", id)
		}
	}
	// The parent's export holds their inbox (titles and read state).
	if !strings.Contains(strings.Join(flowHits, " "), "archive/exp_c/export.json:"+c("InboxTitle")) {
		t.Fatalf("the parent's export does not hold their inbox: %v", flowHits)
	}
	// The co-parent's export is built from their own view: it holds the
	// shared child's feed but none of this parent's words or contacts.
	if strings.Contains(strings.Join(flowHits, " "), "archive/exp_co/") {
		t.Fatalf("the co-parent's export holds this parent's data: %v", flowHits)
	}
	w.erasure.Outbox = flows.outbox

	// Erase the parent on request and purge the child (removed by school
	// and parent), each chain on a real asynq server.
	rdb, _ := redistest.New(t)
	client := asynq.NewClientFromRedisClient(rdb)
	w.erasure.Tasks = client
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 2, Queues: tasks.Queues, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.Use(logTasks(log))
	mux.Handle(tasks.TypeEraseStage, w.erasure)
	must(t, srv.Start(mux))
	defer srv.Shutdown()
	waitErased := func(subject content.ErasureSubject) {
		t.Helper()
		for i := 0; i < 6000; i++ {
			if r, err := s.Erasure(ctx, subject.Key()); err == nil && r.Complete() {
				return
			}
			sleepMS(20)
		}
		t.Fatalf("%s not erased", subject.Key())
	}
	parent := content.ErasureSubject{Kind: content.SubjectParent, ID: "par_c"}
	must(t, StartErasure(ctx, s, client, parent, content.ErasureRequested, "par_c", []string{"sch_r"}, now))
	waitErased(parent)
	child := content.ErasureSubject{Kind: content.SubjectChild, ID: "chd_c"}
	must(t, StartErasure(ctx, s, client, child, content.ErasureChildRemoved, "", []string{"sch_r"}, now))
	waitErased(child)
	// The invited parent: noticed, then erased 12 months after the invite
	// by the daily sweep, on the same queue.
	w.sweeps.Tasks = client
	flows.eraseInvited(t, w, now)
	waitErased(content.ErasureSubject{Kind: content.SubjectParent, ID: flows.invited})

	if hits := mongoCanaries(t, s, canaries); len(hits) > 0 {
		t.Errorf("MongoDB still holds canaries: %v", hits)
	}
	if hits := redisCanaries(t, rdb, canaries); len(hits) > 0 {
		t.Errorf("Redis still holds canaries: %v", hits)
	}
	hits, files, entries := flows.scan(t, w, canaries)
	if len(hits) > 0 {
		t.Errorf("the outbox or an export archive still holds canaries: %v", hits)
	}
	if files == 0 {
		t.Fatal("no outbox file read: the outbox check proved nothing")
	}
	// What must stay stays: the co-parent's and the other lines, the
	// broadcast's stored answer (it names nobody), the co-parent's export
	// record (expired) and the sibling's feed item (its excerpt gone).
	if left := idempotencyLeft(t, w); !left["idk_broadcast"] || left["idk_parent"] || left["idk_teacher"] {
		t.Errorf("idempotency answers left %v, want idk_broadcast only", left)
	}
	if r, ok := flows.outbox.Last(notify.ChannelSMS, "+447700900556"); !ok || r.Ref != "o5" {
		t.Error("the erasure removed an outbox line about nobody erased")
	}
	if e, err := s.Export(ctx, "exp_co"); err != nil || e.ExpiresAt.After(w.clock.Now()) {
		t.Errorf("co-parent export after erasure: %+v (%v), want its record, expired", e, err)
	}
	if _, err := s.FeedItemIDByKey(ctx, "chd_s", "asg_s:act"); err != nil {
		t.Errorf("the sibling's feed item went with the parent: %v", err)
	}
	if a, err := s.Announcement(ctx, "ann_c"); err != nil || !slices.Equal(a.Audience.ParentIDs, []string{"par_other"}) {
		t.Errorf("announcement audience after the erasure: %+v (%v), want the other parent only", a, err)
	}
	if p := w.parent(flows.invited); p.State != content.ParentErased {
		t.Errorf("invited parent after 12 months: %s", p.State)
	}
	keys, _ := rdb.Keys(ctx, "*").Result()
	t.Logf("canary sweep: %d strings seeded; %d MongoDB collections, %d Redis keys, %d outbox files, %d archive entries, the logs scanned; %d hits",
		len(canaries), len(mongostore.Collections), len(keys), files, entries, len(hits))
	for _, cn := range canaries {
		if strings.Contains(logs.String(), cn) {
			t.Errorf("the logs hold canary %q", cn)
		}
	}
	// What is left: a tombstone and the suppression hashes.
	p := w.parent("par_c")
	if p.State != content.ParentErased {
		t.Fatalf("tombstone state %s", p.State)
	}
	for _, x := range []struct{ ch, v string }{{content.SuppressionSMS, phone}, {content.SuppressionEmail, email}} {
		key, _ := content.SuppressionKeyOf(retentionHashKey, x.ch, x.v)
		if ok, _ := s.IsSuppressed(ctx, key); !ok {
			t.Errorf("%s contact not on the suppression list after erasure", x.ch)
		}
	}
	if !strings.Contains(logs.String(), "task done") {
		t.Fatal("captured no worker logs: the log check proved nothing")
	}
}

// mongoCanaries scans every document of every collection the store owns
// (GridFS files and chunks included) for the canaries, as extended JSON
// and as raw bytes (chunk data is binary).
func mongoCanaries(t *testing.T, s *mongostore.Store, canaries []string) []string {
	t.Helper()
	ctx := context.Background()
	var hits []string
	for _, coll := range mongostore.Collections {
		cur, err := s.Database().Collection(coll).Find(ctx, bson.D{})
		if err != nil {
			t.Fatalf("scan %s: %v", coll, err)
		}
		for cur.Next(ctx) {
			raw := []byte(cur.Current)
			js, _ := bson.MarshalExtJSON(cur.Current, false, false)
			for _, cn := range canaries {
				if bytes.Contains(raw, []byte(cn)) || bytes.Contains(js, []byte(cn)) {
					hits = append(hits, fmt.Sprintf("%s:%s", coll, cn))
				}
			}
		}
		must(t, cur.Err())
		_ = cur.Close(ctx)
	}
	return hits
}

// redisCanaries reads every key of the test's Redis database, whatever its
// type (asynq keeps task payloads in hashes, queues in lists and sets).
func redisCanaries(t *testing.T, rdb redis.UniversalClient, canaries []string) []string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("Redis holds no keys: the scan would prove nothing")
	}
	var hits []string
	for _, k := range keys {
		var vals []string
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			vals = []string{rdb.Get(ctx, k).Val()}
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				vals = append(vals, f, v)
			}
		case "list":
			vals = rdb.LRange(ctx, k, 0, -1).Val()
		case "set":
			vals = rdb.SMembers(ctx, k).Val()
		case "zset":
			vals = rdb.ZRange(ctx, k, 0, -1).Val()
		}
		vals = append(vals, k)
		for _, v := range vals {
			for _, cn := range canaries {
				if strings.Contains(v, cn) {
					hits = append(hits, k+":"+cn)
				}
			}
		}
	}
	return hits
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func sleepMS(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }

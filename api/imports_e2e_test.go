package api

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/notify/twilio"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
	"github.com/prometheus/client_golang/prometheus"
)

// inviteWorker is the real worker (expansion, SMS and email page sends,
// invite reminders) on the test's store, sending through the real Twilio
// and SendGrid clients to the provider fakes. Tasks it queues are kept and
// run by drain, in order, as a single worker would.
type inviteWorker struct {
	mux    *asynq.ServeMux
	queue  *taskstest.Recorder
	next   int
	twilio *providerfake.Twilio
	email  *providerfake.SendGrid
	push   *outbox.Outbox
}

func newInviteWorker(t *testing.T, h *harness) *inviteWorker {
	t.Helper()
	return newRealWorker(t, h, "e2e", nil)
}

// newRealWorker builds the whole worker on the harness's store: SMS through
// the real Twilio client to its fake, email through the real SendGrid
// client to its fake, push to an outbox; inbox items go to inbox when it is
// set. senderName keeps each test's SMS rate-limit key its own.
func newRealWorker(t *testing.T, h *harness, senderName string, inbox content.InboxWriter) *inviteWorker {
	t.Helper()
	rdb, _ := redistest.New(t)
	tw := providerfake.NewTwilio(t)
	sms, err := twilio.New(twilio.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, From: "+447700900001",
		StatusCallback: "https://api.hometime.test/webhooks/twilio/status", BaseURL: tw.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sg := providerfake.NewSendGrid(t)
	mail, err := sendgrid.New(sendgrid.Config{APIKey: sg.APIKey, Host: sg.URL, From: "noreply@school.hometime.test",
		FromName: "Hometime", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	push, err := outbox.New(filepath.Join(t.TempDir(), "outbox"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w := &inviteWorker{queue: &taskstest.Recorder{}, twilio: tw, email: sg, push: push}
	w.mux, err = worker.NewMux(worker.Deps{Identity: h.store, Roster: h.store, Ledger: h.store, Suppressions: h.store,
		Budgets: h.store, Email: mail, SMS: sms, Push: push, Catalog: notify.MustCatalog(), Limiter: ratelimit.New(rdb), Tasks: w.queue,
		HashKey: h.deps.HashKey, Clock: h.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Settings: worker.Settings{AppURL: h.deps.AppURL, SMSSenderKey: ratelimit.SenderKey("twilio", senderName),
			SMSRate: ratelimit.Rate{PerSecond: 1000, Burst: 1}, SMSPrice: 4},
		Messages: worker.NewMessageMetrics(prometheus.NewRegistry()), Imports: h.store,
		Assignments: h.store, Feed: h.store, Submissions: h.store, Digests: h.store, Devices: h.store, StaffNotices: h.store,
		Retention: h.store, ErasureRecords: h.store,
		ErasureAreas: h.store, Audit: h.store, Exports: h.store, Invited: h.store, ExpiredExports: h.store,
		Announcements: h.store, Inbox: inbox, Conversations: h.store, DigestMarks: h.store})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// run processes one task with the worker's handlers.
func (w *inviteWorker) run(t *testing.T, task *asynq.Task) {
	t.Helper()
	if err := w.mux.ProcessTask(context.Background(), task); err != nil {
		t.Fatalf("task %s: %v", task.Type(), err)
	}
}

// drain runs every task the worker has queued, including those they queue.
func (w *inviteWorker) drain(t *testing.T) {
	t.Helper()
	for steps := 0; ; steps++ {
		queued := w.queue.Tasks()
		if w.next == len(queued) {
			return
		}
		task := queued[w.next]
		w.next++
		if steps > 10_000 {
			t.Fatal("the worker keeps queueing tasks")
		}
		w.run(t, task)
	}
}

var joinCode = regexp.MustCompile(`/join/([0-9A-Z]{12})`)

// TestImportInvitesEndToEnd walks issue 4's journey: a 300-family MIS
// export (siblings, bad numbers, landlines, duplicates, Welsh- and
// Polish-speaking families) is committed; the real worker sends exactly one
// invite per reachable parent and channel, in their language; uploading the
// file again sends nothing; a parent redeems the code from their text; the
// day-3 reminder goes only to those still not joined; the funnel agrees.
func TestImportInvitesEndToEnd(t *testing.T) {
	s := newImportSchool(t)
	h := s.h
	ctx := context.Background()
	file, exp := generated(t, 300, mistest.LayoutSIMS)
	w := newInviteWorker(t, h)

	resp, body := s.upload(t, file, "dry_run=false")
	wantStatus(t, resp, body, 200)
	got := decode[importResultDTO](t, body)
	if got.Invited != exp.Invites {
		t.Fatalf("invited %d, want %d", got.Invited, exp.Invites)
	}
	for _, task := range h.queue.OfType(tasks.TypeExpandBroadcast) {
		w.run(t, task)
	}
	w.drain(t)

	// Exactly one invite per reachable parent and channel.
	b, err := h.store.Broadcast(ctx, got.InviteBroadcastID)
	if err != nil {
		t.Fatal(err)
	}
	catalog := notify.MustCatalog()
	var texts, emails int
	codeOf := map[string]string{} // parent id → code from their text
	langs := map[string]int{}
	for _, id := range b.Audience.ParentIDs {
		pa, err := h.store.Parent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if pa.Phone != "" {
			texts++
			if n := w.twilio.SentTo(pa.Phone); n != 1 {
				t.Errorf("parent %s got %d texts, want 1", id, n)
				continue
			}
			var msg providerfake.TwilioMessage
			for _, m := range w.twilio.Accepted() {
				if m.To == pa.Phone {
					msg = m
				}
			}
			m := joinCode.FindStringSubmatch(msg.Body)
			if m == nil {
				t.Errorf("parent %s: the text carries no join link", id)
				continue
			}
			codeOf[id] = m[1]
			var names []string
			for _, cl := range pa.Children {
				names = append(names, cl.FirstName)
			}
			want, err := catalog.Render(notify.TemplateInvite, notify.Language(pa.Language), notify.Params{SchoolName: s.sc.Name,
				ChildFirstName: strings.Join(names, " & "), Code: m[1], Link: "https://hometime.app/join/" + m[1]})
			if err != nil {
				t.Fatal(err)
			}
			if msg.Body != want.SMSBody {
				t.Errorf("parent %s (%s): text %q, want %q", id, pa.Language, msg.Body, want.SMSBody)
			}
			langs[pa.Language]++
		}
		if pa.Email != "" {
			emails++
			if n := w.email.SentTo(pa.Email); n != 1 {
				t.Errorf("parent %s got %d emails, want 1", id, n)
			}
		}
	}
	if texts != exp.InvitesBySMS || emails != exp.InvitesByEmail {
		t.Errorf("%d parents texted, %d emailed; want %d and %d", texts, emails, exp.InvitesBySMS, exp.InvitesByEmail)
	}
	if n := len(w.twilio.Accepted()); n != exp.InvitesBySMS {
		t.Errorf("Twilio accepted %d texts, want %d", n, exp.InvitesBySMS)
	}
	if langs["cy"] != exp.ByLanguage["cy"].SMS || langs["pl"] != exp.ByLanguage["pl"].SMS {
		t.Errorf("texts by language %v, want cy %d, pl %d", langs, exp.ByLanguage["cy"].SMS, exp.ByLanguage["pl"].SMS)
	}
	sentTexts, sentMails := len(w.twilio.Received()), len(w.email.Received())
	t.Logf("commit: %d invites, %d texts (cy %d, pl %d), %d emails in %d SendGrid requests", got.Invited, texts,
		langs["cy"], langs["pl"], emails, sentMails)

	// The same file again: nothing new is queued or sent.
	expands := len(h.queue.OfType(tasks.TypeExpandBroadcast))
	resp, body = s.upload(t, file, "dry_run=false")
	wantStatus(t, resp, body, 200)
	if again := decode[importResultDTO](t, body); again.Invited != 0 {
		t.Errorf("re-upload invited %d", again.Invited)
	}
	for _, task := range h.queue.OfType(tasks.TypeExpandBroadcast)[expands:] {
		w.run(t, task)
	}
	w.drain(t)
	if n, m := len(w.twilio.Received()), len(w.email.Received()); n != sentTexts || m != sentMails {
		t.Errorf("re-upload sent %d texts and %d email requests", n-sentTexts, m-sentMails)
	}

	// A Polish-speaking parent redeems the code from their text.
	var joiner string
	for id := range codeOf {
		if pa, _ := h.store.Parent(ctx, id); pa.Language == "pl" && (joiner == "" || id < joiner) {
			joiner = id
		}
	}
	if joiner == "" {
		t.Fatal("no Polish-speaking parent was texted")
	}
	tok, _ := h.join(codeOf[joiner], "dolaczam@example.test")
	resp, body = h.do("GET", "/v1/me", nil, tok.AccessToken)
	wantStatus(t, resp, body, 200)
	if me := decode[meDTO](t, body); me.ID != joiner {
		t.Fatalf("joined as %s, want %s", me.ID, joiner)
	}
	joined, _ := h.store.Parent(ctx, joiner)
	for _, cl := range joined.Children {
		if !strings.Contains(string(body), cl.ChildID) {
			t.Errorf("/v1/me lacks child %s", cl.ChildID)
		}
	}
	// The same code again is refused like any unknown code.
	resp, body = h.do("POST", "/v1/invites/redeem", redeemBody(codeOf[joiner], "other@example.test"), "")
	wantStatus(t, resp, body, 400)

	// Day 3: one reminder per parent still not joined, the joiner excluded.
	acceptedBefore := len(w.twilio.Accepted())
	h.clock.Advance(3 * 24 * time.Hour)
	for _, task := range h.queue.OfType(tasks.TypeInviteReminder) {
		if p, _ := tasks.ParseInviteReminder(task.Payload()); p.Day == 3 {
			w.run(t, task)
			w.run(t, task) // twice: still one reminder broadcast
		}
	}
	w.drain(t)
	reminded := 0
	for _, m := range w.twilio.Accepted()[acceptedBefore:] {
		reminded++
		if m.To == joined.Phone {
			t.Errorf("the parent who joined was reminded")
		}
	}
	if want := exp.InvitesBySMS - 1; reminded != want {
		t.Errorf("%d reminder texts, want %d", reminded, want)
	}

	s.admin = h.login("admin@glanafon.test", fixturePassword).AccessToken // the old token expired in three days

	// The funnel: every family imported and invited, all texts or emails
	// accepted (no delivery receipts in this test), one joined and active.
	resp, body = h.do("GET", "/v1/schools/"+s.sc.ID+"/funnel", nil, s.admin)
	wantStatus(t, resp, body, 200)
	f := decode[funnelDTO](t, body)
	if f.School == nil {
		t.Fatal("no school totals for an admin")
	}
	want := funnelCountsDTO{Imported: exp.Parents, Invited: exp.Invites, Sent: exp.Invites, Joined: 1, Active30d: 1,
		FailedByReason: map[string]int{}}
	if f.School.Imported != want.Imported || f.School.Invited != want.Invited || f.School.Sent != want.Sent ||
		f.School.Delivered != 0 || f.School.Failed != 0 || f.School.Joined != 1 || f.School.Active30d != 1 {
		t.Errorf("funnel %+v, want %+v", *f.School, want)
	}
	classTotal := 0
	for _, c := range f.Classes {
		classTotal += c.Joined
	}
	if len(f.Classes) == 0 || classTotal < 1 {
		t.Errorf("classes %+v: the joined family is in none", f.Classes)
	}
	resp, body = h.do("GET", "/v1/schools/"+s.sc.ID+"/funnel/families?limit=200", nil, s.admin)
	wantStatus(t, resp, body, 200)
	page := decode[familyPageDTO](t, body)
	if len(page.Items) != 200 || page.NextCursor == "" {
		t.Errorf("first page: %d families, cursor %q", len(page.Items), page.NextCursor)
	}
	resp, body = h.do("GET", "/v1/schools/"+s.sc.ID+"/funnel/families.csv", nil, s.admin)
	wantStatus(t, resp, body, 200)
	if lines := strings.Count(string(body), "\n"); lines != exp.Parents+1 {
		t.Errorf("CSV has %d lines, want %d", lines, exp.Parents+1)
	}
}

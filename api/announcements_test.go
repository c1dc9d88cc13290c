package api

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
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

const announcementsPath = "/v1/schools/sch_1/announcements"

// memInbox is an in-memory inbox for these tests: it keeps the first item
// per id, as the inbox store does.
type memInbox struct {
	mu    sync.Mutex
	items map[string]*content.InboxItem
}

func (m *memInbox) AddToInbox(_ context.Context, items []*content.InboxItem) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.items == nil {
		m.items = map[string]*content.InboxItem{}
	}
	for _, it := range items {
		if _, ok := m.items[it.ID]; !ok {
			c := *it
			m.items[it.ID] = &c
		}
	}
	return nil
}

func (m *memInbox) all() map[string]*content.InboxItem {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]*content.InboxItem, len(m.items))
	for k, v := range m.items {
		out[k] = v
	}
	return out
}

// annWorker is the real worker on the test's store: SMS through the real
// Twilio client to its fake, email through the real SendGrid client to its
// fake, push to the outbox; inbox items into memory.
type annWorker struct {
	mux    *asynq.ServeMux
	queue  *taskstest.Recorder
	next   int
	twilio *providerfake.Twilio
	email  *providerfake.SendGrid
	push   *outbox.Outbox
	inbox  *memInbox
}

func newAnnWorker(t *testing.T, h *harness) *annWorker {
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
	w := &annWorker{queue: &taskstest.Recorder{}, twilio: tw, email: sg, push: push, inbox: &memInbox{}}
	w.mux, err = worker.NewMux(worker.Deps{Identity: h.store, Roster: h.store, Ledger: h.store, Suppressions: h.store,
		Budgets: h.store, Email: mail, SMS: sms, Push: push, Catalog: notify.MustCatalog(), Limiter: ratelimit.New(rdb), Tasks: w.queue,
		HashKey: h.deps.HashKey, Clock: h.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Settings: worker.Settings{AppURL: h.deps.AppURL, SMSSenderKey: ratelimit.SenderKey("twilio", "ann"),
			SMSRate: ratelimit.Rate{PerSecond: 1000, Burst: 1}, SMSPrice: 4},
		Messages: worker.NewMessageMetrics(prometheus.NewRegistry()), Imports: h.store,
		Assignments: h.store, Feed: h.store, Devices: h.store, Retention: h.store, ErasureRecords: h.store,
		ErasureAreas: h.store, Audit: h.store, Exports: h.store, Invited: h.store, ExpiredExports: h.store,
		Announcements: h.store, Inbox: w.inbox})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// run processes one task; drain runs every task the worker has queued,
// including those they queue, in order, as one worker would.
func (w *annWorker) run(t *testing.T, task *asynq.Task) {
	t.Helper()
	if err := w.mux.ProcessTask(context.Background(), task); err != nil {
		t.Fatalf("task %s: %v", task.Type(), err)
	}
}

func (w *annWorker) drain(t *testing.T) {
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

// sendQueued runs the announcement sends the API queued, then everything
// they lead to.
func (w *annWorker) sendQueued(t *testing.T, h *harness) {
	t.Helper()
	for _, task := range h.queue.OfType(tasks.TypeSendAnnouncement) {
		w.run(t, task)
	}
	w.drain(t)
}

func emailsTo(sg *providerfake.SendGrid, addr string) (subjects []string) {
	for _, r := range sg.Accepted() {
		for _, p := range r.Personalizations {
			if slices.Contains(p.To, addr) {
				s := p.Subject
				if s == "" {
					s = r.Subject
				}
				subjects = append(subjects, s)
			}
		}
	}
	return subjects
}

const (
	welshTitle = "Trip i'r traeth ddydd Gwener"
	englishTit = "Beach trip on Friday"
)

// welshBody is long enough that its SMS sends the title and a link.
var welshBody = strings.Repeat("Dewch â chot law, het haul a phecyn bwyd. ", 12) + "Diolch yn fawr."

func classAnnouncement(classID string) map[string]any {
	return map[string]any{"title": englishTit, "body": "Bring a raincoat, a sun hat and a packed lunch. Thank you.",
		"language": "en", "versions": []map[string]any{{"language": "cy", "title": welshTitle, "body": welshBody}},
		"audience": map[string]any{"class_ids": []string{classID}}}
}

// TestAnnouncementToOneClassInWelsh: an admin sends an announcement to C1
// with a Welsh version. Every family of C1 gets exactly one message on its
// one channel, in its language: a Welsh-speaking parent by SMS (the title
// and a link, the body being too long) whose link opens the Welsh text; an
// English-speaking parent who chose email for news gets the whole English
// text; a Welsh-speaking parent with the app gets a push with the Welsh
// title. Nobody outside C1 and no closed account gets anything; each
// reached parent has one inbox item titled in their language. Running the
// send and the sweep again sends nothing more.
func TestAnnouncementToOneClassInWelsh(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	wk := newAnnWorker(t, h)

	// Parent A reads Welsh (SMS, no app). Parent B chose email for news.
	a, err := h.store.Parent(ctx, w.ParentA.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Language = "cy"
	if err := h.store.UpdateParent(ctx, a); err != nil {
		t.Fatal(err)
	}
	auto := map[string]any{"channel": "auto", "language": nil}
	resp, body := h.do("PUT", "/v1/me/preferences", map[string]any{"activities": auto, "replies": auto, "awards": auto,
		"news": map[string]any{"channel": "email", "language": nil}}, w.tokens[actParentB])
	wantStatus(t, resp, body, 200)
	// Parent C, Welsh, K1's second parent, has the app.
	c := &content.Parent{ID: "par_c", FirstName: "Cerys", LastName: "Pritchard", Email: "cerys.p@example.test",
		Phone: "+447911123505", Language: "cy", State: content.ParentActive, Sessions: []string{}, CreatedAt: h.clock.Now()}
	if err := h.store.CreateParent(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := h.linkForTest(ctx, c, w.K1); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutDevice(ctx, c.ID, content.Device{ID: content.DeviceID(h.deps.HashKey, "tok-cerys"), Platform: content.PlatformIOS,
		Token: "tok-cerys", LastSeen: h.clock.Now(), Created: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// Parent D's child is in C2: not in the audience.
	d := &content.Parent{ID: "par_d", FirstName: "Dai", LastName: "Vaughan", Phone: "+447911123506", Language: "cy",
		State: content.ParentActive, Sessions: []string{}, CreatedAt: h.clock.Now()}
	if err := h.store.CreateParent(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := h.linkForTest(ctx, d, w.K3); err != nil {
		t.Fatal(err)
	}

	// The preview first: three families, one per channel; SMS cost per language.
	resp, body = h.do("POST", announcementsPath+"/preview", classAnnouncement("cls_1"), w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	pv := decode[announcementPreviewDTO](t, body)
	if pv.Recipients != 3 || pv.Channels != (previewChannelsDTO{SMS: 1, Email: 1, Push: 1}) || !pv.SMSBudgetCovers {
		t.Fatalf("preview %+v", pv)
	}
	var cy previewLanguageDTO
	for _, l := range pv.Languages {
		if l.Language == "cy" {
			cy = l
		}
	}
	if cy.Recipients != 2 || cy.SMS != 1 || cy.SMSFullText || cy.SMSSegments < 1 || cy.SMSSegments > 2 || cy.SMSCostPence != int64(4*cy.SMSSegments) {
		t.Fatalf("Welsh preview %+v", cy)
	}
	if len(h.queue.OfType(tasks.TypeSendAnnouncement)) != 0 {
		t.Fatal("the preview queued a send")
	}

	resp, body = h.do("POST", announcementsPath, classAnnouncement("cls_1"), w.tokens[actAdmin], withHeader("Idempotency-Key", "trip-1"))
	wantStatus(t, resp, body, 202)
	ann := decode[announcementDTO](t, body)
	if ann.State != "scheduled" || ann.ID == "" || len(ann.Versions) != 1 {
		t.Fatalf("answer %+v", ann)
	}
	wk.sendQueued(t, h)

	// SMS: parent A only, Welsh title and a link (the body does not fit).
	if n := len(wk.twilio.Accepted()); n != 1 {
		t.Fatalf("Twilio accepted %d texts, want 1", n)
	}
	sms := wk.twilio.Accepted()[0]
	if sms.To != w.ParentA.Phone || !strings.Contains(sms.Body, welshTitle) || strings.Contains(sms.Body, englishTit) ||
		!strings.Contains(sms.Body, testPublicURL+"/a/") || notify.CountSegments(sms.Body).Segments > 2 {
		t.Fatalf("text to %s: %q", sms.To, sms.Body)
	}
	t.Logf("Welsh SMS (%d segments): %q", notify.CountSegments(sms.Body).Segments, sms.Body)
	// Email: parent B only, in English, with the whole text.
	if got := emailsTo(wk.email, w.ParentB.Email); len(got) != 1 || got[0] != englishTit {
		t.Fatalf("emails to parent B: %q", got)
	}
	if n := len(wk.email.Accepted()); n != 1 {
		t.Fatalf("SendGrid accepted %d requests, want 1", n)
	}
	if !strings.Contains(wk.email.Accepted()[0].Contents[0].Value, "packed lunch") {
		t.Fatalf("the email lacks the body: %q", wk.email.Accepted()[0].Contents[0].Value)
	}
	// Push: parent C only, the Welsh title.
	var pushes []outbox.Record
	for _, r := range wk.push.Recent() {
		if r.Channel == notify.ChannelPush {
			pushes = append(pushes, r)
		}
	}
	if len(pushes) != 1 || pushes[0].To != "tok-cerys" || pushes[0].Title != welshTitle || pushes[0].Data["announcement_id"] != ann.ID {
		t.Fatalf("pushes %+v", pushes)
	}
	// Inbox: one item per reached parent, titled in their language, naming
	// the child and class it came through.
	items := wk.inbox.all()
	want := map[string]string{w.ParentA.ID: welshTitle, w.ParentB.ID: englishTit, c.ID: welshTitle}
	if len(items) != len(want) {
		t.Fatalf("%d inbox items, want %d: %v", len(items), len(want), items)
	}
	for pid, title := range want {
		it := items[content.InboxItemID(pid, ann.ID)]
		if it == nil || it.Title != title || it.Kind != content.InboxAnnouncement || !slices.Equal(it.ClassIDs, []string{"cls_1"}) ||
			len(it.ChildIDs) != 1 || it.SchoolID != "sch_1" {
			t.Errorf("inbox of %s: %+v", pid, it)
		}
	}

	// The announcement is sent; its link opens the Welsh text.
	resp, body = h.do("GET", announcementsPath+"/"+ann.ID, nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 200)
	if got := decode[announcementDTO](t, body); got.State != "sent" || got.BroadcastID != content.AnnouncementBroadcastID(ann.ID) {
		t.Fatalf("after the send: %+v", got)
	}
	i := strings.Index(sms.Body, testPublicURL+"/a/")
	link := strings.Fields(sms.Body[i:])[0]
	resp, page := h.do("GET", strings.TrimPrefix(link, testPublicURL), nil, "")
	wantStatus(t, resp, page, 200)
	if !strings.Contains(string(page), "Diolch yn fawr.") || !strings.Contains(string(page), "Riverside Primary") ||
		!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("page (CSP %q): %s", resp.Header.Get("Content-Security-Policy"), page)
	}
	for _, v := range w.pii {
		if v != "" && strings.Contains(string(page), v) {
			t.Fatalf("the public page shows personal data %q", v)
		}
	}
	u, _ := url.Parse(link)
	resp, body = h.do("GET", u.Path+"x", nil, "")
	wantStatus(t, resp, body, 404)

	// Exactly once: the send task, the sweep and the expansion again.
	for _, task := range h.queue.OfType(tasks.TypeSendAnnouncement) {
		wk.run(t, task)
	}
	wk.run(t, tasks.NewAnnouncementsSweep(time.Minute))
	t2, err := tasks.NewExpandBroadcast(content.AnnouncementBroadcastID(ann.ID))
	if err != nil {
		t.Fatal(err)
	}
	wk.run(t, t2)
	wk.drain(t)
	if len(wk.twilio.Accepted()) != 1 || len(wk.email.Accepted()) != 1 || len(wk.push.Recent()) != 1 || len(wk.inbox.all()) != 3 {
		t.Fatalf("after re-runs: %d texts, %d email requests, %d outbox records, %d inbox items",
			len(wk.twilio.Accepted()), len(wk.email.Accepted()), len(wk.push.Recent()), len(wk.inbox.all()))
	}
	// The broadcast records the template and category it was sent under.
	b, err := h.store.Broadcast(ctx, content.AnnouncementBroadcastID(ann.ID))
	if err != nil {
		t.Fatal(err)
	}
	if b.Template != "announcement" || b.Category != content.CategoryNews || b.Recipients != 3 {
		t.Fatalf("broadcast %+v", b)
	}
	// The same Idempotency-Key answers the same announcement; nothing new is queued.
	queued := len(h.queue.OfType(tasks.TypeSendAnnouncement))
	resp, body = h.do("POST", announcementsPath, classAnnouncement("cls_1"), w.tokens[actAdmin], withHeader("Idempotency-Key", "trip-1"))
	wantStatus(t, resp, body, 202)
	if got := decode[announcementDTO](t, body); got.ID != ann.ID || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay answered %s (replayed %q), want %s", got.ID, resp.Header.Get("Idempotent-Replayed"), ann.ID)
	}
	if len(h.queue.OfType(tasks.TypeSendAnnouncement)) != queued {
		t.Fatal("a replay queued another send")
	}
	// Sent: too late to cancel.
	resp, body = h.do("POST", announcementsPath+"/"+ann.ID+"/cancel", nil, w.tokens[actAdmin])
	wantStatus(t, resp, body, 409)
}

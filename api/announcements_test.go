package api

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/tasks"
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

// annWorker is the real worker on the test's store (newRealWorker), its
// inbox items kept in memory.
type annWorker struct {
	*inviteWorker
	inbox *memInbox
}

func newAnnWorker(t *testing.T, h *harness) *annWorker {
	t.Helper()
	inbox := &memInbox{}
	return &annWorker{inviteWorker: newRealWorker(t, h, "ann", inbox), inbox: inbox}
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

// TestCreateAnnouncementRules: who may send to whom, and what a refused
// request says is wrong. A refused request queues nothing.
func TestCreateAnnouncementRules(t *testing.T) {
	w := newWorld(t)
	body := func(aud map[string]any, edit ...func(map[string]any)) map[string]any {
		b := map[string]any{"title": "Trip", "body": "Coats please.", "audience": aud}
		for _, e := range edit {
			e(b)
		}
		return b
	}
	classes := func(ids ...string) map[string]any { return map[string]any{"class_ids": ids} }
	whole := map[string]any{"whole_school": true}
	set := func(k string, v any) func(map[string]any) { return func(b map[string]any) { b[k] = v } }
	past := w.h.clock.Now().Add(-time.Minute).Format(time.RFC3339)
	cases := []struct {
		name   string
		actor  string
		body   any
		status int
		field  string // for 400 and 403: the field named
	}{
		{name: "teacher to own class", actor: actTeacher, body: body(classes("cls_1")), status: 202},
		{name: "admin to the whole school", actor: actAdmin, body: body(whole), status: 202},
		{name: "admin to a year group", actor: actAdmin, body: body(map[string]any{"year_groups": []string{"Y4"}}), status: 202},
		{name: "admin to named parents", actor: actAdmin, body: body(map[string]any{"parent_ids": []string{"par_a", "par_b"}}), status: 202},
		{name: "admin, scheduled, urgent", actor: actAdmin, body: body(whole, set("send_at", w.h.clock.Now().Add(time.Hour).Format(time.RFC3339)),
			set("urgent", true)), status: 202},
		{name: "teacher to another teacher's class", actor: actTeacher, body: body(classes("cls_2")), status: 403, field: "audience.class_ids"},
		{name: "teacher to own and another class", actor: actTeacher, body: body(classes("cls_1", "cls_2")), status: 403, field: "audience.class_ids"},
		{name: "teacher to the whole school", actor: actTeacher, body: body(whole), status: 403, field: "audience.whole_school"},
		{name: "teacher to a year group", actor: actTeacher, body: body(map[string]any{"year_groups": []string{"Y2"}}), status: 403, field: "audience.year_groups"},
		{name: "teacher to named parents", actor: actTeacher, body: body(map[string]any{"parent_ids": []string{"par_a"}}), status: 403, field: "audience.parent_ids"},
		{name: "parent", actor: actParentA, body: body(classes("cls_1")), status: 403},
		{name: "admin of another school", actor: actAdminOther, body: body(classes("cls_1")), status: 404},
		{name: "signed out", actor: actAnonymous, body: body(classes("cls_1")), status: 401},
		{name: "class of another school", actor: actAdmin, body: body(classes("cls_o")), status: 400, field: "audience.class_ids"},
		{name: "parent of another school", actor: actAdmin, body: body(map[string]any{"parent_ids": []string{"par_o"}}), status: 400, field: "audience.parent_ids"},
		{name: "year group with no class", actor: actAdmin, body: body(map[string]any{"year_groups": []string{"Y6"}}), status: 400, field: "audience.year_groups"},
		{name: "no audience", actor: actAdmin, body: body(map[string]any{}), status: 400, field: "audience"},
		{name: "two audiences", actor: actAdmin, body: body(map[string]any{"whole_school": true, "class_ids": []string{"cls_1"}}), status: 400, field: "audience"},
		{name: "repeated class", actor: actAdmin, body: body(classes("cls_1", "cls_1")), status: 400, field: "audience.class_ids"},
		{name: "blank title", actor: actAdmin, body: body(whole, set("title", "  ")), status: 400, field: "title"},
		{name: "title on two lines", actor: actAdmin, body: body(whole, set("title", "Trip\nhttp://evil.test")), status: 400, field: "title"},
		{name: "title too long", actor: actAdmin, body: body(whole, set("title", strings.Repeat("x", 121))), status: 400, field: "title"},
		{name: "body too long", actor: actAdmin, body: body(whole, set("body", strings.Repeat("x", 5001))), status: 400, field: "body"},
		{name: "body with a control character", actor: actAdmin, body: body(whole, set("body", "Coats\x07please")), status: 400, field: "body"},
		{name: "language not a code", actor: actAdmin, body: body(whole, set("language", "Welsh")), status: 400, field: "language"},
		{name: "version in the original's language", actor: actAdmin, body: body(whole, set("language", "en"),
			set("versions", []map[string]any{{"language": "en", "title": "T", "body": "B"}})), status: 400, field: "versions[0].language"},
		{name: "version without a body", actor: actAdmin, body: body(whole,
			set("versions", []map[string]any{{"language": "cy", "title": "Taith", "body": ""}})), status: 400, field: "versions[0].body"},
		{name: "send_at in the past", actor: actAdmin, body: body(whole, set("send_at", past)), status: 400, field: "send_at"},
		{name: "an unknown attachment", actor: actAdmin, body: body(whole, set("attachment_ids", []string{"att_1"})),
			status: 400, field: "attachment_ids"},
		{name: "privileged field", actor: actAdmin, body: body(whole, set("school_id", "sch_2")), status: 400, field: "school_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.h.queue.OfType(tasks.TypeSendAnnouncement))
			resp, out := w.h.do("POST", announcementsPath, tc.body, w.tokens[tc.actor])
			wantStatus(t, resp, out, tc.status)
			queued := len(w.h.queue.OfType(tasks.TypeSendAnnouncement)) - before
			if tc.status != 202 {
				if queued != 0 {
					t.Fatal("a refused request queued a send")
				}
				if tc.field != "" {
					e := decode[errorBody](t, out)
					if _, ok := e.Error.Fields[tc.field]; !ok {
						t.Fatalf("fields %v, want %q named", e.Error.Fields, tc.field)
					}
				}
				return
			}
			got := decode[announcementDTO](t, out)
			if got.State != "scheduled" || queued != 1 {
				t.Fatalf("answer %+v, %d sends queued", got, queued)
			}
			a, err := w.h.store.Announcement(context.Background(), got.ID)
			if err != nil || a.SchoolID != "sch_1" || len(a.Links) != 1 {
				t.Fatalf("stored %+v (%v)", a, err)
			}
		})
	}
}

// TestAnnouncementAttachments: an announcement may name files uploaded to
// its own school only.
func TestAnnouncementAttachments(t *testing.T) {
	w := newWorld(t)
	for _, a := range []*content.Attachment{
		{ID: "att_1", SchoolID: "sch_1", Name: "letter.pdf", ContentType: "application/pdf", Size: 1000},
		{ID: "att_o", SchoolID: "sch_2", Name: "other.pdf", ContentType: "application/pdf", Size: 1000},
	} {
		if err := w.h.store.PutAttachment(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	b := func(ids ...string) map[string]any {
		return map[string]any{"title": "Letter", "body": "See the letter.", "audience": map[string]any{"class_ids": []string{"cls_1"}},
			"attachment_ids": ids}
	}
	resp, out := w.h.do("POST", announcementsPath, b("att_1"), w.tokens[actTeacher])
	wantStatus(t, resp, out, 202)
	if got := decode[announcementDTO](t, out); !slices.Equal(got.AttachmentIDs, []string{"att_1"}) {
		t.Fatalf("attachments %v", got.AttachmentIDs)
	}
	for _, ids := range [][]string{{"att_o"}, {"att_nope"}, {"att_1", "att_1"}} {
		resp, out = w.h.do("POST", announcementsPath, b(ids...), w.tokens[actTeacher])
		wantStatus(t, resp, out, 400)
		if e := decode[errorBody](t, out); e.Error.Fields["attachment_ids"] == "" {
			t.Fatalf("%v: fields %v", ids, e.Error.Fields)
		}
	}
}

// TestAnnouncementAccess: the author and the school's admins read and
// cancel an announcement; another teacher, a parent and another school's
// admin are told it does not exist (or that the route is not theirs); the
// list shows a teacher their own only.
func TestAnnouncementAccess(t *testing.T) {
	w := newWorld(t)
	resp, out := w.h.do("POST", announcementsPath, map[string]any{"title": "Trip", "body": "Coats please.",
		"audience": map[string]any{"class_ids": []string{"cls_1"}}, "send_at": w.h.clock.Now().Add(time.Hour).Format(time.RFC3339)},
		w.tokens[actTeacher])
	wantStatus(t, resp, out, 202)
	ann := decode[announcementDTO](t, out)
	for actor, status := range map[string]int{actTeacher: 200, actAdmin: 200, actTeacherOther: 404, actParentA: 403, actAdminOther: 404, actAnonymous: 401} {
		resp, out := w.h.do("GET", announcementsPath+"/"+ann.ID, nil, w.tokens[actor])
		wantStatus(t, resp, out, status)
	}
	for actor, n := range map[string]int{actTeacher: 1, actAdmin: 1, actTeacherOther: 0} {
		resp, out := w.h.do("GET", announcementsPath, nil, w.tokens[actor])
		wantStatus(t, resp, out, 200)
		if got := decode[announcementListDTO](t, out); len(got.Items) != n {
			t.Fatalf("%s lists %d, want %d", actor, len(got.Items), n)
		}
	}
	resp, out = w.h.do("GET", "/v1/schools/sch_2/announcements/"+ann.ID, nil, w.tokens[actAdminOther])
	wantStatus(t, resp, out, 404)
	for _, actor := range []string{actTeacherOther, actAdminOther} {
		resp, out = w.h.do("POST", announcementsPath+"/"+ann.ID+"/cancel", nil, w.tokens[actor])
		wantStatus(t, resp, out, 404)
	}
	resp, out = w.h.do("POST", announcementsPath+"/"+ann.ID+"/cancel", nil, w.tokens[actTeacher])
	wantStatus(t, resp, out, 200)
	if got := decode[announcementDTO](t, out); got.State != "cancelled" || got.CancelledAt == nil {
		t.Fatalf("cancelled: %+v", got)
	}
	// Cancelling again answers the cancelled announcement.
	resp, out = w.h.do("POST", announcementsPath+"/"+ann.ID+"/cancel", nil, w.tokens[actAdmin])
	wantStatus(t, resp, out, 200)
}

// TestScheduledAnnouncementClockTravel: a scheduled announcement sends at
// its time and a cancelled one never does. The clock travels; nothing
// sleeps. The send task running early does nothing (asynq retries it);
// the sweep, which stands in for a task Redis lost, starts the due one.
func TestScheduledAnnouncementClockTravel(t *testing.T) {
	w := newWorld(t)
	h := w.h
	wk := newAnnWorker(t, h)
	start := h.clock.Now()
	create := func(after time.Duration) announcementDTO {
		resp, out := h.do("POST", announcementsPath, map[string]any{"title": "Trip", "body": "Coats please.",
			"audience": map[string]any{"class_ids": []string{"cls_1"}}, "send_at": start.Add(after).Format(time.RFC3339)}, w.tokens[actAdmin])
		wantStatus(t, resp, out, 202)
		return decode[announcementDTO](t, out)
	}
	kept, cancelled := create(2*time.Hour), create(time.Hour)
	resp, out := h.do("POST", announcementsPath+"/"+cancelled.ID+"/cancel", nil, w.tokens[actAdmin])
	wantStatus(t, resp, out, 200)
	sendTasks := h.queue.OfType(tasks.TypeSendAnnouncement)
	if len(sendTasks) != 2 {
		t.Fatalf("%d send tasks queued, want 2", len(sendTasks))
	}
	sent := func() int { return len(wk.twilio.Accepted()) }

	// Before its time: the task refuses to start it, the sweep finds nothing due.
	if err := wk.mux.ProcessTask(context.Background(), sendTasks[0]); err == nil || !strings.Contains(err.Error(), "early") {
		t.Fatalf("early run: %v", err)
	}
	wk.run(t, tasks.NewAnnouncementsSweep(time.Minute))
	wk.drain(t)
	if sent() != 0 {
		t.Fatalf("%d texts before the send time", sent())
	}
	// Past the cancelled one's time: its task runs and sends nothing.
	h.clock.Advance(90 * time.Minute)
	wk.run(t, sendTasks[1])
	wk.run(t, tasks.NewAnnouncementsSweep(time.Minute))
	wk.drain(t)
	if sent() != 0 {
		t.Fatalf("the cancelled announcement sent %d texts", sent())
	}
	// At the kept one's time, with its task lost: the sweep sends it, once.
	h.clock.Advance(30 * time.Minute)
	wk.run(t, tasks.NewAnnouncementsSweep(time.Minute))
	wk.drain(t)
	// Parents A and B of C1 have mobiles and no app: one text each.
	if sent() != 2 || wk.twilio.SentTo(w.ParentA.Phone) != 1 || wk.twilio.SentTo(w.ParentB.Phone) != 1 {
		t.Fatalf("%d texts at the send time, want one to each of parents A and B", sent())
	}
	wk.run(t, sendTasks[0]) // the task arriving late changes nothing
	wk.run(t, sendTasks[1])
	wk.drain(t)
	if sent() != 2 {
		t.Fatalf("%d texts after the late task, want 2", sent())
	}
	admin := h.login(w.Admin.Email, fixturePassword).AccessToken // the clock has outrun the first token
	for id, state := range map[string]string{kept.ID: "sent", cancelled.ID: "cancelled"} {
		resp, out := h.do("GET", announcementsPath+"/"+id, nil, admin)
		wantStatus(t, resp, out, 200)
		if got := decode[announcementDTO](t, out); got.State != state {
			t.Fatalf("%s is %s, want %s", id, got.State, state)
		}
	}
	if _, err := h.store.Broadcast(context.Background(), content.AnnouncementBroadcastID(cancelled.ID)); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("the cancelled announcement has a broadcast (%v)", err)
	}
}

// TestAnnouncementToAYearGroup: a year group is the school's classes of
// that year group at send time. Y4 is C2: parent D, whose child is there,
// gets the one text; C1's families (Y2) get nothing, and the inbox item
// names C2 and the child.
func TestAnnouncementToAYearGroup(t *testing.T) {
	w := newWorld(t)
	h := w.h
	ctx := context.Background()
	wk := newAnnWorker(t, h)
	d := &content.Parent{ID: "par_d", FirstName: "Dai", LastName: "Vaughan", Phone: "+447911123506", Language: "en",
		State: content.ParentActive, Sessions: []string{}, CreatedAt: h.clock.Now()}
	if err := h.store.CreateParent(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := h.linkForTest(ctx, d, w.K3); err != nil {
		t.Fatal(err)
	}
	resp, out := h.do("POST", announcementsPath, map[string]any{"title": "Swimming", "body": "Year 4 swim on Tuesday.",
		"audience": map[string]any{"year_groups": []string{"Y4"}}}, w.tokens[actAdmin])
	wantStatus(t, resp, out, 202)
	ann := decode[announcementDTO](t, out)
	wk.sendQueued(t, h)
	if len(wk.twilio.Accepted()) != 1 || wk.twilio.SentTo(d.Phone) != 1 {
		t.Fatalf("%d texts; parent D got %d", len(wk.twilio.Accepted()), wk.twilio.SentTo(d.Phone))
	}
	items := wk.inbox.all()
	it := items[content.InboxItemID(d.ID, ann.ID)]
	if len(items) != 1 || it == nil || !slices.Equal(it.ClassIDs, []string{"cls_2"}) || !slices.Equal(it.ChildIDs, []string{w.K3.ID}) {
		t.Fatalf("inbox %v", items)
	}
}

package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// queuedAt records tasks with the time they were queued to run at.
type queuedAt struct {
	mu    sync.Mutex
	tasks []*asynq.Task
	at    []time.Time
}

func (q *queuedAt) EnqueueContext(_ context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var at time.Time
	for _, o := range opts {
		if o.Type() == asynq.ProcessAtOpt {
			at = o.Value().(time.Time)
		}
	}
	q.tasks, q.at = append(q.tasks, t), append(q.at, at)
	return &asynq.TaskInfo{ID: "t", Type: t.Type()}, nil
}

// staffPusher is the worker's staff-notification handler on the test's
// store and clock, sending through the real FCM client to the FCM fake.
func staffPusher(t *testing.T, h *harness) (*worker.StaffNotifications, *providerfake.FCM, *queuedAt) {
	t.Helper()
	fake := providerfake.NewFCM(t)
	push, err := fcm.New(context.Background(), fcm.Config{ProjectID: fake.ProjectID, Endpoint: fake.Endpoint(),
		WithoutAuth: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	q := &queuedAt{}
	return &worker.StaffNotifications{Roster: h.store, Store: h.store, Assignments: h.store, Push: push, Tasks: q,
		HashKey: h.deps.HashKey, Clock: h.clock, Log: slog.New(slog.DiscardHandler)}, fake, q
}

func staffNotifyPayload(t *testing.T, task *asynq.Task) tasks.NotifyStaff {
	t.Helper()
	p, err := tasks.ParseNotifyStaff(task.Payload())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStaffPushForSubmission: the class teacher registers the staff app
// over HTTP; a parent's submission queues one notification task (IDs
// only); the worker pushes the teacher's device once, through the real
// FCM client, even when the task runs twice, saying what and where but
// naming no one. Outside the teacher's working hours the push is queued
// for the next start instead, and sent then. A token FCM reports
// UNREGISTERED is dropped from the teacher.
func TestStaffPushForSubmission(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, ctx := w.h, context.Background()
	if err := h.store.CreateAssignment(ctx, &content.Assignment{ID: "asg_1", SchoolID: "sch_1", ClassID: "cls_1",
		Activities: []content.AssignedActivity{{ID: "act_1", Title: "Shape hunt"}}, SetBy: w.Teacher.ID,
		State: content.AssignmentReleased, CreatedAt: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	pusher, fake, deferred := staffPusher(t, h)
	tokT := w.tokens[actTeacher]

	resp, body := h.do("POST", "/v1/me/devices", map[string]any{"platform": "ios", "token": "staff-token-live"}, tokT)
	if resp.StatusCode != http.StatusCreated || strings.Contains(string(body), "staff-token-live") {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.do("POST", "/v1/me/devices", map[string]any{"platform": "ios", "token": "staff-token-live"}, tokT); resp.StatusCode != http.StatusOK {
		t.Errorf("refresh: %d, want 200", resp.StatusCode)
	}

	// Monday 10:00 in London: inside the default working hours.
	resp, body = h.do("POST", "/v1/children/chd_1/assignments/asg_1/submission", map[string]any{"done": true, "comment": "Eirlys loved it"},
		w.tokens[actParentA])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("submit: %d %s", resp.StatusCode, body)
	}
	queued := h.queue.OfType(tasks.TypeNotifyStaff)
	if len(queued) != 1 {
		t.Fatalf("%d staff notifications queued, want 1", len(queued))
	}
	p := staffNotifyPayload(t, queued[0])
	if p.Kind != tasks.StaffNotifySubmission || p.ClassID != "cls_1" || p.RefID != content.SubmissionID("asg_1", "chd_1", "par_a") {
		t.Errorf("payload %+v", p)
	}
	for _, v := range w.pii {
		if v != "" && strings.Contains(string(queued[0].Payload()), v) {
			t.Errorf("task payload holds %q", v)
		}
	}
	for range 2 { // a task that runs again pushes nothing more
		if err := pusher.ProcessTask(ctx, queued[0]); err != nil {
			t.Fatal(err)
		}
	}
	got := fake.Accepted()
	if len(got) != 1 || got[0].Token != "staff-token-live" || got[0].Title != "New submission" || got[0].Body != "New submission: Shape hunt" {
		t.Fatalf("pushes %+v, want one to the teacher", got)
	}
	raw, _ := json.Marshal(got[0])
	for _, v := range append(slices.Clone(w.pii), "loved it") {
		if v != "" && strings.Contains(string(raw), v) {
			t.Errorf("push holds %q", v)
		}
	}

	// The teacher works 08:00–16:30, Monday to Friday. A submission at
	// 17:00 waits for Tuesday 08:00 (GMT in November).
	resp, body = h.do("PUT", "/v1/me/staff-settings", map[string]any{"working_hours": map[string]any{"start": "08:00",
		"end": "16:30", "days": []string{"mon", "tue", "wed", "thu", "fri"}}, "email_digest": true}, tokT)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("settings: %d %s", resp.StatusCode, body)
	}
	h.clock.Set(time.Date(2026, 11, 2, 17, 0, 0, 0, time.UTC))
	if resp, body := h.do("POST", "/v1/children/chd_2/assignments/asg_1/submission", map[string]any{"done": true},
		h.login(w.ParentB.Email, fixturePassword).AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("submit B: %d %s", resp.StatusCode, body)
	}
	queued = h.queue.OfType(tasks.TypeNotifyStaff)
	if len(queued) != 2 {
		t.Fatalf("%d staff notifications queued, want 2", len(queued))
	}
	if err := pusher.ProcessTask(ctx, queued[1]); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Received()); n != 1 {
		t.Fatalf("%d pushes after an out-of-hours event, want still 1", n)
	}
	wantAt := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	if len(deferred.tasks) != 1 || !deferred.at[0].Equal(wantAt) ||
		!slices.Equal(staffNotifyPayload(t, deferred.tasks[0]).StaffIDs, []string{w.Teacher.ID}) {
		t.Fatalf("deferred %d tasks at %v, want one for the teacher at %v", len(deferred.tasks), deferred.at, wantAt)
	}
	h.clock.Set(wantAt)
	for range 2 {
		if err := pusher.ProcessTask(ctx, deferred.tasks[0]); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.Accepted(); len(got) != 2 || got[1].Token != "staff-token-live" {
		t.Fatalf("pushes after working hours began: %+v, want 2", got)
	}

	// A dead token is dropped; the live one still gets the push.
	tokT = h.login(w.Teacher.Email, fixturePassword).AccessToken
	if resp, _ := h.do("POST", "/v1/me/devices", map[string]any{"platform": "android", "token": "staff-token-dead"}, tokT); resp.StatusCode != http.StatusCreated {
		t.Fatalf("register second device: %d", resp.StatusCode)
	}
	fake.Unregister("staff-token-dead")
	msg, err := tasks.NewNotifyStaff(tasks.NotifyStaff{Kind: tasks.StaffNotifyMessage, SchoolID: "sch_1", ClassID: "cls_1", RefID: "msg_1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pusher.ProcessTask(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if got := fake.Accepted(); len(got) != 3 || got[2].Body != "New message in Kingfishers class" {
		t.Fatalf("message push: %+v", got)
	}
	st, err := h.store.Staff(ctx, w.Teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Devices) != 1 || st.Devices[0].Token != "staff-token-live" {
		t.Errorf("teacher's devices after UNREGISTERED: %+v", st.Devices)
	}

	// Refused with 429 (never delivered): the task fails so asynq retries,
	// and the retry sends it once.
	fake.FailNext(1, providerfake.TooManyRequests(0))
	reply, err := tasks.NewNotifyStaff(tasks.NotifyStaff{Kind: tasks.StaffNotifyReply, SchoolID: "sch_1", ClassID: "cls_1", RefID: "msg_2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pusher.ProcessTask(ctx, reply); err == nil {
		t.Fatal("a rate-limited push reported success: asynq would not retry it")
	}
	for range 2 {
		if err := pusher.ProcessTask(ctx, reply); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.Accepted(); len(got) != 4 || got[3].Body != "New reply in Kingfishers class" {
		t.Fatalf("after a 429 and two runs: %d pushes accepted, want 4", len(got))
	}
}

// TestStaffDevicesAndSettings: staff add and remove devices on the
// parents' routes; a phone passed from a teacher to a parent moves; staff
// settings default, validate with field errors and persist; parents are
// refused them.
func TestStaffDevicesAndSettings(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, ctx := w.h, context.Background()
	tokT := w.tokens[actTeacher]
	resp, body := h.do("POST", "/v1/me/devices", map[string]any{"platform": "android", "token": "shared-phone-token"}, tokT)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	devID := decodeInto[deviceDTO](t, body).ID
	if resp, _ := h.do("DELETE", "/v1/me/devices/"+devID, nil, w.tokens[actTeacherOther]); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another teacher removes it: %d, want 404", resp.StatusCode)
	}
	// The same phone signed in as a parent: the token moves.
	if resp, _ := h.do("POST", "/v1/me/devices", map[string]any{"platform": "android", "token": "shared-phone-token"}, w.tokens[actParentA]); resp.StatusCode != http.StatusCreated {
		t.Fatalf("parent registers: %d", resp.StatusCode)
	}
	if st, _ := h.store.Staff(ctx, w.Teacher.ID); len(st.Devices) != 0 {
		t.Errorf("teacher still holds a moved token: %+v", st.Devices)
	}
	if resp, _ := h.do("POST", "/v1/me/devices", map[string]any{"platform": "android", "token": "shared-phone-token"}, tokT); resp.StatusCode != http.StatusCreated {
		t.Fatalf("back to the teacher: %d", resp.StatusCode)
	}
	if p, _ := h.store.Parent(ctx, "par_a"); len(p.Devices) != 0 {
		t.Errorf("parent still holds a moved token: %+v", p.Devices)
	}
	if resp, _ := h.do("DELETE", "/v1/me/devices/"+devID, nil, tokT); resp.StatusCode != http.StatusNoContent {
		t.Errorf("remove: %d", resp.StatusCode)
	}
	if st, _ := h.store.Staff(ctx, w.Teacher.ID); len(st.Devices) != 0 {
		t.Errorf("device left after removal: %+v", st.Devices)
	}
	// Stale staff devices are swept like parents'.
	if resp, _ := h.do("POST", "/v1/me/devices", map[string]any{"platform": "ios", "token": "old-staff-phone"}, tokT); resp.StatusCode != http.StatusCreated {
		t.Fatalf("register old phone: %d", resp.StatusCode)
	}
	if n, err := h.store.DropStaleDevices(ctx, h.clock.Now().Add(time.Hour)); err != nil || n < 1 {
		t.Errorf("stale sweep dropped %d (%v)", n, err)
	}
	if st, _ := h.store.Staff(ctx, w.Teacher.ID); len(st.Devices) != 0 {
		t.Errorf("stale staff device kept: %+v", st.Devices)
	}

	resp, body = h.do("GET", "/v1/me/staff-settings", nil, tokT)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"start":"07:30"`) ||
		!strings.Contains(string(body), `"days":["mon","tue","wed","thu","fri"]`) || !strings.Contains(string(body), `"email_digest":true`) {
		t.Errorf("defaults: %d %s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"working_hours": map[string]any{"start": "18:00", "end": "07:30", "days": []string{"mon"}}, "email_digest": true}, "working_hours.end"},
		{map[string]any{"working_hours": map[string]any{"start": "08:00", "end": "16:00", "days": []string{"mon", "mon"}}, "email_digest": true}, "working_hours.days"},
		{map[string]any{"working_hours": map[string]any{"start": "08:00", "end": "16:00", "days": []string{}}, "email_digest": true}, "working_hours.days"},
		{map[string]any{"working_hours": map[string]any{"start": "08:00", "end": "16:00", "days": []string{"mon"}}}, "email_digest"},
	} {
		resp, body := h.do("PUT", "/v1/me/staff-settings", c.body, tokT)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"`+c.field+`"`) {
			t.Errorf("PUT %v: %d %s, want 400 naming %s", c.body, resp.StatusCode, body, c.field)
		}
	}
	if st, _ := h.store.Staff(ctx, w.Teacher.ID); st.WorkingHours != nil || st.DigestOff {
		t.Fatalf("a refused PUT changed the settings: %+v", st.WorkingHours)
	}
	resp, body = h.do("PUT", "/v1/me/staff-settings", map[string]any{"working_hours": map[string]any{"start": "08:15",
		"end": "15:45", "days": []string{"thu", "mon"}}, "email_digest": false}, tokT)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	st, err := h.store.Staff(ctx, w.Teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.WorkingHours == nil || st.WorkingHours.StartMinute != 8*60+15 || st.WorkingHours.EndMinute != 15*60+45 ||
		!slices.Equal(st.WorkingHours.Days, []time.Weekday{time.Monday, time.Thursday}) || !st.DigestOff {
		t.Errorf("stored %+v digestOff=%v", st.WorkingHours, st.DigestOff)
	}
	if resp, _ := h.do("GET", "/v1/me/staff-settings", nil, w.tokens[actParentA]); resp.StatusCode != http.StatusForbidden {
		t.Errorf("parent reads staff settings: %d", resp.StatusCode)
	}
}

package worker

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// recordingEmail is a notify.EmailSender that keeps what it was given.
type recordingEmail struct {
	mu   sync.Mutex
	sent []notify.Email
}

func (r *recordingEmail) SendEmails(_ context.Context, emails []notify.Email) ([]notify.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, emails...)
	out := make([]notify.Result, len(emails))
	for i := range out {
		out[i].ProviderID = "sg_" + emails[i].Ref
	}
	return out, nil
}

// TestConversationDigest: the tick queues the day's digest only from the
// digest hour; the digest emails each staff member in a thread whose
// parent message has waited over a day — counts and the child's first
// name, in the body only — skips staff who opted out and threads answered
// or younger, and a second run the same day sends nothing more.
func TestConversationDigest(t *testing.T) {
	t.Parallel()
	s := mongotest.NewStore(t)
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 11, 4, 5, 0, 0, 0, time.UTC))
	now := clock.Now()
	must(t, s.CreateSchool(ctx, &content.School{ID: "sch_d", Name: "Digest Primary", TimeZone: "Europe/London"}))
	must(t, s.CreateClass(ctx, &content.Class{ID: "cls_d", SchoolID: "sch_d", Name: "Wrens", TeacherIDs: []string{"stf_on", "stf_off"}}))
	must(t, s.CreateChild(ctx, &content.Child{ID: "chd_d", SchoolID: "sch_d", FirstName: "Nansi", ClassIDs: []string{"cls_d"}}))
	for _, st := range []*content.Staff{
		{ID: "stf_on", Email: "on@digest.test", FirstName: "Owain", Schools: []content.SchoolRoles{{SchoolID: "sch_d", Roles: []content.Role{content.RoleTeacher}}}},
		{ID: "stf_off", Email: "off@digest.test", DigestOff: true, Schools: []content.SchoolRoles{{SchoolID: "sch_d", Roles: []content.Role{content.RoleTeacher}}}},
	} {
		must(t, s.CreateStaff(ctx, st))
	}
	thread := func(id string, parentAt time.Time, awaiting bool) {
		must(t, s.CreateConversation(ctx, &content.Conversation{ID: id, SchoolID: "sch_d", ClassID: "cls_d", ChildID: "chd_d",
			ParentID: "par_d", StaffIDs: []string{"stf_on", "stf_off"}, State: content.ConversationOpen, CreatedAt: parentAt,
			LastAt: parentAt, LastParentAt: parentAt, AwaitingReply: awaiting}))
	}
	thread("cnv_old", now.Add(-30*time.Hour), true)       // listed
	thread("cnv_young", now.Add(-2*time.Hour), true)      // too recent
	thread("cnv_answered", now.Add(-50*time.Hour), false) // replied to
	queue := &taskstest.Recorder{}
	mail := &recordingEmail{}
	logs := &bytes.Buffer{}
	h := &ConversationDigests{Conversations: s, Roster: s, Email: mail, Marks: s, Tasks: queue, Clock: clock,
		Log: slog.New(slog.NewJSONHandler(logs, nil)), AppURL: "https://hometime.test"}

	must(t, h.Tick(ctx, tasks.NewConversationDigestTick(time.Hour)))
	if n := queue.Len(); n != 0 {
		t.Fatalf("before the digest hour %d tasks queued", n)
	}
	clock.Set(now.Add(2 * time.Hour))
	must(t, h.Tick(ctx, tasks.NewConversationDigestTick(time.Hour)))
	queued := queue.OfType(tasks.TypeConversationDigest)
	if len(queued) != 1 || string(queued[0].Payload()) != `{"day":"2026-11-04"}` {
		t.Fatalf("queued %v", queue.Tasks())
	}
	for i := 0; i < 2; i++ { // a rerun the same day sends nothing more
		must(t, h.ProcessTask(ctx, asynq.NewTask(queued[0].Type(), queued[0].Payload())))
	}
	if len(mail.sent) != 1 {
		t.Fatalf("%d digest emails, want 1 (the opted-out teacher gets none; a rerun sends none)", len(mail.sent))
	}
	var e notify.Email
	for _, m := range mail.sent {
		if m.To == "on@digest.test" {
			e = m
		}
	}
	if e.To != "on@digest.test" || e.Subject != "1 family message is waiting for a reply" ||
		!strings.Contains(e.Text, "Wrens class: Nansi's family") || !strings.Contains(e.HTML, "Nansi") || !strings.Contains(e.Text, "Hello Owain") {
		t.Fatalf("digest email %+v", e)
	}
	if strings.Contains(e.Ref+e.Category, "Nansi") || strings.Contains(logs.String(), "Nansi") || strings.Contains(logs.String(), "on@digest.test") {
		t.Fatal("the child's name or the address left the email body")
	}
}

// TestConversationMessagesAreNotHeldForTheHouseholdDigest: a teacher's
// message in a conversation is pushed at once even to a parent who chose
// the daily digest; a class broadcast in the same category waits for it.
func TestConversationMessagesAreNotHeldForTheHouseholdDigest(t *testing.T) {
	t.Parallel()
	p := content.ParentContact{ID: "par_1", Digest: true, Devices: 1}
	for _, tc := range []struct {
		template string
		held     bool
	}{{string(notify.TemplateConversationMessage), false}, {string(notify.TemplateTeacherReply), true}} {
		b := &content.Broadcast{Template: tc.template, Category: content.CategoryReplies}
		if got := heldForDigest(p, b); got != tc.held {
			t.Errorf("%s held for the digest: %v, want %v", tc.template, got, tc.held)
		}
	}
}

package worker

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/notify/twilio"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

// TestInvitesCarryEachParentsOwnCode: an invite goes by SMS and email to a
// parent with both, by the one channel a parent has otherwise, and not at
// all to a parent who has joined. Both messages to a parent carry the same
// code, which redeems; a reminder issues a new code and kills the old one.
func TestInvitesCarryEachParentsOwnCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mongotest.NewStore(t)
	rdb, _ := redistest.New(t)
	key := []byte("test-key")
	clock := clocktest.New(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := store.CreateSchool(ctx, &content.School{ID: "sch_1", Name: "Riverside Primary", Country: "GB",
		TimeZone: "Europe/London", Language: "en", QuietStart: "20:00", QuietEnd: "07:30", SMSBudgetPence: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	type family struct {
		id, phone, email string
		state            content.ParentState
		wantSMS, wantEm  bool
	}
	families := []family{
		{"par_both", "+447911123001", "both@families.example", content.ParentInvited, true, true},
		{"par_mobile", "+447911123002", "", content.ParentInvited, true, false},
		{"par_email", "", "email@families.example", content.ParentInvited, false, true},
		{"par_landline", "+442071234567", "landline@families.example", content.ParentInvited, false, true},
		{"par_joined", "+447911123005", "joined@families.example", content.ParentActive, false, false},
	}
	var ids []string
	for _, f := range families {
		p := &content.Parent{ID: f.id, FirstName: "P", LastName: "Q", Phone: f.phone, Email: f.email, Language: "cy",
			State: f.state, Sessions: []string{},
			Children: []content.ChildLink{{ChildID: "chd_" + f.id, SchoolID: "sch_1", FirstName: "Efa", State: content.LinkLinked}}}
		if err := store.CreateParent(ctx, p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.id)
	}
	twilioFake, sgFake := providerfake.NewTwilio(t), providerfake.NewSendGrid(t)
	sms, err := twilio.New(twilio.Config{AccountSID: twilioFake.AccountSID, AuthToken: twilioFake.AuthToken,
		From: "+447700900001", StatusCallback: "https://api.hometime.test/webhooks/twilio/status", BaseURL: twilioFake.URL,
		Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	email, err := sendgrid.New(sendgrid.Config{APIKey: sgFake.APIKey, Host: sgFake.URL, From: "noreply@school.hometime.test",
		FromName: "Hometime", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	queue := &taskstest.Recorder{}
	pages := &Pages{Ledger: store, Log: log, Senders: []PageSender{
		&SMSPages{Ledger: store, Roster: store, Suppressions: store, Budgets: store, SMS: sms, Catalog: notify.MustCatalog(),
			Limiter: ratelimit.New(rdb), Tasks: queue, HashKey: key, Clock: clock, Log: log,
			SenderKey: ratelimit.SenderKey("twilio", "test"), Rate: ratelimit.Rate{PerSecond: 1000, Burst: 1}, Price: 4,
			RetryAfter: time.Minute, ClaimSize: 25},
		&EmailPages{Ledger: store, Roster: store, Suppressions: store, Email: email, Catalog: notify.MustCatalog(),
			Tasks: queue, HashKey: key, Clock: clock, Log: log, RetryAfter: time.Minute},
	}}
	invite := func(id string, tmpl notify.Template) {
		t.Helper()
		b := &content.Broadcast{ID: id, SchoolID: "sch_1", Template: string(tmpl), Category: "invites",
			Params: map[string]string{"link": "https://join.hometime.test"}, Audience: content.Audience{ParentIDs: ids},
			State: content.BroadcastExpanding, CreatedAt: clock.Now()}
		if err := store.CreateBroadcast(ctx, b); err != nil {
			t.Fatal(err)
		}
		expand(t, store, queue, id)
		for _, task := range queue.Tasks() {
			if task.Type() == tasks.TypeSendPages {
				if err := pages.ProcessTask(ctx, task); err != nil {
					t.Fatalf("send pages: %v", err)
				}
			}
		}
		queue.Reset()
	}
	invite("brd_inv", notify.TemplateInvite)

	smsTo := map[string]string{} // phone → body
	for _, m := range twilioFake.Accepted() {
		smsTo[m.To] = m.Body
	}
	emailTo := map[string]string{} // address → text content of its request
	for _, r := range sgFake.Accepted() {
		for _, p := range r.Personalizations {
			for _, c := range r.Contents {
				if c.Type == "text/plain" {
					emailTo[p.To[0]] = c.Value
				}
			}
		}
	}
	if len(smsTo) != 2 || len(emailTo) != 3 {
		t.Fatalf("%d SMS and %d emails, want 2 and 3", len(smsTo), len(emailTo))
	}
	for _, f := range families {
		code := content.DeriveInviteCode(key, "brd_inv", f.id, 0)
		if _, ok := content.NormalizeInviteCode(code); !ok {
			t.Fatalf("derived code %q is not a valid invite code", code)
		}
		body, gotSMS := smsTo[f.phone]
		text, gotEmail := emailTo[f.email]
		if gotSMS != f.wantSMS || gotEmail != f.wantEm {
			t.Errorf("%s: SMS %v email %v, want %v %v", f.id, gotSMS, gotEmail, f.wantSMS, f.wantEm)
		}
		if gotSMS && !strings.Contains(body, code) {
			t.Errorf("%s: SMS does not carry the parent's code", f.id)
		}
		if gotEmail && !strings.Contains(text, "https://join.hometime.test/join/"+code) {
			t.Errorf("%s: email does not carry the parent's join link", f.id)
		}
	}
	// Another family's code is not in this family's message.
	if strings.Contains(smsTo["+447911123001"], content.DeriveInviteCode(key, "brd_inv", "par_mobile", 0)) {
		t.Error("one family's SMS carries another family's code")
	}
	// The code sent redeems; the joined parent's invitation was left alone.
	first := content.DeriveInviteCode(key, "brd_inv", "par_both", 0)
	if c, err := store.UseInviteCode(ctx, content.KeyedHash(key, "invite:"+first)); err != nil || c.ParentID != "par_both" {
		t.Fatalf("redeem the sent code: %+v %v", c, err)
	}
	if err := store.ReleaseInviteCode(ctx, content.KeyedHash(key, "invite:"+first)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Invitation(ctx, content.InvitationID("sch_1", "par_joined")); !content.IsCode(err, content.CodeNotFound) {
		t.Errorf("joined parent's invitation: %v, want none issued", err)
	}

	// A reminder issues a new code; the first one stops working.
	invite("brd_rem", notify.TemplateInviteReminder)
	second := content.DeriveInviteCode(key, "brd_rem", "par_both", 0)
	inv, err := store.Invitation(ctx, content.InvitationID("sch_1", "par_both"))
	if err != nil || inv.CodeHash != content.KeyedHash(key, "invite:"+second) {
		t.Fatalf("invitation after the reminder: %+v %v", inv, err)
	}
	if _, err := store.UseInviteCode(ctx, content.KeyedHash(key, "invite:"+first)); !content.IsCode(err, content.CodeNotFound) {
		t.Errorf("the first code after a reminder: %v, want it gone", err)
	}
	if n := len(twilioFake.Accepted()); n != 4 {
		t.Errorf("%d SMS after the reminder, want 4 (2 invites, 2 reminders)", n)
	}
}

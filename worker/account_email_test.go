package worker

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// TestAccountEmailIsSentOnce: running the task twice (a redelivery after a
// crash) sends one email, and the token is stored only as a hash.
func TestAccountEmailIsSentOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mongotest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ob, err := outbox.New(filepath.Join(t.TempDir(), "outbox"), log)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	h := &AccountEmails{Deps{Identity: store, Roster: store, Email: ob, Catalog: notify.MustCatalog(),
		HashKey: []byte("k"), Clock: clocktest.New(now), Log: log, Settings: Settings{AppURL: "https://hometime.app"}}}
	st := &content.Staff{ID: "stf_1", Email: "nia@school.test", FirstName: "Nia", LastName: "N", CreatedAt: now}
	if err := store.CreateStaff(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := store.PutResetRequest(ctx, &content.ResetRequest{ID: "rst_1", Kind: content.KindStaff, AccountID: st.ID,
		Purpose: "welcome", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewAccountEmail("rst_1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := h.ProcessTask(ctx, task); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	var sent []outbox.Record
	for _, r := range ob.Recent() {
		if r.To == st.Email {
			sent = append(sent, r)
		}
	}
	if len(sent) != 1 || !strings.Contains(sent[0].Body, "https://hometime.app/reset-password?token=") {
		t.Fatalf("sent %d emails: %+v", len(sent), sent)
	}
	token := sent[0].Body[strings.Index(sent[0].Body, "token=")+6:]
	token = strings.FieldsFunc(token, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') })[0]
	rt, err := store.UseResetToken(ctx, content.KeyedHash([]byte("k"), "reset:"+token))
	if err != nil || rt.AccountID != st.ID || rt.ExpiresAt.Sub(now) != welcomeTokenTTL {
		t.Fatalf("stored token %+v, %v", rt, err)
	}
	// A request for an erased account, or a malformed payload, owes nothing.
	if err := h.ProcessTask(ctx, asynq.NewTask(tasks.TypeSendAccountEmail, []byte(`{"request_id":"rst_gone"}`))); err != nil {
		t.Fatalf("missing request: %v", err)
	}
	if err := h.ProcessTask(ctx, asynq.NewTask(tasks.TypeSendAccountEmail, []byte(`{}`))); err == nil {
		t.Fatal("a malformed payload was accepted")
	}
}

type recordedSMS struct{ sent []notify.SMS }

func (r *recordedSMS) SendSMS(_ context.Context, m notify.SMS) notify.Result {
	r.sent = append(r.sent, m)
	return notify.Result{Ref: m.Ref, ProviderID: "SM1", Segments: 1}
}

// TestResetCodeIsTextedOnce: a parent's reset by phone texts one 8-digit
// code in the parent's language, stored only as its keyed hash; a
// redelivered task texts nothing more, and a request older than a code's
// lifetime is dropped.
func TestResetCodeIsTextedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mongotest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	sms := &recordedSMS{}
	rdb, _ := redistest.New(t)
	h := &AccountEmails{Deps{Identity: store, Roster: store, SMS: sms, Catalog: notify.MustCatalog(), Limiter: ratelimit.New(rdb),
		HashKey: []byte("k"), Clock: clocktest.New(now), Log: log,
		Settings: Settings{SMSSenderKey: ratelimit.SenderKey("twilio", "test"), SMSRate: ratelimit.Rate{PerSecond: 100, Burst: 1}}}}
	p := &content.Parent{ID: "par_1", Phone: "+447911123456", Language: "cy", State: content.ParentActive, CreatedAt: now}
	if err := store.CreateParent(ctx, p); err != nil {
		t.Fatal(err)
	}
	for id, created := range map[string]time.Time{"rst_new": now.Add(-time.Minute), "rst_old": now.Add(-content.ResetCodeTTL - time.Minute)} {
		if err := store.PutResetRequest(ctx, &content.ResetRequest{ID: id, Kind: content.KindParent, AccountID: p.ID,
			Purpose: content.PurposeResetSMS, CreatedAt: created}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"rst_new", "rst_new", "rst_old"} {
		task, err := tasks.NewAccountEmail(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.ProcessTask(ctx, task); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if len(sms.sent) != 1 || sms.sent[0].To != p.Phone || sms.sent[0].Ref != "rst_new" {
		t.Fatalf("texts %+v, want one to the parent", sms.sent)
	}
	body := sms.sent[0].Body
	code := ""
	for _, f := range strings.FieldsFunc(body, func(r rune) bool { return r < '0' || r > '9' }) {
		if len(f) == content.ResetCodeDigits {
			code = f
		}
	}
	if code == "" || !strings.Contains(body, "cyfrinair") {
		t.Fatalf("text %q: want a Welsh text with an %d-digit code", body, content.ResetCodeDigits)
	}
	if seg := notify.CountSegments(body); seg.Encoding != notify.EncodingGSM7 || seg.Segments != 1 {
		t.Fatalf("text %q is %+v", body, seg)
	}
	rc, err := store.CountResetCodeAttempt(ctx, content.KindParent, p.ID)
	if err != nil || rc.Hash != content.ResetCodeHash([]byte("k"), content.KindParent, p.ID, code) ||
		rc.ExpiresAt.Sub(now) != content.ResetCodeTTL {
		t.Fatalf("stored code %+v %v", rc, err)
	}
}

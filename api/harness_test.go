package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/notify/twilio"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
	"github.com/hometime-edu/hometime/worker/tasks/taskstest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

var (
	pwOnce   sync.Once
	pwShared *Passwords
)

// sharedPasswords builds the (slow-to-warm) hasher once per binary.
func sharedPasswords(t testing.TB) *Passwords {
	pwOnce.Do(func() {
		var err error
		pwShared, err = NewPasswords(DefaultArgon2, 4)
		if err != nil {
			t.Fatal(err)
		}
	})
	return pwShared
}

type harness struct {
	t      testing.TB
	app    *fiber.App
	store  *mongostore.Store
	queue  *taskstest.Recorder
	clock  *clocktest.Clock
	deps   Deps
	logBuf *bytes.Buffer
	// sendGrid signs Event Webhook batches with the key the app verifies.
	sendGrid *providerfake.SendGrid
	// assignments are what submissions are made for (handlers_submissions_test.go).
	assignments *testAssignments
	// announcements are what inbox items and staff counts read
	// (handlers_inbox_test.go).
	announcements *testAnnouncements
}

// newHarness builds the API on a fresh database, a Redis, and a random
// hash key (so throttle keys never collide across parallel tests).
func newHarness(t testing.TB) *harness {
	t.Helper()
	store := mongotest.NewStore(t)
	rdb, _ := redistest.New(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	clock := clocktest.New(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	tokens, err := NewTokens(key, clock)
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &bytes.Buffer{}
	sg := providerfake.NewSendGrid(t)
	sg.SetClock(clock.Now) // it signs batches at our time: the webhook refuses stale ones
	sgEvents, err := sendgrid.NewEventWebhook(sg.EventWebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: store, queue: &taskstest.Recorder{}, clock: clock, logBuf: logBuf, sendGrid: sg,
		assignments: newTestAssignments()}
	h.deps = Deps{
		Settings: Settings{Limits: DefaultLimits, PublicURL: testPublicURL, SMSPrice: 4},

		Roster: store, Identity: store, Audit: store, Tasks: h.queue,
		Throttle: NewThrottle(rdb), Passwords: sharedPasswords(t), Tokens: tokens,
		HashKey: key, Clock: clock, Log: slog.New(slog.NewJSONHandler(&lockedWriter{w: logBuf}, nil)),
		Metrics: NewMetrics(nil), Ready: func(context.Context) error { return nil },
		Suppressions: store, Twilio: twilio.NewWebhooks(testTwilioToken),
		SendGridEvents: sgEvents, Ledger: store, WebhookEvents: store,
		Idempotency: store, Budgets: store,
		Imports: store, Phones: mistest.UKPhones{}, Catalog: notify.MustCatalog(),
		Submissions: store, AssignmentTargets: h.assignments, Feed: store, Engagement: store, MediaKey: key,
	}
	// Issue 5 part 1: the built-in library and the real store.
	h.deps.Library, h.deps.Activities, h.deps.Assignments, h.deps.ParentFeed, h.deps.Devices = starterLibrary(t), store, store, store, store
	h.deps.Retention, h.deps.Erasures, h.deps.Exports = store, store, store
	h.deps.AnnouncementStore = store
	h.deps.StaffSettings, h.deps.Moderation = store, store
	h.announcements = newTestAnnouncements()
	h.deps.Inbox, h.deps.Attachments, h.deps.Announcements = store, store, h.announcements
	h.app = mustNew(t, h.deps)
	return h
}

// mustNew builds the app through New, as the wiring does, failing the test
// if d lacks a dependency.
func mustNew(t testing.TB, d Deps) *fiber.App {
	t.Helper()
	app, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends one request through the app and checks it and its answer
// against the OpenAPI document.
func (h *harness) do(method, path string, body any, token string, opts ...reqOpt) (*http.Response, []byte) {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := h.app.Test(req, 30_000)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The app consumed req's body; validate a copy with the same headers.
	vreq := httptest.NewRequest(method, path, bytes.NewReader(raw))
	vreq.Header = req.Header.Clone()
	checkContract(h.t, vreq, raw, resp, out)
	return resp, out
}

// decode unmarshals a response body or fails the test.
func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// wantStatus fails unless the response has the status.
func wantStatus(t testing.TB, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
}

// login signs in and returns the token pair.
func (h *harness) login(email, password string) tokenResponse {
	h.t.Helper()
	resp, body := h.do("POST", "/v1/auth/login", map[string]string{"email": email, "password": password}, "")
	wantStatus(h.t, resp, body, 200)
	return decode[tokenResponse](h.t, body)
}

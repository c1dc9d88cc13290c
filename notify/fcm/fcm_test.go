package fcm_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/providerfake"
)

func newSender(t *testing.T, fake *providerfake.FCM, edit func(*fcm.Config)) *fcm.Sender {
	t.Helper()
	cfg := fcm.Config{
		ProjectID:   fake.ProjectID,
		Endpoint:    fake.Endpoint(),
		WithoutAuth: true,
		Timeout:     2 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := fcm.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("fcm.New: %v", err)
	}
	return s
}

func pushes(n int, prefix string) []notify.Push {
	out := make([]notify.Push, n)
	for i := range out {
		out[i] = notify.Push{
			Ref:   fmt.Sprintf("%s-%04d", prefix, i),
			Token: fmt.Sprintf("tok-%s-%04d", prefix, i),
			Title: "New activity",
			Body:  "Year 2 has a new activity.",
			Data:  map[string]string{"activityId": "act-1"},
		}
	}
	return out
}

func TestSendPushesAccepted(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewFCM(t)
	s := newSender(t, fake, nil)
	in := pushes(3, "p")

	results, err := s.SendPushes(context.Background(), in)

	if err != nil {
		t.Fatalf("SendPushes: %v", err)
	}
	byToken := map[string]providerfake.FCMMessage{}
	for _, m := range fake.Accepted() {
		byToken[m.Token] = m
	}
	for i, r := range results {
		m := byToken[in[i].Token]
		if r.Err != nil || r.Ref != in[i].Ref || r.ProviderID == "" || r.ProviderID != m.Name {
			t.Fatalf("result %d = %+v, fake name %q", i, r, m.Name)
		}
		if m.Title != "New activity" || m.Body != "Year 2 has a new activity." || !maps.Equal(m.Data, in[i].Data) || m.ValidateOnly {
			t.Fatalf("fake received %+v", m)
		}
	}
}

func TestSendPushesClassifiesPerMessage(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewFCM(t)
	in := pushes(7, "p")
	fake.Unregister(in[1].Token)
	fake.RejectToken(in[2].Token, "INVALID_ARGUMENT")
	fake.RejectToken(in[3].Token, "SENDER_ID_MISMATCH")
	fake.RejectToken(in[4].Token, "INTERNAL")
	fake.RejectToken(in[5].Token, "THIRD_PARTY_AUTH_ERROR")
	fake.RejectToken(in[6].Token, "QUOTA_EXCEEDED")
	s := newSender(t, fake, nil)

	results, err := s.SendPushes(context.Background(), in)

	if err != nil {
		t.Fatalf("call error %v although one push was accepted", err)
	}
	want := []struct {
		kind notify.ErrorKind
		code string
	}{
		{"", ""},
		{notify.KindRecipientInvalid, "UNREGISTERED"},
		{notify.KindRecipientInvalid, "INVALID_ARGUMENT"},
		{notify.KindRecipientInvalid, "SENDER_ID_MISMATCH"},
		{notify.KindTransient, "INTERNAL"},
		{notify.KindPermanent, "THIRD_PARTY_AUTH_ERROR"},
		{notify.KindRateLimited, "QUOTA_EXCEEDED"},
	}
	for i, r := range results {
		if want[i].kind == "" {
			if r.Err != nil || r.ProviderID == "" {
				t.Fatalf("push %d: %+v, want accepted", i, r)
			}
			continue
		}
		se := providerfake.SendError(t, r.Err)
		if se.Kind != want[i].kind || se.Code != want[i].code || r.ProviderID != "" {
			t.Fatalf("push %d: %s/%s, want %s/%s (%v)", i, se.Kind, se.Code, want[i].kind, want[i].code, se)
		}
		if msg := r.Err.Error(); !strings.Contains(msg, in[i].Ref) || strings.Contains(msg, in[i].Token) {
			t.Fatalf("push %d: error must name the ref, never the token: %q", i, msg)
		}
	}
	if fake.Requests() != 7 {
		t.Fatalf("fake saw %d requests, want 7 (none retried)", fake.Requests())
	}
}

func TestSendPushesClassifiesWholeRequestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		fault          providerfake.Fault
		wantKind       notify.ErrorKind
		wantCode       string
		wantRetryAfter time.Duration
	}{
		{"429 quota with Retry-After", providerfake.TooManyRequests(7 * time.Second), notify.KindRateLimited, "QUOTA_EXCEEDED", 7 * time.Second},
		{"500 internal", providerfake.Status(500), notify.KindTransient, "INTERNAL", 0},
		// The SDK retries 503 unless told to wait longer than two minutes.
		{"503 unavailable for long", providerfake.Fault{Status: 503, RetryAfter: 5 * time.Minute}, notify.KindTransient, "UNAVAILABLE", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := providerfake.NewFCM(t)
			fake.FailNext(1, tt.fault)
			s := newSender(t, fake, nil)

			results, _ := s.SendPushes(context.Background(), pushes(1, "p"))

			se := providerfake.SendError(t, results[0].Err)
			if se.Kind != tt.wantKind || se.Code != tt.wantCode || se.RetryAfter != tt.wantRetryAfter {
				t.Fatalf("got %s/%s/%s, want %s/%s/%s (%v)", se.Kind, se.Code, se.RetryAfter,
					tt.wantKind, tt.wantCode, tt.wantRetryAfter, se)
			}
			if fake.Requests() != 1 || len(fake.Accepted()) != 0 {
				t.Fatalf("requests %d accepted %d, want 1 and 0", fake.Requests(), len(fake.Accepted()))
			}
		})
	}
}

// 503 means FCM did not take the message; the SDK's retry is then safe.
func TestSendPushesSDKRetriesUnavailableOnce(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewFCM(t)
	fake.FailNext(1, providerfake.Status(503))
	s := newSender(t, fake, nil)
	in := pushes(1, "p")

	results, err := s.SendPushes(context.Background(), in)

	if err != nil || results[0].Err != nil {
		t.Fatalf("SendPushes: %v %v", err, results[0].Err)
	}
	if fake.Requests() != 2 || fake.SentTo(in[0].Token) != 1 {
		t.Fatalf("requests %d, delivered %d; want 2 and 1", fake.Requests(), fake.SentTo(in[0].Token))
	}
}

func TestSendPushesRefusesBadPushesBeforeSending(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewFCM(t)
	s := newSender(t, fake, nil)
	in := pushes(4, "p")
	in[0].Token = ""
	in[1].Data = map[string]string{"blob": strings.Repeat("x", 4096)}
	in[2].Title, in[2].Body, in[2].Data = "", "", nil
	in[2].Data = map[string]string{"k": strings.Repeat("y", 4096-fcm.PayloadSize(notify.Push{Data: map[string]string{"k": ""}}))}
	if fcm.PayloadSize(in[2]) != fcm.MaxPayload {
		t.Fatalf("test setup: payload %d, want exactly %d", fcm.PayloadSize(in[2]), fcm.MaxPayload)
	}

	results, err := s.SendPushes(context.Background(), in)

	if err != nil {
		t.Fatalf("call error %v although two pushes were sent", err)
	}
	if se := providerfake.SendError(t, results[0].Err); se.Kind != notify.KindRecipientInvalid || se.Code != "no_token" {
		t.Fatalf("empty token: %s/%s", se.Kind, se.Code)
	}
	if se := providerfake.SendError(t, results[1].Err); se.Kind != notify.KindPermanent || se.Code != "payload_too_large" {
		t.Fatalf("oversize: %s/%s", se.Kind, se.Code)
	}
	if results[2].Err != nil || results[3].Err != nil {
		t.Fatalf("exactly 4096 bytes and a normal push must go: %v, %v", results[2].Err, results[3].Err)
	}
	if fake.Requests() != 2 || fake.SentTo(in[1].Token) != 0 {
		t.Fatalf("fake saw %d requests, want 2 (the refused pushes never left)", fake.Requests())
	}
}

// FCM answers INVALID_ARGUMENT both for bad tokens and bad payloads; only
// the former invalidates the token.
func TestInvalidArgumentTokenOrPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantKind notify.ErrorKind
	}{
		{"bad payload", `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"Invalid value at 'message.data[0].value'",
			"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value"}]}]}}`,
			notify.KindPermanent},
		{"bad token by field violation", `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"Request contains an invalid argument.",
			"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},
			{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token"}]}]}}`,
			notify.KindRecipientInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			s := newSender(t, providerfake.NewFCM(t), func(c *fcm.Config) { c.Endpoint = srv.URL + "/v1" })
			results, _ := s.SendPushes(context.Background(), pushes(1, "p"))
			if se := providerfake.SendError(t, results[0].Err); se.Kind != tt.wantKind || se.Code != "INVALID_ARGUMENT" {
				t.Fatalf("got %s/%s, want %s/INVALID_ARGUMENT", se.Kind, se.Code, tt.wantKind)
			}
		})
	}
}

func TestSendPushesRateCapRefusalsAreRateLimited(t *testing.T) {
	t.Parallel()
	frozen := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	fake := providerfake.NewFCM(t)
	fake.SetClock(func() time.Time { return frozen })
	fake.LimitRate(5)
	s := newSender(t, fake, nil)

	results, _ := s.SendPushes(context.Background(), pushes(20, "p"))

	accepted, limited := 0, 0
	for _, r := range results {
		switch {
		case r.Err == nil:
			accepted++
		case notify.KindOf(r.Err) == notify.KindRateLimited:
			limited++
			if se := providerfake.SendError(t, r.Err); se.RetryAfter != time.Second {
				t.Fatalf("RetryAfter = %s, want 1s", se.RetryAfter)
			}
		default:
			t.Fatalf("unexpected failure: %v", r.Err)
		}
	}
	if accepted != 5 || limited != 15 || fake.RateLimited() != 15 {
		t.Fatalf("accepted %d limited %d, fake refused %d; want 5/15/15", accepted, limited, fake.RateLimited())
	}
}

func TestSenderIsSafeForConcurrentCalls(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewFCM(t)
	s := newSender(t, fake, nil)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range 8 {
		wg.Go(func() {
			results, _ := s.SendPushes(context.Background(), pushes(25, fmt.Sprint("g", g)))
			for _, r := range results {
				if r.Err != nil {
					errs[g] = r.Err
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil || len(fake.Accepted()) != 200 {
		t.Fatalf("accepted %d of 200: %v", len(fake.Accepted()), err)
	}
}

// The authenticated path: a service-account file whose token_uri is the
// fake's; the fake only accepts the token it issued.
func TestSendPushesWithServiceAccountCredentials(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewFCM(t)
	fake.RequireBearer("issued-by-fake")
	path := fake.ServiceAccountFile(t)
	s := newSender(t, fake, func(c *fcm.Config) {
		c.ProjectID = "" // read from the file
		c.WithoutAuth = false
		c.CredentialsFile = path
	})

	results, err := s.SendPushes(context.Background(), pushes(2, "p"))

	if err != nil || results[0].Err != nil || len(fake.Accepted()) != 2 {
		t.Fatalf("authenticated send: %v %v, accepted %d", err, results[0].Err, len(fake.Accepted()))
	}

	noAuth := newSender(t, fake, nil)
	results, _ = noAuth.SendPushes(context.Background(), pushes(1, "q"))
	if k := notify.KindOf(results[0].Err); k != notify.KindPermanent {
		t.Fatalf("unauthenticated send: kind %q, want permanent", k)
	}
}

func TestNewNeedsAProject(t *testing.T) {
	t.Parallel()
	if _, err := fcm.New(context.Background(), fcm.Config{WithoutAuth: true}); err == nil {
		t.Fatal("New accepted a config without project")
	}
}

// TestEndpointWithOrWithoutVersion: HOMETIME_FCM_ENDPOINT may name the
// API's base with or without its "/v1" and a trailing slash; each reaches
// the same place.
func TestEndpointWithOrWithoutVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://fcm.example.test":       "https://fcm.example.test/v1",
		"https://fcm.example.test/":      "https://fcm.example.test/v1",
		"https://fcm.example.test/v1":    "https://fcm.example.test/v1",
		"https://fcm.example.test/v1/":   "https://fcm.example.test/v1",
		" http://127.0.0.1:9000/push/ ":  "http://127.0.0.1:9000/push/v1",
		"http://127.0.0.1:9000/push/v1/": "http://127.0.0.1:9000/push/v1",
	} {
		if got := fcm.EndpointBase(in); got != want {
			t.Errorf("EndpointBase(%q) = %q, want %q", in, got, want)
		}
	}
	fake := providerfake.NewFCM(t)
	for _, endpoint := range []string{fake.URL, fake.URL + "/", fake.URL + "/v1", fake.URL + "/v1/"} {
		s := newSender(t, fake, func(c *fcm.Config) { c.Endpoint = endpoint })
		results, err := s.SendPushes(context.Background(), pushes(1, "e"))
		if err != nil || len(results) != 1 || results[0].Err != nil {
			t.Fatalf("endpoint %q: SendPushes = %+v, %v", endpoint, results, err)
		}
	}
	if got := len(fake.Accepted()); got != 4 {
		t.Fatalf("the fake accepted %d pushes, want 4 (one per endpoint form)", got)
	}
}

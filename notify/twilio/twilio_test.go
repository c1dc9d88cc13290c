package twilio_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/twilio"
)

const (
	defaultFrom = "+447700900001"
	callbackURL = "https://api.hometime.test/webhooks/twilio/status"
	parentPhone = "+447700900123"
)

func newSender(t *testing.T, fake *providerfake.Twilio, edit func(*twilio.Config)) *twilio.Sender {
	t.Helper()
	cfg := twilio.Config{
		AccountSID:     fake.AccountSID,
		AuthToken:      fake.AuthToken,
		From:           defaultFrom,
		StatusCallback: callbackURL,
		BaseURL:        fake.URL,
		Timeout:        2 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := twilio.New(cfg)
	if err != nil {
		t.Fatalf("twilio.New: %v", err)
	}
	return s
}

func TestSendSMSAcceptedReturnsSIDAndSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		segments int
	}{
		{"short GSM-7", "Reminder: reading challenge due Friday.", 1},
		{"161 GSM-7 characters", strings.Repeat("a", 161), 2},
		{"one non-GSM character makes UCS-2", "Dziękujemy! " + strings.Repeat("b", 60), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := providerfake.NewTwilio(t)
			s := newSender(t, fake, func(c *twilio.Config) { c.ValidityPeriod = 2 * time.Hour })

			res := s.SendSMS(context.Background(), notify.SMS{Ref: "msg-1", To: parentPhone, Body: tt.body})

			if res.Err != nil {
				t.Fatalf("SendSMS: %v", res.Err)
			}
			if res.Ref != "msg-1" || !strings.HasPrefix(res.ProviderID, "SM") || res.Segments != tt.segments {
				t.Fatalf("result = %+v, want ref msg-1, SID SM…, %d segments", res, tt.segments)
			}
			got := fake.Accepted()
			if len(got) != 1 {
				t.Fatalf("fake accepted %d messages, want 1", len(got))
			}
			m := got[0]
			if m.SID != res.ProviderID || m.To != parentPhone || m.From != defaultFrom || m.Body != tt.body ||
				m.StatusCallback != callbackURL+"?ref=msg-1" || m.ValidityPeriod != "7200" || m.MessagingServiceSID != "" {
				t.Fatalf("fake received %+v", m)
			}
		})
	}
}

func TestSendSMSPicksSender(t *testing.T) {
	t.Parallel()
	const (
		serviceA = "MG0123456789abcdef0123456789abcdef"
		serviceB = "MGfedcba9876543210fedcba9876543210"
	)
	tests := []struct {
		name        string
		service     string // Config.MessagingServiceSID
		from        string // SMS.From
		wantFrom    string
		wantService string
	}{
		{"default number", "", "", defaultFrom, ""},
		{"configured messaging service wins over default number", serviceA, "", "", serviceA},
		{"message's own number wins", serviceA, "+447700900009", "+447700900009", ""},
		{"message's own messaging service wins", "", serviceB, "", serviceB},
		{"alphanumeric sender starting MG is a sender", "", "MGSchool", "MGSchool", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := providerfake.NewTwilio(t)
			s := newSender(t, fake, func(c *twilio.Config) { c.MessagingServiceSID = tt.service })
			res := s.SendSMS(context.Background(), notify.SMS{Ref: "r", To: parentPhone, From: tt.from, Body: "hi"})
			if res.Err != nil {
				t.Fatalf("SendSMS: %v", res.Err)
			}
			m := fake.Accepted()[0]
			if m.From != tt.wantFrom || m.MessagingServiceSID != tt.wantService {
				t.Fatalf("From=%q MessagingServiceSid=%q, want %q %q", m.From, m.MessagingServiceSID, tt.wantFrom, tt.wantService)
			}
		})
	}
}

func TestSendSMSClassifiesFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		setup          func(*providerfake.Twilio)
		authToken      string
		wantKind       notify.ErrorKind
		wantCode       string
		wantRetryAfter time.Duration
		wantSent       int // messages the provider accepted despite the error
	}{
		{"21610 STOP is suppressed", func(f *providerfake.Twilio) { f.RejectTo(parentPhone, 21610) }, "",
			notify.KindSuppressed, "21610", 0, 0},
		{"21211 invalid To", func(f *providerfake.Twilio) { f.RejectTo(parentPhone, 21211) }, "",
			notify.KindRecipientInvalid, "21211", 0, 0},
		{"21614 not a mobile", func(f *providerfake.Twilio) { f.RejectTo(parentPhone, 21614) }, "",
			notify.KindRecipientInvalid, "21614", 0, 0},
		{"21408 region not enabled is permanent", func(f *providerfake.Twilio) { f.RejectTo(parentPhone, 21408) }, "",
			notify.KindPermanent, "21408", 0, 0},
		{"429 with Retry-After", func(f *providerfake.Twilio) { f.FailNext(1, providerfake.TooManyRequests(7*time.Second)) }, "",
			notify.KindRateLimited, "20429", 7 * time.Second, 0},
		{"500 before acceptance", func(f *providerfake.Twilio) { f.FailNext(1, providerfake.Status(500)) }, "",
			notify.KindTransient, "20500", 0, 0},
		{"503 before acceptance", func(f *providerfake.Twilio) { f.FailNext(1, providerfake.Status(503)) }, "",
			notify.KindTransient, "20500", 0, 0},
		{"bad credentials are permanent", nil, "wrongtoken",
			notify.KindPermanent, "20003", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := providerfake.NewTwilio(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			s := newSender(t, fake, func(c *twilio.Config) {
				if tt.authToken != "" {
					c.AuthToken = tt.authToken
				}
			})

			res := s.SendSMS(context.Background(), notify.SMS{Ref: "msg-9", To: parentPhone, Body: "Secret body"})

			se := providerfake.SendError(t, res.Err)
			if se.Kind != tt.wantKind || se.Code != tt.wantCode || se.RetryAfter != tt.wantRetryAfter {
				t.Fatalf("got kind=%s code=%s retryAfter=%s, want %s %s %s (%v)",
					se.Kind, se.Code, se.RetryAfter, tt.wantKind, tt.wantCode, tt.wantRetryAfter, se)
			}
			if res.ProviderID != "" {
				t.Fatalf("failed send has provider id %q", res.ProviderID)
			}
			if msg := res.Err.Error(); strings.Contains(msg, parentPhone) || strings.Contains(msg, "Secret body") ||
				!strings.Contains(msg, "msg-9") {
				t.Fatalf("error text must name the ref and never the number or body: %q", msg)
			}
			if got := fake.SentTo(parentPhone); got != tt.wantSent {
				t.Fatalf("provider accepted %d, want %d", got, tt.wantSent)
			}
		})
	}
}

// A gateway in front of Twilio can answer with HTML the SDK cannot decode;
// the status still decides.
func TestSendSMSUndecodableErrorUsesStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		header   string
		wantKind notify.ErrorKind
	}{
		{http.StatusBadGateway, "", notify.KindTransient},
		{http.StatusTooManyRequests, "3", notify.KindRateLimited},
		{http.StatusForbidden, "", notify.KindPermanent},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte("<html>gateway</html>"))
			}))
			t.Cleanup(gw.Close)
			s := newSender(t, providerfake.NewTwilio(t), func(c *twilio.Config) { c.BaseURL = gw.URL })
			res := s.SendSMS(context.Background(), notify.SMS{Ref: "r", To: parentPhone, Body: "hi"})
			se := providerfake.SendError(t, res.Err)
			if se.Kind != tt.wantKind || se.Code != "http_"+strconv.Itoa(tt.status) {
				t.Fatalf("got %s/%s, want %s/http_%d", se.Kind, se.Code, tt.wantKind, tt.status)
			}
			if tt.header == "3" && se.RetryAfter != 3*time.Second {
				t.Fatalf("RetryAfter = %s, want 3s", se.RetryAfter)
			}
		})
	}
}

func TestSendSMSRateCapRefusalsAreRateLimited(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewTwilio(t)
	clock := newClock()
	fake.SetClock(clock.Now)
	fake.LimitRate(5)
	s := newSender(t, fake, nil)

	const senders = 20
	results := make([]notify.Result, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			to := fmt.Sprintf("+4477009001%02d", i)
			results[i] = s.SendSMS(context.Background(), notify.SMS{Ref: "r", To: to, Body: "hi"})
		})
	}
	wg.Wait()

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
	if accepted != 5 || limited != 15 || fake.RateLimited() != 15 || len(fake.Accepted()) != 5 {
		t.Fatalf("accepted %d, limited %d, fake refused %d and accepted %d; want 5/15/15/5",
			accepted, limited, fake.RateLimited(), len(fake.Accepted()))
	}

	clock.Advance(time.Second)
	if res := s.SendSMS(context.Background(), notify.SMS{Ref: "r", To: parentPhone, Body: "hi"}); res.Err != nil {
		t.Fatalf("a second later the cap must admit again: %v", res.Err)
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  twilio.Config
	}{
		{"no credentials", twilio.Config{From: defaultFrom}},
		{"no sender", twilio.Config{AccountSID: "AC1", AuthToken: "t"}},
		{"relative base URL", twilio.Config{AccountSID: "AC1", AuthToken: "t", From: defaultFrom, BaseURL: "localhost:1"}},
		{"validity over 10 h", twilio.Config{AccountSID: "AC1", AuthToken: "t", From: defaultFrom, ValidityPeriod: 11 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := twilio.New(tt.cfg); err == nil {
				t.Fatal("New accepted an incomplete config")
			}
		})
	}
}

func TestCallbackErrorKind(t *testing.T) {
	t.Parallel()
	tests := map[int]notify.ErrorKind{
		30003: notify.KindPermanent,
		30005: notify.KindRecipientInvalid,
		30006: notify.KindRecipientInvalid,
		30007: notify.KindPermanent,
		21610: notify.KindSuppressed,
		99999: notify.KindPermanent,
	}
	for code, want := range tests {
		if got := twilio.CallbackErrorKind(code); got != want {
			t.Errorf("CallbackErrorKind(%d) = %s, want %s", code, got, want)
		}
	}
}

type testClock struct{ ns atomic.Int64 }

func newClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Concurrent sends reuse their connections: a sender that keeps too few idle
// would open (on the real API, a TLS handshake) and close a connection for
// most calls.
func TestSendSMSReusesConnectionsUnderConcurrency(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewTwilio(t)
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	var opened atomic.Int64
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	front.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	front.Start()
	t.Cleanup(front.Close)
	s := newSender(t, fake, func(c *twilio.Config) { c.BaseURL = front.URL })

	const inFlight, rounds = 30, 4
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, inFlight)
		for i := range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				to := fmt.Sprintf("+4479111%05d", round*inFlight+i)
				if res := s.SendSMS(context.Background(), notify.SMS{Ref: "r", To: to, Body: "hi"}); res.Err != nil {
					errs <- res.Err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("send: %v", err)
		}
	}
	if got := len(fake.Accepted()); got != inFlight*rounds {
		t.Fatalf("fake accepted %d, want %d", got, inFlight*rounds)
	}
	// The first round may open one connection per call; later rounds find
	// them idle. Two idle per host (net/http's default) would open about
	// 28 more in each later round.
	if got := opened.Load(); got > inFlight {
		t.Fatalf("%d connections opened for %d rounds of %d concurrent sends, want at most %d", got, rounds, inFlight, inFlight)
	}
}

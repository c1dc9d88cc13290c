package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/notify/twilio"
)

// options change how an adapter is wired to its fake.
type options struct {
	badCredentials bool          // credentials the fake refuses
	unreachable    bool          // aimed at a closed port instead of the fake
	timeout        time.Duration // per request; 2 s when 0
}

// subject is one adapter wired to its own fake, seen through what every
// adapter shares: sending one message, with a ref, to one recipient.
type subject struct {
	// send sends one message with ref and body to recipient.
	send func(ctx context.Context, recipient string) notify.Result
	// recipient is a working address; refused one the provider (or the
	// adapter) refuses as not a valid recipient. Both are personal data.
	recipient, refused string
	// secret is the credential the adapter holds.
	secret string
	// unreachableCode is the code of a send to a closed port, ended by a
	// 300 ms deadline: "network", or "canceled" where the SDK retries
	// refused connections until the deadline (FCM).
	unreachableCode string
	fake            interface {
		FailNext(n int, f providerfake.Fault)
		Requests() int
		Hanging() <-chan struct{}
	}
	sentTo func(recipient string) int
}

const (
	ref  = "brd_conformance:p00000/7" // IDs only: errors may name it
	body = "Robins: bring your reading diary tomorrow"
)

type adapter struct {
	name  string
	start func(t *testing.T, o options) *subject
}

var adapters = []adapter{
	{"twilio", startTwilio},
	{"sendgrid", startSendGrid},
	{"fcm", startFCM},
}

func (o options) timeoutOr() time.Duration {
	if o.timeout > 0 {
		return o.timeout
	}
	return 2 * time.Second
}

// closedURL is the address of a server that has stopped listening.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

func startTwilio(t *testing.T, o options) *subject {
	fake := providerfake.NewTwilio(t)
	cfg := twilio.Config{AccountSID: fake.AccountSID, AuthToken: fake.AuthToken, From: "+447700900001",
		StatusCallback: "https://api.hometime.test/webhooks/twilio/status", BaseURL: fake.URL, Timeout: o.timeoutOr()}
	if o.badCredentials {
		cfg.AuthToken = "wrongtoken0123456789abcdef012345"
	}
	if o.unreachable {
		cfg.BaseURL = closedURL(t)
	}
	s, err := twilio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	refused := "+447700900999"
	fake.RejectTo(refused, 21211) // the fake, as Twilio does, quotes the number in its answer
	return &subject{
		send: func(ctx context.Context, to string) notify.Result {
			return s.SendSMS(ctx, notify.SMS{Ref: ref, To: to, Body: body})
		},
		recipient: "+447700900123", refused: refused, secret: cfg.AuthToken, unreachableCode: "network",
		fake: fake, sentTo: fake.SentTo,
	}
}

func startSendGrid(t *testing.T, o options) *subject {
	fake := providerfake.NewSendGrid(t)
	cfg := sendgrid.Config{APIKey: fake.APIKey, Host: fake.URL, From: "noreply@school.hometime.test",
		FromName: "Hometime", Timeout: o.timeoutOr()}
	if o.badCredentials {
		cfg.APIKey = "SG.wrong-key-of-another-account"
	}
	if o.unreachable {
		cfg.Host = closedURL(t)
	}
	s, err := sendgrid.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &subject{
		send: func(ctx context.Context, to string) notify.Result {
			results, err := s.SendEmails(ctx, []notify.Email{{Ref: ref, To: to, Subject: "Robins", Text: body}})
			return one(t, results, err)
		},
		recipient: "parent.one@example.com", refused: "parent.one.example.com", secret: cfg.APIKey, unreachableCode: "network",
		fake: fake, sentTo: fake.SentTo,
	}
}

func startFCM(t *testing.T, o options) *subject {
	fake := providerfake.NewFCM(t)
	cfg := fcm.Config{ProjectID: fake.ProjectID, Endpoint: fake.Endpoint(), WithoutAuth: true, Timeout: o.timeoutOr()}
	secret := "issued-by-fake"
	fake.RequireBearer(secret)
	cfg.CredentialsFile, cfg.WithoutAuth = fake.ServiceAccountFile(t), false
	if o.badCredentials {
		// No credentials at all: the fake wants the token it issues.
		cfg.CredentialsFile, cfg.WithoutAuth = "", true
	}
	if o.unreachable {
		cfg.Endpoint = closedURL(t) + "/v1"
	}
	s, err := fcm.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	refused := "tok-unregistered-device-0001"
	fake.Unregister(refused)
	return &subject{
		send: func(ctx context.Context, to string) notify.Result {
			results, err := s.SendPushes(ctx, []notify.Push{{Ref: ref, Token: to, Title: "Robins", Body: body}})
			return one(t, results, err)
		},
		recipient: "tok-parent-device-0001", refused: refused, secret: secret, unreachableCode: "canceled",
		fake: fake, sentTo: fake.SentTo,
	}
}

// one is the result of a batch call of one message. A call error, when
// there is one, is the very error on the result (notify.EmailSender and
// notify.PushSender promise it on every result).
func one(t *testing.T, results []notify.Result, err error) notify.Result {
	t.Helper()
	if len(results) != 1 || (err != nil && results[0].Err != err) {
		t.Fatalf("%d results for one message, call error %v, result %+v", len(results), err, results)
	}
	return results[0]
}

// failed checks a failed send: a *notify.SendError of kind, no provider
// id, and text that never holds the recipient, the body or the
// credential.
func failed(t *testing.T, s *subject, res notify.Result, recipient string, kind notify.ErrorKind) *notify.SendError {
	t.Helper()
	se := providerfake.SendError(t, res.Err)
	if se.Kind != kind {
		t.Fatalf("kind %s (%s), want %s: %v", se.Kind, se.Code, kind, se)
	}
	if res.ProviderID != "" || res.Ref != ref {
		t.Fatalf("failed result %+v: want ref %s and no provider id", res, ref)
	}
	msg := res.Err.Error()
	for what, personal := range map[string]string{"recipient": recipient, "body": body, "credential": s.secret} {
		if strings.Contains(msg, personal) {
			t.Fatalf("the error text holds the %s: %q", what, msg)
		}
	}
	return se
}

func TestAdaptersConform(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts options
		run  func(t *testing.T, s *subject)
	}{
		{"an accepted message has the provider's id and is sent once", options{}, func(t *testing.T, s *subject) {
			res := s.send(context.Background(), s.recipient)
			if res.Err != nil || res.ProviderID == "" || res.Ref != ref {
				t.Fatalf("result %+v", res)
			}
			if s.sentTo(s.recipient) != 1 || s.fake.Requests() != 1 {
				t.Fatalf("sent %d in %d requests, want 1 in 1", s.sentTo(s.recipient), s.fake.Requests())
			}
		}},
		{"a recipient refused as invalid is permanent and never named", options{}, func(t *testing.T, s *subject) {
			res := s.send(context.Background(), s.refused)
			failed(t, s, res, s.refused, notify.KindRecipientInvalid)
			if s.sentTo(s.refused) != 0 {
				t.Fatal("the refused recipient was sent to")
			}
		}},
		{"bad credentials are permanent and never echoed", options{badCredentials: true}, func(t *testing.T, s *subject) {
			res := s.send(context.Background(), s.recipient)
			failed(t, s, res, s.recipient, notify.KindPermanent)
			if s.sentTo(s.recipient) != 0 {
				t.Fatal("sent with bad credentials")
			}
		}},
		{"a server error is transient and a retry sends once", options{}, func(t *testing.T, s *subject) {
			s.fake.FailNext(1, providerfake.Status(http.StatusInternalServerError))
			failed(t, s, s.send(context.Background(), s.recipient), s.recipient, notify.KindTransient)
			if res := s.send(context.Background(), s.recipient); res.Err != nil {
				t.Fatalf("the retry: %v", res.Err)
			}
			if s.sentTo(s.recipient) != 1 {
				t.Fatalf("sent %d times after a failure and a retry, want once", s.sentTo(s.recipient))
			}
		}},
		{"a rate limit carries Retry-After", options{}, func(t *testing.T, s *subject) {
			s.fake.FailNext(1, providerfake.TooManyRequests(7*time.Second))
			se := failed(t, s, s.send(context.Background(), s.recipient), s.recipient, notify.KindRateLimited)
			if se.RetryAfter != 7*time.Second || s.sentTo(s.recipient) != 0 || s.fake.Requests() != 1 {
				t.Fatalf("RetryAfter %s, sent %d in %d requests; want 7s, 0 in 1", se.RetryAfter, s.sentTo(s.recipient), s.fake.Requests())
			}
		}},
		{"silence after the provider accepted is ambiguous and not resent", options{timeout: 150 * time.Millisecond}, func(t *testing.T, s *subject) {
			s.fake.FailNext(1, providerfake.AcceptThenHang())
			se := failed(t, s, s.send(context.Background(), s.recipient), s.recipient, notify.KindAmbiguous)
			if se.Code != "timeout" || s.sentTo(s.recipient) != 1 || s.fake.Requests() != 1 {
				t.Fatalf("code %s, sent %d in %d requests; want timeout, 1 in 1", se.Code, s.sentTo(s.recipient), s.fake.Requests())
			}
		}},
		{"silence before the provider accepted is still ambiguous", options{timeout: 150 * time.Millisecond}, func(t *testing.T, s *subject) {
			s.fake.FailNext(1, providerfake.Hang())
			se := failed(t, s, s.send(context.Background(), s.recipient), s.recipient, notify.KindAmbiguous)
			if se.Code != "timeout" || s.sentTo(s.recipient) != 0 || s.fake.Requests() != 1 {
				t.Fatalf("code %s, sent %d in %d requests; want timeout, 0 in 1", se.Code, s.sentTo(s.recipient), s.fake.Requests())
			}
		}},
		{"the caller cancelling after the request left is ambiguous", options{}, func(t *testing.T, s *subject) {
			s.fake.FailNext(1, providerfake.AcceptThenHang())
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-s.fake.Hanging() // the provider has accepted and gone silent
				cancel()
			}()
			failed(t, s, s.send(ctx, s.recipient), s.recipient, notify.KindAmbiguous)
			if s.fake.Requests() != 1 {
				t.Fatalf("%d requests, want 1", s.fake.Requests())
			}
		}},
		{"an unreachable provider is transient", options{unreachable: true}, func(t *testing.T, s *subject) {
			// The FCM SDK retries refused connections with backoff; the
			// caller's deadline ends that.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			se := failed(t, s, s.send(ctx, s.recipient), s.recipient, notify.KindTransient)
			if se.Code != s.unreachableCode {
				t.Fatalf("code %s, want %s", se.Code, s.unreachableCode)
			}
		}},
		{"a call cancelled before it starts is transient and sends nothing", options{}, func(t *testing.T, s *subject) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			se := failed(t, s, s.send(ctx, s.recipient), s.recipient, notify.KindTransient)
			if se.Code != "canceled" || s.fake.Requests() != 0 {
				t.Fatalf("code %s after %d requests, want canceled after none", se.Code, s.fake.Requests())
			}
		}},
	}
	for _, a := range adapters {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, a.start(t, tc.opts))
				})
			}
		})
	}
}

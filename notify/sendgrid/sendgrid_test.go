package sendgrid_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
)

const fromAddr = "noreply@school.hometime.test"

func newSender(t *testing.T, fake *providerfake.SendGrid, edit func(*sendgrid.Config)) *sendgrid.Sender {
	t.Helper()
	cfg := sendgrid.Config{
		APIKey:   fake.APIKey,
		Host:     fake.URL,
		From:     fromAddr,
		FromName: "Hometime",
		Timeout:  2 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := sendgrid.New(cfg)
	if err != nil {
		t.Fatalf("sendgrid.New: %v", err)
	}
	return s
}

func sameContent(n int, prefix string) []notify.Email {
	out := make([]notify.Email, n)
	for i := range out {
		out[i] = notify.Email{
			Ref:      fmt.Sprintf("%s-%04d", prefix, i),
			To:       fmt.Sprintf("parent%04d@example.com", i),
			Subject:  "New activity for Year 2",
			Text:     "There is a new activity waiting in the app.",
			HTML:     "<p>There is a new activity waiting in the app.</p>",
			Category: "activity_released",
		}
	}
	return out
}

func TestSendEmailsOneEmailWireFormat(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	s := newSender(t, fake, func(c *sendgrid.Config) { c.ReplyTo = "office@school.test" })

	results, err := s.SendEmails(context.Background(), sameContent(1, "msg"))

	if err != nil || len(results) != 1 || results[0].Err != nil {
		t.Fatalf("SendEmails: %v %+v", err, results)
	}
	reqs := fake.Accepted()
	if len(reqs) != 1 {
		t.Fatalf("fake accepted %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if results[0].Ref != "msg-0000" || results[0].ProviderID == "" || results[0].ProviderID != r.MessageID {
		t.Fatalf("result %+v, fake message id %q", results[0], r.MessageID)
	}
	wantContent := []providerfake.SendGridContent{
		{Type: "text/plain", Value: "There is a new activity waiting in the app."},
		{Type: "text/html", Value: "<p>There is a new activity waiting in the app.</p>"},
	}
	if r.From != fromAddr || r.Subject != "New activity for Year 2" || !slices.Equal(r.Contents, wantContent) ||
		!slices.Equal(r.Categories, []string{"activity_released"}) {
		t.Fatalf("request = %+v", r)
	}
	p := r.Personalizations
	if len(p) != 1 || !slices.Equal(p[0].To, []string{"parent0000@example.com"}) || len(p[0].CustomArgs) != 1 ||
		p[0].CustomArgs["ref"] != "msg-0000" {
		t.Fatalf("personalizations = %+v", p)
	}
}

func TestSendEmails2500SameContentTakesThreeRequests(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	s := newSender(t, fake, nil)
	emails := sameContent(2500, "bulk")

	results, err := s.SendEmails(context.Background(), emails)

	if err != nil {
		t.Fatalf("SendEmails: %v", err)
	}
	if got := fake.PersonalizationsPerRequest(); !slices.Equal(got, []int{1000, 1000, 500}) || fake.Requests() != 3 {
		t.Fatalf("personalizations per request = %v over %d requests, want [1000 1000 500]", got, fake.Requests())
	}
	reqs := fake.Accepted()
	for i, r := range results {
		wantID := reqs[i/1000].MessageID
		if r.Err != nil || r.Ref != emails[i].Ref || r.ProviderID != wantID {
			t.Fatalf("result %d = %+v, want message id %s", i, r, wantID)
		}
	}
	for _, e := range emails {
		if n := fake.SentTo(e.To); n != 1 {
			t.Fatalf("%s received %d emails, want 1", e.Ref, n)
		}
	}
}

func TestSendEmailsSplitsByContentAndRepeatedAddress(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	s := newSender(t, fake, nil)
	a := sameContent(3, "a")
	b := sameContent(1, "b")
	b[0].Subject = "Award for your child"
	b[0].To = "other.parent@example.com"
	repeat := a[0]
	repeat.Ref = "a-repeat" // same content, same parent: a second child's message
	emails := []notify.Email{a[0], b[0], a[1], repeat, a[2]}

	results, err := s.SendEmails(context.Background(), emails)

	if err != nil {
		t.Fatalf("SendEmails: %v", err)
	}
	got := fake.Accepted()
	var shape []string
	for _, r := range got {
		var refs []string
		for _, p := range r.Personalizations {
			refs = append(refs, p.CustomArgs["ref"])
		}
		shape = append(shape, r.Subject[:3]+":"+strings.Join(refs, ","))
	}
	want := []string{"New:a-0000,a-0001,a-0002", "New:a-repeat", "Awa:b-0000"}
	if !slices.Equal(shape, want) {
		t.Fatalf("requests = %v, want %v", shape, want)
	}
	for i, r := range results {
		if r.Err != nil || r.Ref != emails[i].Ref || r.ProviderID == "" {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	if fake.SentTo(a[0].To) != 2 {
		t.Fatalf("the parent with two messages received %d", fake.SentTo(a[0].To))
	}
}

func TestSendEmailsRejectsBadEmailsWithoutSinkingTheBatch(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	s := newSender(t, fake, nil)
	emails := sameContent(4, "m")
	emails[1].To = "not-an-address"
	emails[2].To = "Parent <p@example.com>"
	emails[3].Text, emails[3].HTML = "", ""
	emails[3].Subject = "Empty" // its own content group, never sent

	results, err := s.SendEmails(context.Background(), emails)

	if err != nil {
		t.Fatalf("call error %v although one email was sent", err)
	}
	wantKinds := []notify.ErrorKind{"", notify.KindRecipientInvalid, notify.KindRecipientInvalid, notify.KindPermanent}
	for i, r := range results {
		if k := notify.KindOf(r.Err); k != wantKinds[i] {
			t.Fatalf("email %d: kind %q (%v), want %q", i, k, r.Err, wantKinds[i])
		}
	}
	if fake.Requests() != 1 || !slices.Equal(fake.PersonalizationsPerRequest(), []int{1}) {
		t.Fatalf("fake saw %d requests %v, want one with one personalization", fake.Requests(), fake.PersonalizationsPerRequest())
	}
}

func TestSendEmailsClassifiesFailures(t *testing.T) {
	t.Parallel()
	frozen := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		fault          *providerfake.Fault
		apiKey         string
		wantKind       notify.ErrorKind
		wantCode       string
		wantRetryAfter time.Duration
	}{
		{"429 with Retry-After", ptr(providerfake.TooManyRequests(7 * time.Second)), "",
			notify.KindRateLimited, "http_429", 7 * time.Second},
		{"500", ptr(providerfake.Status(500)), "", notify.KindTransient, "http_500", 0},
		{"503", ptr(providerfake.Status(503)), "", notify.KindTransient, "http_503", 0},
		{"400", ptr(providerfake.Status(400)), "", notify.KindPermanent, "http_400", 0},
		{"403 unverified sender", ptr(providerfake.Status(403)), "", notify.KindPermanent, "http_403", 0},
		{"413 too large", ptr(providerfake.Status(413)), "", notify.KindPermanent, "http_413", 0},
		{"401 bad key", nil, "SG.wrong", notify.KindPermanent, "http_401", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := providerfake.NewSendGrid(t)
			fake.SetClock(func() time.Time { return frozen })
			if tt.fault != nil {
				fake.FailNext(1, *tt.fault)
			}
			s := newSender(t, fake, func(c *sendgrid.Config) {
				c.Now = func() time.Time { return frozen }
				if tt.apiKey != "" {
					c.APIKey = tt.apiKey
				}
			})
			emails := sameContent(3, "m")

			results, err := s.SendEmails(context.Background(), emails)

			se := providerfake.SendError(t, err)
			if se.Kind != tt.wantKind || se.Code != tt.wantCode || se.RetryAfter != tt.wantRetryAfter {
				t.Fatalf("got %s/%s/%s, want %s/%s/%s (%v)", se.Kind, se.Code, se.RetryAfter,
					tt.wantKind, tt.wantCode, tt.wantRetryAfter, se)
			}
			for i, r := range results {
				if r.Err != err || r.ProviderID != "" || r.Ref != emails[i].Ref {
					t.Fatalf("result %d = %+v, want the call error on every email", i, r)
				}
			}
			if len(fake.Accepted()) != 0 {
				t.Fatal("the fake accepted a request that failed")
			}
		})
	}
}

func TestSendEmailsPartialFailureKeepsPerEmailResults(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	fake.FailNext(1, providerfake.Status(502))
	s := newSender(t, fake, nil)

	results, err := s.SendEmails(context.Background(), sameContent(1500, "m"))

	if err != nil {
		t.Fatalf("call error %v although the second request was accepted", err)
	}
	for i, r := range results {
		wantKind := notify.ErrorKind("")
		if i < 1000 {
			wantKind = notify.KindTransient
		}
		if notify.KindOf(r.Err) != wantKind || (wantKind == "") != (r.ProviderID != "") {
			t.Fatalf("result %d = %+v, want kind %q", i, r, wantKind)
		}
	}
	if !slices.Equal(fake.PersonalizationsPerRequest(), []int{1000, 500}) || len(fake.Accepted()) != 1 {
		t.Fatalf("requests %v, accepted %d", fake.PersonalizationsPerRequest(), len(fake.Accepted()))
	}
}

func TestSendEmailsRateCapRefusalIsCounted(t *testing.T) {
	t.Parallel()
	frozen := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	fake := providerfake.NewSendGrid(t)
	fake.SetClock(func() time.Time { return frozen })
	fake.LimitRate(1500) // messages per second
	s := newSender(t, fake, func(c *sendgrid.Config) { c.Now = func() time.Time { return frozen } })

	results, err := s.SendEmails(context.Background(), sameContent(2500, "m"))

	if err != nil {
		t.Fatalf("call error %v although requests were accepted", err)
	}
	kinds := map[notify.ErrorKind]int{}
	for _, r := range results {
		kinds[notify.KindOf(r.Err)]++
		if se := (*notify.SendError)(nil); errors.As(r.Err, &se) && se.RetryAfter != time.Second {
			t.Fatalf("RetryAfter = %s, want 1s from X-RateLimit-Reset", se.RetryAfter)
		}
	}
	// 1000 admitted, the next 1000 would make 2000 > 1500, the last 500 fit.
	if kinds[""] != 1500 || kinds[notify.KindRateLimited] != 1000 || fake.RateLimited() != 1 {
		t.Fatalf("kinds %v, fake refusals %d; want 1500 sent, 1000 rate limited, 1 refusal", kinds, fake.RateLimited())
	}
}

func TestSendEmailsErrorTextRedactsAddresses(t *testing.T) {
	t.Parallel()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errors":[{"message":"We found the first duplicate instance of [parent0000@example.com] in the personalizations.1.to field.","field":"personalizations.1.to","help":null}]}`))
	}))
	t.Cleanup(gw.Close)
	s := newSender(t, providerfake.NewSendGrid(t), func(c *sendgrid.Config) { c.Host = gw.URL })

	_, err := s.SendEmails(context.Background(), sameContent(1, "m"))

	msg := err.Error()
	if notify.KindOf(err) != notify.KindPermanent || strings.Contains(msg, "parent0000") ||
		!strings.Contains(msg, "personalizations.1.to") {
		t.Fatalf("error = %q", msg)
	}
}

func TestSenderIsSafeForConcurrentCalls(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	s := newSender(t, fake, nil)
	var failed atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			if _, err := s.SendEmails(context.Background(), sameContent(10, fmt.Sprint("g", g))); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || fake.Requests() != 8 || len(fake.Accepted()) != 8 {
		t.Fatalf("failed %d, requests %d, accepted %d", failed.Load(), fake.Requests(), len(fake.Accepted()))
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  sendgrid.Config
		ok   bool
	}{
		{"EU host", sendgrid.Config{APIKey: "k", From: fromAddr, Host: sendgrid.HostEU}, true},
		{"default host", sendgrid.Config{APIKey: "k", From: fromAddr}, true},
		{"no key", sendgrid.Config{From: fromAddr}, false},
		{"bad from", sendgrid.Config{APIKey: "k", From: "nobody"}, false},
		{"relative host", sendgrid.Config{APIKey: "k", From: fromAddr, Host: "api.sendgrid.com"}, false},
	}
	for _, tt := range tests {
		if _, err := sendgrid.New(tt.cfg); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func ptr[T any](v T) *T { return &v }

package sendgrid_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/sendgrid"
)

// Events the fake signs for mail the adapter really sent verify with the
// public key the fake exposes, and parse back to our refs and message ids.
func TestSignedEventsFromFakeVerifyAndParse(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	fake.SetClock(func() time.Time { return time.Unix(1741000000, 0) })
	s := newSender(t, fake, nil)
	emails := sameContent(3, "msg")
	results, err := s.SendEmails(context.Background(), emails)
	if err != nil {
		t.Fatalf("SendEmails: %v", err)
	}
	v, err := sendgrid.NewEventWebhook(fake.EventWebhookPublicKey())
	if err != nil {
		t.Fatalf("NewEventWebhook: %v", err)
	}

	req := fake.EventRequest("https://api.hometime.test/webhooks/sendgrid", fake.EventsFor("delivered"))
	body, _ := io.ReadAll(req.Body)
	if err := v.Verify(body, req.Header.Get(sendgrid.SignatureHeader), req.Header.Get(sendgrid.TimestampHeader)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	events, err := v.DeliveryEvents(notify.WebhookRequest{Header: req.Header, Body: body}, time.Unix(1741000000, 0))
	if err != nil {
		t.Fatalf("DeliveryEvents: %v", err)
	}
	if len(events) != 3 {
		t.Fatalf("%d events, want 3", len(events))
	}
	for i, e := range events {
		if e.Index != i || e.Ref != emails[i].Ref || e.MessageID != results[i].ProviderID || e.Kind != "delivered" ||
			e.Outcome != notify.OutcomeDelivered || e.Provider != "sendgrid" || e.EventID == "" ||
			e.Address != "" || !e.At.Equal(time.Unix(1741000000, 0)) {
			t.Fatalf("event %d = %+v, want ref %s message %s", i, e, emails[i].Ref, results[i].ProviderID)
		}
	}
}

func TestEventWebhookRejectsBadSignatures(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	other := providerfake.NewSendGrid(t)
	events := []providerfake.SendGridEvent{{Email: "p@example.com", Event: "unsubscribe", SGEventID: "ev1",
		CustomArgs: map[string]string{"ref": "msg-1"}}}
	body, sig, ts := fake.SignedEvents(events)
	v, err := sendgrid.NewEventWebhook(fake.EventWebhookPublicKey())
	if err != nil {
		t.Fatalf("NewEventWebhook: %v", err)
	}
	otherV, _ := sendgrid.NewEventWebhook(other.EventWebhookPublicKey())

	tests := []struct {
		name          string
		verifier      *sendgrid.EventWebhook
		body          []byte
		sig, ts       string
		wantBadSigErr bool
	}{
		{"genuine", v, body, sig, ts, false},
		{"body changed", v, []byte(strings.Replace(string(body), "unsubscribe", "delivered", 1)), sig, ts, true},
		{"timestamp changed", v, body, sig, ts + "1", true},
		{"another account's key", otherV, body, sig, ts, true},
		{"unsigned", v, body, "", "", true},
		{"signature not base64", v, body, "%%%", ts, true},
		{"signature not ASN.1", v, body, base64.StdEncoding.EncodeToString([]byte("nope")), ts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.verifier.Verify(tt.body, tt.sig, tt.ts)
			if tt.wantBadSigErr != errors.Is(err, sendgrid.ErrBadSignature) || (!tt.wantBadSigErr && err != nil) {
				t.Fatalf("Verify = %v, want bad signature %v", err, tt.wantBadSigErr)
			}
		})
	}
}

func TestNewEventWebhookKeyFormats(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	der, _ := base64.StdEncoding.DecodeString(fake.EventWebhookPublicKey())
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)

	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"base64 DER as SendGrid shows it", fake.EventWebhookPublicKey(), true},
		{"PEM", pemKey, true},
		{"RSA key is refused, not a panic", base64.StdEncoding.EncodeToString(rsaDER), false},
		{"garbage", "not a key", false},
	}
	for _, tt := range tests {
		if _, err := sendgrid.NewEventWebhook(tt.key); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	v, _ := sendgrid.NewEventWebhook(pemKey)
	body, sig, ts := fake.SignedEvents([]providerfake.SendGridEvent{{Event: "open", SGEventID: "e"}})
	if err := v.Verify(body, sig, ts); err != nil {
		t.Fatalf("PEM-loaded key: %v", err)
	}
}

// signed is a batch body signed by fake now, as SendGrid would post it.
func signed(fake *providerfake.SendGrid, body string) notify.WebhookRequest {
	sig, ts := fake.SignEventBody([]byte(body))
	h := http.Header{}
	h.Set(sendgrid.SignatureHeader, sig)
	h.Set(sendgrid.TimestampHeader, ts)
	return notify.WebhookRequest{Header: h, Body: []byte(body)}
}

func TestDeliveryEventsReadEachEvent(t *testing.T) {
	t.Parallel()
	now := time.Unix(1741000000, 0)
	fake := providerfake.NewSendGrid(t)
	fake.SetClock(func() time.Time { return now })
	w, err := sendgrid.NewEventWebhook(fake.EventWebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	// The same event delivered 46 times is read 46 times: deduplication on
	// sg_event_id is the caller's, and the id is kept for it.
	repeated := "[" + strings.TrimSuffix(strings.Repeat(
		`{"email":"p@example.com","timestamp":1741000000,"event":"bounce","type":"blocked","sg_event_id":"same","sg_message_id":"XID.filter1.0","ref":"msg-1","category":["a"]},`, 46), ",") + "]"
	events, err := w.DeliveryEvents(signed(fake, repeated), now)
	if err != nil || len(events) != 46 {
		t.Fatalf("DeliveryEvents: %d events, %v", len(events), err)
	}
	want := notify.DeliveryEvent{Index: 45, Provider: "sendgrid", Kind: "bounce", EventID: "same", MessageID: "XID", Ref: "msg-1",
		Outcome: notify.OutcomeFailed, ErrorCode: "blocked", At: time.Unix(1741000000, 0).UTC()}
	if events[45] != want {
		t.Fatalf("event = %+v, want %+v", events[45], want)
	}

	mixed := `[{"event":"open","sg_event_id":"e","ref":42,"timestamp":1741000000.5},` +
		`{"event":"open","sg_event_id":"e2","timestamp":"yesterday"},` +
		`{"event":"open"},{"sg_event_id":"e"},"not an event",` +
		`{"event":"unsubscribe","sg_event_id":"e3","email":"p@example.com"},` +
		`{"event":"dropped","sg_event_id":"e4","email":"p@example.com","reason":"Bounced Address"}]`
	events, err = w.DeliveryEvents(signed(fake, mixed), now)
	if err != nil || len(events) != 7 {
		t.Fatalf("DeliveryEvents: %d events, %v", len(events), err)
	}
	if e := events[0]; e.Ref != "" || e.At.Unix() != 1741000000 || e.Malformed {
		t.Fatalf("a non-string ref must be ignored: %+v", e)
	}
	if e := events[1]; e.Malformed || !e.At.IsZero() {
		t.Fatalf("an unreadable timestamp is left out: %+v", e)
	}
	for _, i := range []int{2, 3, 4} {
		if e := events[i]; !e.Malformed || e.Index != i {
			t.Fatalf("event %d: %+v, want malformed", i, e)
		}
	}
	if e := events[5]; e.OptOut != notify.OptOutUnsubscribe || e.Outcome != notify.OutcomeNone || e.Address != "p@example.com" {
		t.Fatalf("unsubscribe: %+v", e)
	}
	if e := events[6]; e.OptOut != notify.OptOutBounce || e.Outcome != notify.OutcomeFailed || e.ErrorCode != "dropped" {
		t.Fatalf("dropped for a bounced address: %+v", e)
	}

	if _, err := w.DeliveryEvents(signed(fake, `{"event":"open"}`), now); !errors.Is(err, notify.ErrWebhookInvalid) {
		t.Errorf("not an array: %v, want invalid", err)
	}
}

// A batch signed more than Freshness from our clock, either way, is stale.
func TestDeliveryEventsRefuseStaleBatches(t *testing.T) {
	t.Parallel()
	now := time.Unix(1741000000, 0)
	fake := providerfake.NewSendGrid(t)
	w, err := sendgrid.NewEventWebhook(fake.EventWebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	for skew, ok := range map[time.Duration]bool{0: true, -sendgrid.Freshness: true, sendgrid.Freshness: true,
		-sendgrid.Freshness - time.Second: false, sendgrid.Freshness + time.Second: false} {
		fake.SetClock(func() time.Time { return now.Add(skew) })
		_, err := w.DeliveryEvents(signed(fake, `[]`), now)
		if (err == nil) != ok || (!ok && !errors.Is(err, notify.ErrWebhookStale)) {
			t.Errorf("signed %s from now: %v", skew, err)
		}
	}
}

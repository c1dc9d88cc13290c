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
	"strings"
	"testing"
	"time"

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
	v, err := sendgrid.NewEventVerifier(fake.EventWebhookPublicKey())
	if err != nil {
		t.Fatalf("NewEventVerifier: %v", err)
	}

	req := fake.EventRequest("https://api.hometime.test/webhooks/sendgrid", fake.EventsFor("delivered"))
	body, _ := io.ReadAll(req.Body)
	if err := v.Verify(body, req.Header.Get(sendgrid.SignatureHeader), req.Header.Get(sendgrid.TimestampHeader)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	events, err := sendgrid.ParseEvents(body)
	if err != nil {
		t.Fatalf("ParseEvents: %v", err)
	}
	if len(events) != 3 {
		t.Fatalf("%d events, want 3", len(events))
	}
	for i, e := range events {
		if e.Ref != emails[i].Ref || e.MessageID() != results[i].ProviderID || e.Event != "delivered" ||
			e.Email != emails[i].To || e.SGEventID == "" || !e.Timestamp.Equal(time.Unix(1741000000, 0)) {
			t.Fatalf("event %d = %+v, want ref %s message %s", i, e, emails[i].Ref, results[i].ProviderID)
		}
	}
}

func TestEventVerifierRejectsBadSignatures(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewSendGrid(t)
	other := providerfake.NewSendGrid(t)
	events := []providerfake.SendGridEvent{{Email: "p@example.com", Event: "unsubscribe", SGEventID: "ev1",
		CustomArgs: map[string]string{"ref": "msg-1"}}}
	body, sig, ts := fake.SignedEvents(events)
	v, err := sendgrid.NewEventVerifier(fake.EventWebhookPublicKey())
	if err != nil {
		t.Fatalf("NewEventVerifier: %v", err)
	}
	otherV, _ := sendgrid.NewEventVerifier(other.EventWebhookPublicKey())

	tests := []struct {
		name          string
		verifier      *sendgrid.EventVerifier
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

func TestNewEventVerifierKeyFormats(t *testing.T) {
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
		if _, err := sendgrid.NewEventVerifier(tt.key); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	v, _ := sendgrid.NewEventVerifier(pemKey)
	body, sig, ts := fake.SignedEvents([]providerfake.SendGridEvent{{Event: "open", SGEventID: "e"}})
	if err := v.Verify(body, sig, ts); err != nil {
		t.Fatalf("PEM-loaded key: %v", err)
	}
}

func TestParseEvents(t *testing.T) {
	t.Parallel()
	// The same event delivered 46 times parses 46 times: deduplication on
	// sg_event_id is the caller's, and the id is kept for it.
	repeated := "[" + strings.TrimSuffix(strings.Repeat(
		`{"email":"p@example.com","timestamp":1741000000,"event":"bounce","type":"blocked","sg_event_id":"same","sg_message_id":"XID.filter1.0","ref":"msg-1","category":["a"]},`, 46), ",") + "]"
	events, err := sendgrid.ParseEvents([]byte(repeated))
	if err != nil || len(events) != 46 {
		t.Fatalf("ParseEvents: %d events, %v", len(events), err)
	}
	e := events[45]
	if e.SGEventID != "same" || e.Ref != "msg-1" || e.Type != "blocked" || e.MessageID() != "XID" || e.Event != "bounce" {
		t.Fatalf("event = %+v", e)
	}

	ok, err := sendgrid.ParseEvents([]byte(`[{"event":"open","sg_event_id":"e","ref":42,"timestamp":1741000000.5}]`))
	if err != nil || ok[0].Ref != "" || ok[0].Timestamp.Unix() != 1741000000 {
		t.Fatalf("non-string ref must be ignored: %+v %v", ok, err)
	}

	bad := map[string]string{
		"not an array":       `{"event":"open"}`,
		"missing event id":   `[{"event":"open"}]`,
		"missing event name": `[{"sg_event_id":"e"}]`,
		"bad timestamp":      `[{"event":"open","sg_event_id":"e","timestamp":"yesterday"}]`,
	}
	for name, body := range bad {
		if _, err := sendgrid.ParseEvents([]byte(body)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/notify/twilio"
)

// Twilio's published signature example (its webhook security guide): this
// URL, token and form must give this signature.
var (
	vectorURL    = "https://mycompany.com/myapp.php?foo=1&bar=2"
	vectorToken  = "12345"
	vectorSig    = "vOEb5UThFn24KEfnOFLQY2AE5FY="
	vectorParams = map[string]string{
		"Digits": "1234", "CallSid": "CA1234567890ABCDE", "To": "+18005551212",
		"Caller": "+14158675309", "From": "+14158675309",
		"ReasonConferenceEnded": "test", "Reason": "Participant",
	}
)

func TestWebhooksVector(t *testing.T) {
	t.Parallel()
	tampered := map[string]string{}
	for k, v := range vectorParams {
		tampered[k] = v
	}
	tampered["Digits"] = "1235"
	form := url.Values{}
	for k, v := range vectorParams {
		form.Set(k, v)
	}
	repeated := url.Values{}
	for k, v := range form {
		repeated[k] = append([]string(nil), v...)
	}
	repeated.Add("Digits", "1234")

	tests := []struct {
		name  string
		token string
		url   string
		valid func(*twilio.Webhooks) bool
		want  bool
	}{
		{"published vector", vectorToken, vectorURL, func(v *twilio.Webhooks) bool {
			return v.Validate(vectorURL, vectorParams, vectorSig)
		}, true},
		{"same vector as a form", vectorToken, vectorURL, func(v *twilio.Webhooks) bool {
			return v.ValidateForm(vectorURL, form, vectorSig)
		}, true},
		{"tampered parameter", vectorToken, vectorURL, func(v *twilio.Webhooks) bool {
			return v.Validate(vectorURL, tampered, vectorSig)
		}, false},
		{"other URL", vectorToken, vectorURL, func(v *twilio.Webhooks) bool {
			return v.Validate("https://mycompany.com/myapp.php?foo=1&bar=3", vectorParams, vectorSig)
		}, false},
		{"other auth token", "54321", vectorURL, func(v *twilio.Webhooks) bool {
			return v.Validate(vectorURL, vectorParams, vectorSig)
		}, false},
		{"missing signature", vectorToken, vectorURL, func(v *twilio.Webhooks) bool {
			return v.Validate(vectorURL, vectorParams, "")
		}, false},
		{"repeated key", vectorToken, vectorURL, func(v *twilio.Webhooks) bool {
			return v.ValidateForm(vectorURL, repeated, vectorSig)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.valid(twilio.NewWebhooks(tt.token)); got != tt.want {
				t.Fatalf("valid = %v, want %v", got, tt.want)
			}
		})
	}
}

// The fake's callbacks, signed independently of the SDK, pass the SDK-based
// validator, and read back to the message the adapter sent and its ref.
func TestStatusCallbackFromFakeValidatesAndParses(t *testing.T) {
	t.Parallel()
	fake := providerfake.NewTwilio(t)
	s := newSender(t, fake, nil)
	res := s.SendSMS(context.Background(), notify.SMS{Ref: "msg-7", To: parentPhone, Body: "hi"})
	if res.Err != nil {
		t.Fatalf("SendSMS: %v", res.Err)
	}

	req, err := fake.StatusCallbackFor(res.ProviderID, "undelivered", 30006)
	if err != nil {
		t.Fatalf("StatusCallbackFor: %v", err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	w := twilio.NewWebhooks(fake.AuthToken)
	// The callback URL carries the message's ref, inside what Twilio signs.
	want := callbackURL + "?ref=msg-7"
	if req.URL.String() != want {
		t.Fatalf("callback to %s, want %s", req.URL, want)
	}
	events, err := w.DeliveryEvents(notify.WebhookRequest{URL: want, Header: req.Header, Body: body}, time.Now())
	if err != nil {
		t.Fatalf("DeliveryEvents: %v", err)
	}
	wantEvent := notify.DeliveryEvent{Provider: "twilio", Kind: "undelivered", MessageID: res.ProviderID, Ref: "msg-7",
		Outcome: notify.OutcomeFailed, ErrorCode: "30006"}
	if len(events) != 1 || events[0] != wantEvent {
		t.Fatalf("events = %+v, want [%+v]", events, wantEvent)
	}
	if twilio.CallbackErrorKind(30006) != notify.KindRecipientInvalid {
		t.Fatalf("30006 (landline) must mark the recipient invalid")
	}

	form, _ := url.ParseQuery(string(body))
	forged := url.Values{}
	for k, vs := range form {
		forged[k] = vs
	}
	forged.Set("MessageStatus", "delivered")
	sig := req.Header.Get(twilio.SignatureHeader)
	if w.ValidateForm(want, forged, sig) {
		t.Fatal("a callback whose status was changed after signing validated")
	}
	if _, err := w.DeliveryEvents(notify.WebhookRequest{URL: want, Header: req.Header, Body: []byte(forged.Encode())}, time.Now()); !errors.Is(err, notify.ErrWebhookUnsigned) {
		t.Fatalf("forged status: %v, want unsigned", err)
	}
	if _, err := twilio.NewWebhooks("someoneelse").DeliveryEvents(notify.WebhookRequest{URL: want, Header: req.Header, Body: body},
		time.Now()); !errors.Is(err, notify.ErrWebhookUnsigned) {
		t.Fatalf("a callback validated under another account's token: %v", err)
	}
}

// Statuses map to outcomes; an error code is kept with a failure only.
func TestStatusCallbackOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status string
		code   int
		want   notify.DeliveryOutcome
		kept   string
	}{
		{"queued", 0, notify.OutcomeNone, ""},
		{"sending", 0, notify.OutcomeNone, ""},
		{"sent", 0, notify.OutcomeSent, ""},
		{"delivered", 0, notify.OutcomeDelivered, ""},
		{"read", 0, notify.OutcomeDelivered, ""},
		{"undelivered", 30003, notify.OutcomeFailed, "30003"},
		{"failed", 0, notify.OutcomeFailed, ""},
		{"sent", 30006, notify.OutcomeSent, ""},
	}
	w := twilio.NewWebhooks(providerfake.FakeTwilioAuthToken)
	for _, tt := range tests {
		form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {tt.status}}
		if tt.code != 0 {
			form.Set("ErrorCode", strconv.Itoa(tt.code))
		}
		events, err := w.DeliveryEvents(signedForm(callbackURL, form), time.Now())
		if err != nil || len(events) != 1 || events[0].Outcome != tt.want || events[0].ErrorCode != tt.kept || events[0].Ref != "" {
			t.Errorf("%s %d: %+v %v, want %q %q", tt.status, tt.code, events, err, tt.want, tt.kept)
		}
	}
}

func TestStatusCallbackRejectsIncompleteForms(t *testing.T) {
	t.Parallel()
	tests := map[string]url.Values{
		"no sid":           {"MessageStatus": {"sent"}},
		"no status":        {"MessageSid": {"SM1"}},
		"non-numeric code": {"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"x"}},
	}
	w := twilio.NewWebhooks(providerfake.FakeTwilioAuthToken)
	for name, form := range tests {
		if _, err := w.DeliveryEvents(signedForm(callbackURL, form), time.Now()); !errors.Is(err, notify.ErrWebhookInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	notForm := signedForm(callbackURL, url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"sent"}})
	notForm.Header.Set("Content-Type", "application/json")
	if _, err := w.DeliveryEvents(notForm, time.Now()); !errors.Is(err, notify.ErrWebhookUnsigned) {
		t.Errorf("a body that is not a form: %v, want unsigned", err)
	}
}

// signedForm is a status callback to target signed with the fake's token.
func signedForm(target string, form url.Values) notify.WebhookRequest {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set(twilio.SignatureHeader, providerfake.TwilioSignature(providerfake.FakeTwilioAuthToken, target, form))
	return notify.WebhookRequest{URL: target, Header: h, Body: []byte(form.Encode())}
}

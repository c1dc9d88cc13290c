package twilio_test

import (
	"context"
	"net/url"
	"testing"

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

func TestWebhookValidatorVector(t *testing.T) {
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
		valid func(*twilio.WebhookValidator) bool
		want  bool
	}{
		{"published vector", vectorToken, vectorURL, func(v *twilio.WebhookValidator) bool {
			return v.Validate(vectorURL, vectorParams, vectorSig)
		}, true},
		{"same vector as a form", vectorToken, vectorURL, func(v *twilio.WebhookValidator) bool {
			return v.ValidateForm(vectorURL, form, vectorSig)
		}, true},
		{"tampered parameter", vectorToken, vectorURL, func(v *twilio.WebhookValidator) bool {
			return v.Validate(vectorURL, tampered, vectorSig)
		}, false},
		{"other URL", vectorToken, vectorURL, func(v *twilio.WebhookValidator) bool {
			return v.Validate("https://mycompany.com/myapp.php?foo=1&bar=3", vectorParams, vectorSig)
		}, false},
		{"other auth token", "54321", vectorURL, func(v *twilio.WebhookValidator) bool {
			return v.Validate(vectorURL, vectorParams, vectorSig)
		}, false},
		{"missing signature", vectorToken, vectorURL, func(v *twilio.WebhookValidator) bool {
			return v.Validate(vectorURL, vectorParams, "")
		}, false},
		{"repeated key", vectorToken, vectorURL, func(v *twilio.WebhookValidator) bool {
			return v.ValidateForm(vectorURL, repeated, vectorSig)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.valid(twilio.NewWebhookValidator(tt.token)); got != tt.want {
				t.Fatalf("valid = %v, want %v", got, tt.want)
			}
		})
	}
}

// The fake's callbacks, signed independently of the SDK, pass the SDK-based
// validator, and parse back to the message the adapter sent.
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
	if err := req.ParseForm(); err != nil {
		t.Fatalf("ParseForm: %v", err)
	}
	v := twilio.NewWebhookValidator(fake.AuthToken)
	sig := req.Header.Get(twilio.SignatureHeader)
	// The callback URL carries the message's ref, inside what Twilio signs.
	want := callbackURL + "?ref=msg-7"
	if req.URL.String() != want || !v.ValidateForm(want, req.PostForm, sig) {
		t.Fatalf("signed callback to %s did not validate", req.URL)
	}
	cb, err := twilio.ParseStatusCallback(req.PostForm)
	if err != nil {
		t.Fatalf("ParseStatusCallback: %v", err)
	}
	if cb.MessageSID != res.ProviderID || cb.MessageStatus != "undelivered" || cb.ErrorCode != 30006 {
		t.Fatalf("callback = %+v", cb)
	}
	if twilio.CallbackErrorKind(cb.ErrorCode) != notify.KindRecipientInvalid {
		t.Fatalf("30006 (landline) must mark the recipient invalid")
	}

	forged := url.Values{}
	for k, vs := range req.PostForm {
		forged[k] = vs
	}
	forged.Set("MessageStatus", "delivered")
	if v.ValidateForm(callbackURL, forged, sig) {
		t.Fatal("a callback whose status was changed after signing validated")
	}
	if twilio.NewWebhookValidator("someoneelse").ValidateForm(callbackURL, req.PostForm, sig) {
		t.Fatal("a callback validated under another account's token")
	}
}

func TestParseStatusCallbackRejectsIncompleteForms(t *testing.T) {
	t.Parallel()
	tests := map[string]url.Values{
		"no sid":           {"MessageStatus": {"sent"}},
		"no status":        {"MessageSid": {"SM1"}},
		"non-numeric code": {"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"x"}},
	}
	for name, form := range tests {
		if _, err := twilio.ParseStatusCallback(form); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

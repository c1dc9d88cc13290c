package twilio

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/hometime-edu/hometime/notify"
)

// SignatureHeader carries Twilio's webhook signature.
const SignatureHeader = "X-Twilio-Signature"

// Webhooks checks and reads Twilio's webhooks: status callbacks and
// inbound messages, signed with the account's auth token.
type Webhooks struct {
	v client.RequestValidator
}

var _ notify.DeliveryWebhook = (*Webhooks)(nil)

// NewWebhooks returns the webhook reader for the account's auth token.
func NewWebhooks(authToken string) *Webhooks {
	return &Webhooks{v: client.NewRequestValidator(authToken)}
}

// Validate reports whether signature matches the full public URL Twilio
// called (scheme, host, path and query exactly as configured at Twilio) and
// the POSTed form parameters. An empty signature never validates.
func (w *Webhooks) Validate(fullURL string, params map[string]string, signature string) bool {
	if signature == "" {
		return false
	}
	return w.v.Validate(fullURL, params, signature)
}

// ValidateForm is Validate for a parsed form. Twilio's callbacks carry one
// value per key; a form repeating a key is rejected rather than guessed at.
func (w *Webhooks) ValidateForm(fullURL string, form url.Values, signature string) bool {
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) != 1 {
			return false
		}
		params[k] = vs[0]
	}
	return w.Validate(fullURL, params, signature)
}

// SignedForm returns the form of a request Twilio signed, for every Twilio
// webhook. Twilio signs the URL it was told to call followed by every form
// parameter; a body that is not a form cannot carry a valid signature. The
// error wraps notify.ErrWebhookUnsigned.
func (w *Webhooks) SignedForm(req notify.WebhookRequest) (url.Values, error) {
	ct := strings.ToLower(req.Header.Get("Content-Type"))
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, fmt.Errorf("twilio webhook: not a form: %w", notify.ErrWebhookUnsigned)
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil || !w.ValidateForm(req.URL, form, req.Header.Get(SignatureHeader)) {
		return nil, fmt.Errorf("twilio webhook: %w", notify.ErrWebhookUnsigned)
	}
	return form, nil
}

// DeliveryEvents reads a signed status callback: one event, about the
// message its MessageSid names, whose Ref is the "ref" the sender put in
// the callback URL (callbackFor), inside what Twilio signs. Statuses
// before "sent" (queued, accepted, scheduled, sending) prove nothing: an
// entry is sent once Twilio accepted it. A failure keeps Twilio's
// ErrorCode (30003, 30005 and 30006 say the number is unreachable, unknown
// or a landline; CallbackErrorKind sorts them). The event has no EventID:
// a callback applied twice changes nothing, since states only rise.
func (w *Webhooks) DeliveryEvents(req notify.WebhookRequest, _ time.Time) ([]notify.DeliveryEvent, error) {
	form, err := w.SignedForm(req)
	if err != nil {
		return nil, err
	}
	e := notify.DeliveryEvent{
		Provider:  "twilio",
		Kind:      form.Get("MessageStatus"),
		MessageID: form.Get("MessageSid"),
	}
	if e.MessageID == "" || e.Kind == "" {
		return nil, fmt.Errorf("twilio status callback: MessageSid and MessageStatus are required: %w", notify.ErrWebhookInvalid)
	}
	var code int
	if v := form.Get("ErrorCode"); v != "" {
		if code, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("twilio status callback: ErrorCode is not a number: %w", notify.ErrWebhookInvalid)
		}
	}
	switch e.Kind {
	case "sent":
		e.Outcome = notify.OutcomeSent
	case "delivered", "read":
		e.Outcome = notify.OutcomeDelivered
	case "undelivered", "failed":
		e.Outcome = notify.OutcomeFailed
		if code != 0 {
			e.ErrorCode = strconv.Itoa(code)
		}
	}
	if u, err := url.Parse(req.URL); err == nil {
		e.Ref = u.Query().Get("ref")
	}
	return []notify.DeliveryEvent{e}, nil
}

package twilio

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/twilio/twilio-go/client"
)

// SignatureHeader carries Twilio's webhook signature.
const SignatureHeader = "X-Twilio-Signature"

// WebhookValidator checks X-Twilio-Signature on status callbacks and
// inbound-message webhooks.
type WebhookValidator struct {
	v client.RequestValidator
}

// NewWebhookValidator returns a validator for the account's auth token.
func NewWebhookValidator(authToken string) *WebhookValidator {
	return &WebhookValidator{v: client.NewRequestValidator(authToken)}
}

// Validate reports whether signature matches the full public URL Twilio
// called (scheme, host, path and query exactly as configured at Twilio) and
// the POSTed form parameters. An empty signature never validates.
func (w *WebhookValidator) Validate(fullURL string, params map[string]string, signature string) bool {
	if signature == "" {
		return false
	}
	return w.v.Validate(fullURL, params, signature)
}

// ValidateForm is Validate for a parsed form. Twilio's callbacks carry one
// value per key; a form repeating a key is rejected rather than guessed at.
func (w *WebhookValidator) ValidateForm(fullURL string, form url.Values, signature string) bool {
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) != 1 {
			return false
		}
		params[k] = vs[0]
	}
	return w.Validate(fullURL, params, signature)
}

// StatusCallback is the part of a Twilio status callback the pipeline uses.
type StatusCallback struct {
	MessageSID    string
	MessageStatus string // queued, sending, sent, delivered, undelivered, failed, …
	ErrorCode     int    // 0 when absent
}

// ParseStatusCallback reads a (validated) status callback form.
func ParseStatusCallback(form url.Values) (StatusCallback, error) {
	cb := StatusCallback{
		MessageSID:    form.Get("MessageSid"),
		MessageStatus: form.Get("MessageStatus"),
	}
	if cb.MessageSID == "" || cb.MessageStatus == "" {
		return StatusCallback{}, errors.New("twilio status callback: MessageSid and MessageStatus are required")
	}
	if v := form.Get("ErrorCode"); v != "" {
		code, err := strconv.Atoi(v)
		if err != nil {
			return StatusCallback{}, errors.New("twilio status callback: ErrorCode is not a number")
		}
		cb.ErrorCode = code
	}
	return cb, nil
}

package sendgrid

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/internal/providerkit"
)

// statusError sorts a non-2xx answer. SendGrid answers errors for the
// whole request: 429 was never processed, 5xx was not accepted, 4xx will
// not improve by retrying (bad request, bad key, unverified sender, too large).
func (s *Sender) statusError(resp *rest.Response) *notify.SendError {
	se := &notify.SendError{
		Code: "http_" + strconv.Itoa(resp.StatusCode),
		Err:  fmt.Errorf("sendgrid HTTP %d: %s", resp.StatusCode, describeErrors(resp.Body)),
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		se.Kind = notify.KindRateLimited
		se.RetryAfter = s.retryAfter(http.Header(resp.Headers))
	case resp.StatusCode >= 500:
		se.Kind = notify.KindTransient
	default:
		se.Kind = notify.KindPermanent
	}
	return se
}

// retryAfter prefers Retry-After, else X-RateLimit-Reset (Unix seconds).
func (s *Sender) retryAfter(h http.Header) time.Duration {
	now := s.now()
	if d := providerkit.RetryAfter(h.Get("Retry-After"), now); d > 0 {
		return d
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil {
			if t := time.Unix(unix, 0); t.After(now) {
				return t.Sub(now)
			}
		}
	}
	return 0
}

// describeErrors summarises {"errors":[{"message","field"}]} with addresses
// redacted: SendGrid's messages can quote the recipient.
func describeErrors(body string) string {
	var e struct {
		Errors []struct {
			Message string  `json:"message"`
			Field   *string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || len(e.Errors) == 0 {
		return "no error details"
	}
	parts := make([]string, 0, len(e.Errors))
	for _, x := range e.Errors {
		msg := providerkit.Redact(x.Message)
		if x.Field != nil && *x.Field != "" {
			msg = *x.Field + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

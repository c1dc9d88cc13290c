// Package providerkit holds what every provider adapter (notify/twilio,
// notify/sendgrid, notify/fcm) does the same way: reading how long a
// provider asks us to wait, naming a failure that got no answer, and
// taking personal data out of a provider's error text.
package providerkit

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// RetryAfter reads a Retry-After header at now: delay-seconds or an HTTP
// date. It is 0 when the header is absent, unreadable or in the past.
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// NetworkCode is the SendError code of a call that got no answer:
// "timeout" when the error says it timed out, else "network".
func NetworkCode(err error) string {
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return "timeout"
	}
	return "network"
}

// personal matches anything in a provider's message that could be a phone
// number or an email address.
var personal = regexp.MustCompile(`\+?[0-9][0-9 ()\-]{5,}[0-9]|\S+@\S+`)

// Redact replaces phone numbers and email addresses in a provider's
// message with "[redacted]": providers quote the recipient in their
// errors, and errors reach logs.
func Redact(s string) string { return personal.ReplaceAllString(s, "[redacted]") }

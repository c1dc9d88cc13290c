package providerkit

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":     0,
		"7":    7 * time.Second,
		"0":    0,
		"-3":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	}
	for v, want := range tests {
		if got := RetryAfter(v, now); got != want {
			t.Errorf("RetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestNetworkCode(t *testing.T) {
	t.Parallel()
	if c := NetworkCode(os.ErrDeadlineExceeded); c != "timeout" {
		t.Errorf("deadline: %q", c)
	}
	if c := NetworkCode(context.DeadlineExceeded); c != "timeout" {
		t.Errorf("context deadline: %q", c)
	}
	if c := NetworkCode(errors.New("connection refused")); c != "network" {
		t.Errorf("refused: %q", c)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"The 'To' number +447700900123 is not a valid phone number.": "The 'To' number [redacted] is not a valid phone number.",
		"Invalid number 07700 900123":                                "Invalid number [redacted]",
		"does not contain a valid address: parent.one@example.com":   "does not contain a valid address: [redacted]",
		"error 21211 at 10:00":                                       "error 21211 at 10:00",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// The transport under each send carries one request at most, so nothing
// below the SDK can repeat a non-idempotent POST.
func TestCallTransportRefusesSecondAttempt(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/prefix/2010-04-01/x" || "http://"+r.Host != srv.URL {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL + "/prefix")
	call := &callTransport{ctx: context.Background(), base: base, next: http.DefaultTransport}
	c := &http.Client{Transport: call}

	resp, err := c.Post("https://api.twilio.com/2010-04-01/x", "text/plain", strings.NewReader("a"))
	if err != nil {
		t.Fatalf("first POST: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || call.status != http.StatusCreated || !call.wrote.Load() {
		t.Fatalf("first POST: status %d, recorded %d, wrote %v", resp.StatusCode, call.status, call.wrote.Load())
	}
	if _, err := c.Post("https://api.twilio.com/2010-04-01/x", "text/plain", strings.NewReader("a")); !errors.Is(err, errSecondAttempt) {
		t.Fatalf("second POST: err = %v, want errSecondAttempt", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("server saw %d requests, want 1", hits.Load())
	}
}

package providerfake

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// HangMode says whether, and when, a fake stops answering a request.
type HangMode int

const (
	// NoHang answers normally.
	NoHang HangMode = iota
	// HangBeforeAccept never answers and does not accept the message: the
	// client sees a timeout although nothing was sent.
	HangBeforeAccept
	// HangAfterAccept records the message as accepted, then never answers:
	// the client sees a timeout although the message went out. This is the
	// ambiguous send that must never be blindly retried.
	HangAfterAccept
)

// Fault is a failure injected into the next requests a fake receives.
type Fault struct {
	Status     int           // answer with this HTTP status (e.g. 429, 500, 503) in the provider's error format
	RetryAfter time.Duration // sets Retry-After (whole seconds) when > 0
	Hang       HangMode      // used when Status is 0
}

// Status answers with an HTTP status in the provider's error format.
func Status(code int) Fault { return Fault{Status: code} }

// TooManyRequests answers 429 with a Retry-After header.
func TooManyRequests(retryAfter time.Duration) Fault {
	return Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
}

// Hang never answers and accepts nothing.
func Hang() Fault { return Fault{Hang: HangBeforeAccept} }

// AcceptThenHang accepts the message, then never answers.
func AcceptThenHang() Fault { return Fault{Hang: HangAfterAccept} }

// control is the fault queue, rate cap and clock shared by every fake.
type control struct {
	mu          sync.Mutex
	faults      []Fault
	limit       int // messages per second; 0 = no cap
	admitted    []time.Time
	rateLimited int
	requests    int
	now         func() time.Time
	closed      chan struct{} // closed at cleanup to release hung handlers
	hanging     chan struct{}
}

func newControl() *control {
	return &control{now: time.Now, closed: make(chan struct{}), hanging: make(chan struct{}, 1024)}
}

// Hanging receives one value each time a request starts hanging (after the
// message was recorded, accepted or not), so a test can act at that moment
// instead of sleeping.
func (c *control) Hanging() <-chan struct{} { return c.hanging }

// FailNext makes the next n requests fail with f, in arrival order.
func (c *control) FailNext(n int, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		c.faults = append(c.faults, f)
	}
}

// LimitRate caps accepted messages per second (sliding one-second window);
// messages above the cap get the provider's 429 and are counted by
// RateLimited. perSecond <= 0 removes the cap.
func (c *control) LimitRate(perSecond int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit = perSecond
	c.admitted = nil
}

// SetClock replaces the clock used by the rate cap and by signed callbacks,
// so tests can freeze or step time.
func (c *control) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

// RateLimited is how many requests the rate cap refused.
func (c *control) RateLimited() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rateLimited
}

// Requests is how many HTTP requests reached the send endpoint.
func (c *control) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

func (c *control) clock() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}

func (c *control) countRequest() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
}

// nextFault pops the next injected fault, if any.
func (c *control) nextFault() (Fault, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.faults) == 0 {
		return Fault{}, false
	}
	f := c.faults[0]
	c.faults = c.faults[1:]
	return f, true
}

// admit applies the rate cap to n messages arriving together. It returns
// false (and counts a refusal) when they would exceed the cap.
func (c *control) admit(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit <= 0 {
		return true
	}
	now := c.now()
	cutoff := now.Add(-time.Second)
	kept := c.admitted[:0]
	for _, t := range c.admitted {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	c.admitted = kept
	if len(c.admitted)+n > c.limit {
		c.rateLimited++
		return false
	}
	for range n {
		c.admitted = append(c.admitted, now)
	}
	return true
}

// hang blocks until the client gives up or the fake shuts down, then aborts
// the connection without a response.
func (c *control) hang(r *http.Request) {
	select {
	case c.hanging <- struct{}{}:
	default:
	}
	select {
	case <-r.Context().Done():
	case <-c.closed:
	}
	panic(http.ErrAbortHandler)
}

func (c *control) close() { close(c.closed) }

// serve starts the fake's server and returns its URL. When the test ends
// it releases hung handlers, then stops the server.
func (c *control) serve(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		c.close()
		srv.Close()
	})
	return srv.URL
}

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		secs := int((d + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
}

// randomHex returns n random bytes hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("providerfake: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    string // the prefixes, space-separated; "" with wantErr
		wantErr bool
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: " 10.0.0.0/8 , 192.0.2.7,fd00::/8 ", want: "10.0.0.0/8 192.0.2.7/32 fd00::/8"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "", want: ""},
		{in: "10.0.0.0/33", wantErr: true},
		{in: "lb.internal", wantErr: true},
		{in: "10.0.0.0/8;192.0.2.0/24", wantErr: true},
		{in: "0.0.0.0/0", wantErr: true},
		{in: "::/0", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
	}
	for _, tc := range cases {
		got, err := ParseTrustedProxies(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%q: no error, got %v", tc.in, got)
			}
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if err != nil || strings.Join(s, " ") != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.in, s, err, tc.want)
		}
	}
}

// TestResolveClientIP: the header is believed only from a trusted peer,
// and then only up to the first address that is not a trusted proxy,
// counted from the right.
func TestResolveClientIP(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	cases := []struct {
		name   string
		peer   netip.Addr
		header []string
		want   string
	}{
		{"no header", a("203.0.113.9"), nil, "203.0.113.9"},
		{"untrusted peer: the header is ignored", a("203.0.113.9"), []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer claiming a proxy's address", a("203.0.113.9"), []string{"10.0.0.5"}, "203.0.113.9"},
		{"trusted peer", a("10.0.0.1"), []string{"203.0.113.7"}, "203.0.113.7"},
		{"spoofed left-most value", a("10.0.0.1"), []string{"6.6.6.6, 203.0.113.7"}, "203.0.113.7"},
		{"many spoofed values", a("10.0.0.1"), []string{"1.1.1.1, 2.2.2.2, 3.3.3.3, 203.0.113.7"}, "203.0.113.7"},
		{"spoofed trusted address on the left", a("10.0.0.1"), []string{"10.9.9.9, 203.0.113.7"}, "203.0.113.7"},
		{"two proxies", a("10.0.0.1"), []string{"203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"two proxies, spoofed left", a("10.0.0.1"), []string{"6.6.6.6, 203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"every address trusted: the left-most", a("10.0.0.1"), []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"header split over two lines", a("10.0.0.1"), []string{"6.6.6.6", "203.0.113.7"}, "203.0.113.7"},
		{"empty header", a("10.0.0.1"), []string{""}, "10.0.0.1"},
		{"empty list elements", a("10.0.0.1"), []string{" , 203.0.113.7 ,, "}, "203.0.113.7"},
		{"with a port", a("10.0.0.1"), []string{"203.0.113.7:51234"}, "203.0.113.7"},
		{"IPv6 with a port", a("10.0.0.1"), []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"IPv6 in brackets", a("10.0.0.1"), []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"quoted", a("10.0.0.1"), []string{`"203.0.113.7"`}, "203.0.113.7"},
		{"IPv6 zone dropped", a("10.0.0.1"), []string{"fe80::1%eth0"}, "fe80::1"},
		{"IPv4-mapped client", a("10.0.0.1"), []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"IPv4-mapped trusted peer", a("::ffff:10.0.0.1"), []string{"203.0.113.7"}, "203.0.113.7"},
		{"IPv6 proxy", a("fd00::1"), []string{"2001:db8:1:2::7"}, "2001:db8:1:2::7"},
		{"malformed right-most: the proxy", a("10.0.0.1"), []string{"203.0.113.7, junk"}, "10.0.0.1"},
		{"malformed after a trusted hop", a("10.0.0.1"), []string{"203.0.113.7, unknown, 10.0.0.2"}, "10.0.0.2"},
		{"malformed left of the client", a("10.0.0.1"), []string{"junk, 203.0.113.7"}, "203.0.113.7"},
		{"not an address", a("10.0.0.1"), []string{"203.0.113.7/24"}, "10.0.0.1"},
		{"obfuscated identifier", a("10.0.0.1"), []string{"_hidden"}, "10.0.0.1"},
		{"no peer address", netip.Addr{}, []string{"203.0.113.7"}, "invalid IP"},
	}
	for _, tc := range cases {
		var header [][]byte
		for _, h := range tc.header {
			header = append(header, []byte(h))
		}
		if got := resolveClientIP(tc.peer, header, trusted).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		// Without trusted proxies no header is believed.
		if got := resolveClientIP(tc.peer, header, nil); got != tc.peer.Unmap() {
			t.Errorf("%s, nothing trusted: %s, want the peer", tc.name, got)
		}
	}
}

// TestThrottleAddr: IPv4 clients count per address, IPv6 clients per /64.
func TestThrottleAddr(t *testing.T) {
	t.Parallel()
	key := func(s string) string { return throttleAddr(netip.MustParseAddr(s)) }
	same := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"},
	}
	for _, p := range same {
		if key(p[0]) != key(p[1]) {
			t.Errorf("%s and %s are one /64 but count apart: %s, %s", p[0], p[1], key(p[0]), key(p[1]))
		}
	}
	apart := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"203.0.113.7", "203.0.113.8"},
		{"::ffff:203.0.113.7", "203.0.113.8"},
	}
	for _, p := range apart {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%s and %s count together: %s", p[0], p[1], key(p[0]))
		}
	}
	if got := key("203.0.113.7"); got != "203.0.113.7" {
		t.Errorf("IPv4 key %s", got)
	}
	if got := key("2001:db8:1:2:aaaa::1"); got != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 key %s", got)
	}
}

// recordingAudit keeps audit events as the API writes them.
type recordingAudit struct {
	content.Audit
	mu     sync.Mutex
	events []content.AuditEvent
}

func (a *recordingAudit) RecordAudit(ctx context.Context, e *content.AuditEvent) error {
	a.mu.Lock()
	a.events = append(a.events, *e)
	a.mu.Unlock()
	return a.Audit.RecordAudit(ctx, e)
}

// TestClientIPBehindProxy goes through a real socket from 127.0.0.1, the
// trusted proxy. Forty failed invite redemptions from one real client,
// each with a different spoofed left-most X-Forwarded-For value, are
// throttled from the 21st (20 failures per 15 minutes per client), while
// another client is not; IPv6 clients of one /64 count together; a peer
// that is not a trusted proxy has its header ignored; audit events record
// the real client.
func TestClientIPBehindProxy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	audit := &recordingAudit{Audit: h.store}
	h.deps.Audit = audit
	h.deps.ProxyHeader = "X-Forwarded-For"
	h.deps.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	h.app = mustNew(t, h.deps)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.app.Listener(ln) }()
	t.Cleanup(func() { _ = h.app.Shutdown() })
	base := "http://" + ln.Addr().String()
	client := &http.Client{}

	post := func(path string, body any, xff string) (int, []byte) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		vreq, _ := http.NewRequest("POST", path, bytes.NewReader(raw))
		vreq.Header = req.Header.Clone()
		checkContract(t, vreq, raw, resp, out)
		return resp.StatusCode, out
	}
	redeem := func(xff string) int {
		t.Helper()
		status, out := post("/v1/invites/redeem", redeemBody(content.NewInviteCode(), "new.parent@example.test"), xff)
		if status != http.StatusBadRequest && status != http.StatusTooManyRequests {
			t.Fatalf("wrong code: %d %s", status, out)
		}
		return status
	}
	limit := int(DefaultLimits.RedeemPerIP.Max)
	if limit != 20 {
		t.Fatalf("RedeemPerIP is %d, this test expects 20", limit)
	}

	t.Run("spoofed left-most values, one real client", func(t *testing.T) {
		for i := 1; i <= 40; i++ {
			// The proxy appends the address it saw; the client wrote the rest.
			status := redeem(fmt.Sprintf("198.51.100.%d, 203.0.113.50", i))
			if want := http.StatusBadRequest; i <= limit && status != want {
				t.Fatalf("attempt %d: %d, want %d", i, status, want)
			}
			if i > limit && status != http.StatusTooManyRequests {
				t.Fatalf("attempt %d: %d, want 429", i, status)
			}
		}
		// Another client behind the same proxy is not held up.
		if status := redeem("198.51.100.1, 203.0.113.51"); status != http.StatusBadRequest {
			t.Fatalf("another client: %d, want 400", status)
		}
	})

	t.Run("IPv6 clients of one /64 count together", func(t *testing.T) {
		for i := 1; i <= limit+1; i++ {
			status := redeem(fmt.Sprintf("2001:db8:aa:bb:%x::%x", i, i))
			if i <= limit && status != http.StatusBadRequest {
				t.Fatalf("attempt %d: %d, want 400", i, status)
			}
			if i > limit && status != http.StatusTooManyRequests {
				t.Fatalf("attempt %d from the same /64: %d, want 429", i, status)
			}
		}
		if status := redeem("2001:db8:aa:bc::1"); status != http.StatusBadRequest {
			t.Fatalf("another /64: %d, want 400", status)
		}
	})

	t.Run("audit records the real client", func(t *testing.T) {
		status, out := post("/v1/auth/login", map[string]string{"email": "nobody@example.test", "password": "not-the-password-1"},
			"192.0.2.200, 2001:db8:cafe::17")
		if status != http.StatusUnauthorized {
			t.Fatalf("sign-in: %d %s", status, out)
		}
		audit.mu.Lock()
		defer audit.mu.Unlock()
		var got []string
		for _, e := range audit.events {
			if e.Action == "auth.login_failed" {
				got = append(got, e.IP)
			}
		}
		if len(got) != 1 || got[0] != "2001:db8:cafe::17" {
			t.Fatalf("audit IPs %q, want the client's full address", got)
		}
		if strings.Contains(h.logBuf.String(), "2001:db8:cafe::17") || strings.Contains(h.logBuf.String(), "203.0.113.50") {
			t.Error("a client address is in the request log")
		}
	})

	t.Run("untrusted peer: the header is ignored", func(t *testing.T) {
		h2 := newHarness(t)
		h2.deps.ProxyHeader = "X-Forwarded-For"
		h2.deps.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		h2.app = mustNew(t, h2.deps)
		ln2, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = h2.app.Listener(ln2) }()
		t.Cleanup(func() { _ = h2.app.Shutdown() })
		for i := 1; i <= limit+1; i++ {
			raw, _ := json.Marshal(redeemBody(content.NewInviteCode(), "new.parent@example.test"))
			req, _ := http.NewRequest("POST", "http://"+ln2.Addr().String()+"/v1/invites/redeem", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			// A new "client" each time, straight from 127.0.0.1 (not a proxy).
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d, 203.0.113.%d", i, i))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if i > limit && resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("attempt %d with a new X-Forwarded-For from an untrusted peer: %d, want 429", i, resp.StatusCode)
			}
		}
	})
}

package api

import (
	"strings"
	"testing"
)

// TestMetricsAccess: the public app's /metrics is open in development,
// absent (404, like any unknown path) in production, and served only to the
// metrics token's bearer when one is set.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-0123456789abcdef0123456789"
	cases := []struct {
		name   string
		hidden bool
		token  string
		bearer string
		want   int
	}{
		{"development: open", false, "", "", 200},
		{"production: not served", true, "", "", 404},
		{"production: a bearer does not reveal it", true, "", token, 404},
		{"token: none presented", true, token, "", 401},
		{"token: wrong", true, token, token + "x", 401},
		{"token: a prefix of it", true, token, token[:20], 401},
		{"token: right", true, token, token, 200},
		{"token in development: still required", false, token, "", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.deps.MetricsHidden, h.deps.MetricsToken = c.hidden, c.token
			h.app = mustNew(t, h.deps)
			resp, body := h.do("GET", "/metrics", nil, c.bearer)
			wantStatus(t, resp, body, c.want)
			if served := strings.Contains(string(body), "go_goroutines"); served != (c.want == 200) {
				t.Fatalf("status %d but metrics served = %v", c.want, served)
			}
		})
	}
}

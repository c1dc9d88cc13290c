package api

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/hometime-edu/hometime/content"
)

// The operators' console lives under /ops, outside the app's contract: the
// queue monitor (asynqmon, given to the API as Deps.Ops and mounted at
// OpsQueuesPath) for platform operators only — staff accounts with
// Operator set, a role separate from any school's staff roles.
//
// Sign-in is its own: the page at /ops/ posts the operator's email and
// password as JSON to /ops/session (the same password check and throttles
// as every sign-in, and the staff web app's same-site checks), which sets
// the access token in an HttpOnly, Secure, SameSite=Strict cookie sent only
// under /ops. The console is therefore never reachable with the cookie of
// the staff web app (which holds a refresh token and is sent only to
// /v1/auth/web), and a school admin's token opens nothing here.
//
// CSRF: a cross-site page cannot make the browser send a SameSite=Strict
// cookie, and every request that changes something (anything but GET and
// HEAD) must also pass the same-site checks (no foreign Origin, no
// cross-site Sec-Fetch-Site). The session lasts as long as the access token
// (AccessTTL) and ends at once when the operator's sessions are revoked.
//
// Everyone but a signed-in operator gets 404 for the console (no token:
// 401), so the console's existence is not confirmed to school staff or
// parents. The console has its own Content-Security-Policy: asynqmon's page
// needs its own scripts, two inline ones (allowed by hash, computed from
// the page at start-up) and inline styles; the rest of the API keeps
// default-src 'none'.

const (
	// OpsPath is the console's prefix; OpsQueuesPath is the queue monitor's.
	OpsPath       = "/ops"
	OpsQueuesPath = "/ops/queues"
	// OpsCookie holds an operator's access token, sent only under OpsPath.
	OpsCookie = "hometime_ops"
)

// opsConsole is the mounted console: the handler and its page's policy.
type opsConsole struct {
	queues fiber.Handler
	csp    string
}

// newOpsConsole renders the monitor's page once to find its inline scripts
// and allow exactly those.
func newOpsConsole(h http.Handler) (*opsConsole, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, OpsQueuesPath+"/", nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("queue monitor page: status %d", rec.Code)
	}
	var hashes []string
	for _, m := range inlineScript.FindAllSubmatch(rec.Body.Bytes(), -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	csp := "default-src 'none'; script-src 'self' " + strings.Join(hashes, " ") +
		"; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'" +
		"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return &opsConsole{queues: adaptor.HTTPHandler(h), csp: csp}, nil
}

// inlineScript matches a <script> element without attributes and its body.
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// opsCSP is the sign-in page's policy: its own script and style only.
const opsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// ops serves everything under /ops. Mounted with Use, before the web app.
func (s *server) ops(c *fiber.Ctx) error {
	p := c.Path()
	if p != OpsPath && !strings.HasPrefix(p, OpsPath+"/") {
		return c.Next()
	}
	if s.opsConsole == nil {
		return content.Errorf(content.CodeNotFound, "no such route")
	}
	switch {
	case p == OpsPath || p == OpsPath+"/":
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			return content.Errorf(content.CodeNotFound, "no such route")
		}
		c.Set("Content-Security-Policy", opsCSP)
		c.Type("html", "utf-8")
		return c.SendString(opsSignInPage)
	case p == OpsPath+"/signin.js":
		c.Set("Content-Security-Policy", opsCSP)
		c.Type("js", "utf-8")
		return c.SendString(opsSignInScript)
	case p == OpsPath+"/session":
		switch c.Method() {
		case fiber.MethodPost:
			return s.opsSignIn(c)
		case fiber.MethodDelete:
			if err := s.sameSite(c); err != nil {
				return err
			}
			s.setOpsCookie(c, "", -1)
			return c.SendStatus(fiber.StatusNoContent)
		}
		return content.Errorf(content.CodeNotFound, "no such route")
	case p == OpsQueuesPath || strings.HasPrefix(p, OpsQueuesPath+"/"):
		if err := s.operator(c); err != nil {
			return err
		}
		if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
			if err := s.opsSameSite(c); err != nil {
				return err
			}
		}
		c.Set("Content-Security-Policy", s.opsConsole.csp)
		return s.opsConsole.queues(c)
	}
	return content.Errorf(content.CodeNotFound, "no such route")
}

// operator admits a signed-in platform operator: the cookie's token (or a
// bearer token, for scripts), a live session, and Operator set.
func (s *server) operator(c *fiber.Ctx) error {
	raw := c.Cookies(OpsCookie)
	if h, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "); ok && h != "" {
		raw = h
	}
	if raw == "" {
		return content.Errorf(content.CodeUnauthenticated, "sign in at /ops/ first")
	}
	kind, id, sid, err := s.Tokens.Verify(raw)
	if err != nil {
		return err
	}
	p, err := s.loadPrincipal(c.UserContext(), kind, id, sid)
	if err != nil {
		return err
	}
	if p.Staff == nil || !p.Staff.Operator {
		return content.Errorf(content.CodeNotFound, "no such route")
	}
	c.Locals(localPrincipal, p)
	return nil
}

// opsSameSite is sameSite without the web app's header, which asynqmon's
// own requests do not send: a foreign Origin or a cross-site fetch is
// refused.
func (s *server) opsSameSite(c *fiber.Ctx) error {
	refused := content.Errorf(content.CodeForbidden, "this request must come from the operators' console on this site")
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return refused
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" {
		if origin != c.Protocol()+"://"+string(c.Request().Host()) && !strings.HasSuffix(origin, "://"+string(c.Request().Host())) {
			return refused
		}
	}
	return nil
}

// opsSignIn checks the password like any staff sign-in and, for an
// operator, sets the console's cookie. Anyone else gets 404 and no cookie.
func (s *server) opsSignIn(c *fiber.Ctx) error {
	if err := s.sameSite(c); err != nil {
		return err
	}
	resp, err := s.passwordSignIn(c, true)
	if err != nil {
		return err
	}
	kind, id, sid, err := s.Tokens.Verify(resp.AccessToken)
	if err != nil {
		return err
	}
	p, err := s.loadPrincipal(c.UserContext(), kind, id, sid)
	if err != nil {
		return err
	}
	if p.Staff == nil || !p.Staff.Operator {
		return content.Errorf(content.CodeNotFound, "no such route")
	}
	s.setOpsCookie(c, resp.AccessToken, AccessTTL)
	s.Log.Info("operator signed in to the console", "staff_id", p.Staff.ID)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) setOpsCookie(c *fiber.Ctx, token string, ttl time.Duration) {
	ck := &fiber.Cookie{Name: OpsCookie, Value: token, Path: OpsPath, HTTPOnly: true, Secure: true, SameSite: fiber.CookieSameSiteStrictMode}
	if ttl < 0 {
		ck.Expires = time.Unix(1, 0)
	} else {
		ck.MaxAge = int(ttl.Seconds())
	}
	c.Cookie(ck)
}

var opsSignInPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hometime operators</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><script src="/ops/signin.js" defer></script></head>
<body><main><h1>Hometime operators</h1>
<form id="signin"><p><label>Email <input type="email" name="email" autocomplete="username" required></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p><p id="status" role="status"></p></form></main></body></html>
`

var opsSignInScript = strings.TrimSpace(`
document.getElementById('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await fetch('/ops/session', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-Requested-With': 'hometime-web'},
    body: JSON.stringify({email: f.get('email'), password: f.get('password')})});
  if (r.status === 204) { location.href = '/ops/queues/'; return; }
  document.getElementById('status').textContent = r.status === 429 ? 'Too many attempts; wait a while.' : 'Not signed in.';
});
`)

package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// webRequest marks a request as the staff web app's own.
func webRequest(r *http.Request) { r.Header.Set(WebRequestHeader, WebRequestValue) }

func withCookie(v string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: RefreshCookie, Value: v}) }
}

// refreshCookieOf returns the hometime_refresh cookie an answer set.
func refreshCookieOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == RefreshCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", RefreshCookie, resp.Header.Values("Set-Cookie"))
	return nil
}

// cleared: an empty cookie that has already expired, which a browser deletes.
func cleared(c *http.Cookie) bool {
	return c.Value == "" && (c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())))
}

func webLoginAs(t *testing.T, w *world, email string) (webTokenResponse, *http.Cookie) {
	t.Helper()
	resp, body := w.h.do("POST", "/v1/auth/web/login", map[string]string{"email": email, "password": fixturePassword}, "", webRequest)
	wantStatus(t, resp, body, 200)
	if strings.Contains(string(body), "refresh_token") {
		t.Fatalf("web sign-in body carries a refresh token: %s", body)
	}
	return decode[webTokenResponse](t, body), refreshCookieOf(t, resp)
}

// TestWebSignInKeepsRefreshTokenInCookie: the web sign-in returns the
// access token in the body and the refresh token only in an HttpOnly,
// Secure, SameSite=Strict cookie scoped to /v1/auth/web; the cookie
// rotates on refresh, and a replayed cookie ends the session.
func TestWebSignInKeepsRefreshTokenInCookie(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, c := webLoginAs(t, w, w.Admin.Email)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != WebAuthPath || c.Value == "" {
		t.Fatalf("cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=%s", c, WebAuthPath)
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("cookie %+v: want a browser-session cookie", c)
	}
	resp, body := w.h.do("GET", "/v1/me", nil, tok.AccessToken)
	wantStatus(t, resp, body, 200)

	resp, body = w.h.do("POST", "/v1/auth/web/refresh", nil, "", webRequest, withCookie(c.Value))
	wantStatus(t, resp, body, 200)
	next := refreshCookieOf(t, resp)
	if next.Value == c.Value || next.Value == "" {
		t.Fatalf("refresh did not rotate the cookie")
	}
	tok2 := decode[webTokenResponse](t, body)
	resp, body = w.h.do("GET", "/v1/me", nil, tok2.AccessToken)
	wantStatus(t, resp, body, 200)

	// The first cookie again: a replay. The session ends for both.
	resp, body = w.h.do("POST", "/v1/auth/web/refresh", nil, "", webRequest, withCookie(c.Value))
	wantStatus(t, resp, body, 401)
	if got := refreshCookieOf(t, resp); !cleared(got) {
		t.Errorf("a refused refresh should clear the cookie, got %+v", got)
	}
	resp, body = w.h.do("POST", "/v1/auth/web/refresh", nil, "", webRequest, withCookie(next.Value))
	wantStatus(t, resp, body, 401)
	resp, body = w.h.do("GET", "/v1/me", nil, tok2.AccessToken)
	wantStatus(t, resp, body, 401)
}

// TestWebAuthRefusesOtherSites: every cookie route wants the app's header,
// and refuses a foreign Origin or a cross-site fetch, before anything else.
func TestWebAuthRefusesOtherSites(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, c := webLoginAs(t, w, w.Admin.Email)
	creds := map[string]string{"email": w.Admin.Email, "password": fixturePassword}
	cases := []struct {
		name string
		opts []reqOpt
	}{
		{"no X-Requested-With", nil},
		{"foreign Origin", []reqOpt{webRequest, withHeader("Origin", "https://evil.example")}},
		{"cross-site fetch", []reqOpt{webRequest, withHeader("Sec-Fetch-Site", "cross-site")}},
		{"same-site, other origin", []reqOpt{webRequest, withHeader("Sec-Fetch-Site", "same-site")}},
		{"null Origin", []reqOpt{webRequest, withHeader("Origin", "null")}},
	}
	for _, tc := range cases {
		for _, path := range []string{"/v1/auth/web/login", "/v1/auth/web/refresh", "/v1/auth/web/logout"} {
			var body any
			if strings.HasSuffix(path, "/login") {
				body = creds
			}
			if tc.opts == nil {
				// The contract requires the header; probe with app.Test
				// directly so the missing header is what is tested.
				req, _ := http.NewRequest("POST", path, strings.NewReader(""))
				req.AddCookie(&http.Cookie{Name: RefreshCookie, Value: c.Value})
				resp, err := w.h.app.Test(req, 30_000)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 403 {
					t.Errorf("%s %s: status %d, want 403", tc.name, path, resp.StatusCode)
				}
				continue
			}
			resp, out := w.h.do("POST", path, body, "", append(tc.opts, withCookie(c.Value))...)
			if resp.StatusCode != 403 {
				t.Errorf("%s %s: status %d, want 403: %s", tc.name, path, resp.StatusCode, out)
			}
			if len(resp.Cookies()) != 0 {
				t.Errorf("%s %s: a refused request set a cookie", tc.name, path)
			}
		}
	}
	// The same site's own Origin and fetch metadata are accepted, and the
	// cookie still works after all the refusals.
	resp, body := w.h.do("POST", "/v1/auth/web/refresh", nil, "", webRequest, withCookie(c.Value),
		withHeader("Origin", "http://example.com"), withHeader("Sec-Fetch-Site", "same-origin"))
	wantStatus(t, resp, body, 200)
}

// TestWebSignInRefusesParents: parents use the mobile app; the web sign-in
// refuses them without starting a session or setting a cookie.
func TestWebSignInRefusesParents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	resp, body := w.h.do("POST", "/v1/auth/web/login", map[string]string{"email": w.ParentA.Email, "password": fixturePassword}, "", webRequest)
	wantStatus(t, resp, body, 403)
	if len(resp.Cookies()) != 0 {
		t.Errorf("refused parent got a cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	// A parent's app refresh token put in the web cookie is refused too.
	pair := w.h.login(w.ParentA.Email, fixturePassword)
	resp, body = w.h.do("POST", "/v1/auth/web/refresh", nil, "", webRequest, withCookie(pair.RefreshToken))
	wantStatus(t, resp, body, 401)
	resp, body = w.h.do("POST", "/v1/auth/web/login", map[string]string{"email": w.Teacher.Email, "password": "wrong-password-1"}, "", webRequest)
	wantStatus(t, resp, body, 401)
}

// TestWebLogoutEndsSession: logging out with the cookie revokes the session
// (the access token stops working at once) and clears the cookie; without
// a cookie it is the same 204.
func TestWebLogoutEndsSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, c := webLoginAs(t, w, w.Teacher.Email)
	resp, body := w.h.do("POST", "/v1/auth/web/logout", nil, "", webRequest, withCookie(c.Value))
	wantStatus(t, resp, body, 204)
	if got := refreshCookieOf(t, resp); !cleared(got) || got.Path != WebAuthPath {
		t.Errorf("logout should clear the cookie, got %+v", got)
	}
	resp, body = w.h.do("GET", "/v1/me", nil, tok.AccessToken)
	wantStatus(t, resp, body, 401)
	resp, body = w.h.do("POST", "/v1/auth/web/refresh", nil, "", webRequest, withCookie(c.Value))
	wantStatus(t, resp, body, 401)
	resp, body = w.h.do("POST", "/v1/auth/web/logout", nil, "", webRequest)
	wantStatus(t, resp, body, 204)
}

// TestWebSignInSharesTheLoginThrottle: the web sign-in counts against the
// same per-account limit as the apps' sign-in, before the password is
// checked, so the two routes together verify at most the limit.
func TestWebSignInSharesTheLoginThrottle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := int64(0); i < w.h.deps.Limits.LoginPerAccount.Max; i++ {
		resp, body := w.h.do("POST", "/v1/auth/login", map[string]string{"email": w.Admin.Email, "password": "wrong-password-1"}, "")
		wantStatus(t, resp, body, 401)
	}
	resp, body := w.h.do("POST", "/v1/auth/web/login", map[string]string{"email": w.Admin.Email, "password": fixturePassword}, "", webRequest)
	wantStatus(t, resp, body, 429)
	if len(resp.Cookies()) != 0 {
		t.Error("a throttled web sign-in set a cookie")
	}
}

// TestWebAppIsTheFallback: the app answers "/" and its assets with its own
// headers, after every API route; API paths keep their JSON answers and an
// unknown /v1 path is still the JSON 404.
func TestWebAppIsTheFallback(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	get := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, path, nil)
		resp, err := h.app.Test(req, 30_000)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, body := get("GET", "/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: %d %v", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("X-Request-ID") == "" || !strings.Contains(body, `type="module"`) {
		t.Errorf("GET /: no request id or no module script")
	}
	for _, c := range []struct{ method, path string }{{"GET", "/v1/nope"}, {"GET", "/v1"}, {"POST", "/"}, {"GET", "/assets/0/app.js"}, {"GET", "/v1/schools/x/nope"}} {
		resp, body := get(c.method, c.path)
		if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) || resp.Header.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'" {
			t.Errorf("%s %s: %d %s %v, want the API's JSON 404", c.method, c.path, resp.StatusCode, body, resp.Header.Get("Content-Security-Policy"))
		}
	}
	if resp, body := get("GET", "/healthz"); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("GET /healthz: %d %s", resp.StatusCode, body)
	}
}

package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
)

// TestOperatorsConsole serves the real wiring over HTTP and checks the
// queue monitor: a platform operator signs in at /ops/session, gets the
// console's own cookie and sees the queues; a school's admin and a parent
// get 404 whether by token or by the sign-in; no credentials get 401; a
// cross-site change is refused; the console's page has its own policy and
// the API keeps the strict one.
func TestOperatorsConsole(t *testing.T) {
	_, redisURL := redistest.New(t)
	env := map[string]string{"HOMETIME_DATA_DIR": t.TempDir(), "REDIS_URL": redisURL, "HOMETIME_LOG_LEVEL": "error"}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := NewLogger(io.Discard, "error")
	st, err := Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app, err := st.APIApp(log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	base := "http://" + ln.Addr().String()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const password = "Operators-Password-42"
	pw, err := api.NewPasswords(api.DefaultArgon2, 2)
	must(err)
	hash, err := pw.Hash(ctx, password)
	must(err)
	s := st.Store
	must(s.CreateSchool(ctx, &content.School{ID: "sch_o", Name: "Ops Primary", Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "20:00", QuietEnd: "07:30", Subscription: content.Subscription{State: "active"}}))
	staff := func(id, email string, operator bool, schools []content.SchoolRoles) {
		must(s.CreateStaff(ctx, &content.Staff{ID: id, Email: email, PasswordHash: hash, FirstName: "S", LastName: "O",
			Operator: operator, Schools: schools}))
		must(s.PutLogin(ctx, &content.Login{Key: "staff:email:" + email, Kind: content.KindStaff, AccountID: id}))
	}
	staff("stf_op", "operator@hometime.test", true, nil)
	staff("stf_admin", "admin@ops.test", false, []content.SchoolRoles{{SchoolID: "sch_o", Roles: []content.Role{content.RoleAdmin}}})
	must(s.CreateParent(ctx, &content.Parent{ID: "par_o", FirstName: "P", LastName: "O", Email: "parent@ops.test", Language: "en",
		State: content.ParentActive, PasswordHash: hash, Sessions: []string{}}))
	must(s.PutLogin(ctx, &content.Login{Key: "parent:email:parent@ops.test", Kind: content.KindParent, AccountID: "par_o"}))
	// A queue with a task in it, for the monitor to show.
	_, err = st.Queue.Enqueue(asynq.NewTask("ops:canary", nil), asynq.Queue("default"))
	must(err)

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req := func(method, path string, body any, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		rq, err := http.NewRequest(method, base+path, r)
		must(err)
		if body != nil {
			rq.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			rq.Header.Set(k, v)
		}
		resp, err := client.Do(rq)
		must(err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp, string(out)
	}
	bearer := func(email string) string {
		t.Helper()
		resp, out := req("POST", "/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d %s", email, resp.StatusCode, out)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		must(json.Unmarshal([]byte(out), &tok))
		return tok.AccessToken
	}
	web := map[string]string{api.WebRequestHeader: api.WebRequestValue}
	signIn := func(email string) (*http.Response, string) {
		return req("POST", "/ops/session", map[string]string{"email": email, "password": password}, web)
	}

	// No credentials: 401 for the monitor's page and its API.
	for _, p := range []string{"/ops/queues/", "/ops/queues/api/queues"} {
		if resp, out := req("GET", p, nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d %s, want 401", p, resp.StatusCode, out)
		}
	}
	// A school's admin and a parent: 404, by token and by the sign-in.
	for _, who := range []string{"admin@ops.test", "parent@ops.test"} {
		tok := bearer(who)
		for _, p := range []string{"/ops/queues/", "/ops/queues/api/queues"} {
			if resp, out := req("GET", p, nil, map[string]string{"Authorization": "Bearer " + tok}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s as %s: %d %.200s, want 404", p, who, resp.StatusCode, out)
			}
			if resp, _ := req("GET", p, nil, map[string]string{"Cookie": api.OpsCookie + "=" + tok}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s as %s by cookie: %d, want 404", p, who, resp.StatusCode)
			}
		}
		resp, out := signIn(who)
		if who == "parent@ops.test" && resp.StatusCode == http.StatusForbidden {
			// The staff-only sign-in refuses a parent's account outright.
		} else if resp.StatusCode != http.StatusNotFound {
			t.Errorf("console sign-in as %s: %d %s, want 404", who, resp.StatusCode, out)
		}
		if c := resp.Header.Get("Set-Cookie"); strings.Contains(c, api.OpsCookie+"=e") {
			t.Errorf("console sign-in as %s set the console cookie", who)
		}
	}
	// A sign-in without the console's own header is refused (CSRF).
	if resp, _ := req("POST", "/ops/session", map[string]string{"email": "operator@hometime.test", "password": password}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("console sign-in without the same-site header: %d, want 403", resp.StatusCode)
	}

	// The operator signs in and gets the console's cookie, and only that.
	resp, out := signIn("operator@hometime.test")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("operator sign-in: %d %s", resp.StatusCode, out)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == api.OpsCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != api.OpsPath {
		t.Fatalf("console cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=/ops", cookie)
	}
	withCookie := map[string]string{"Cookie": api.OpsCookie + "=" + cookie.Value}

	resp, out = req("GET", "/ops/queues/", nil, withCookie)
	if resp.StatusCode != 200 || !strings.Contains(out, "Asynq") {
		t.Fatalf("operator's queues page: %d %.300s", resp.StatusCode, out)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' 'sha256-") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("console policy %q: want its scripts by hash, no eval, no framing", csp)
	}
	resp, out = req("GET", "/ops/queues/api/queues", nil, withCookie)
	if resp.StatusCode != 200 || !strings.Contains(out, `"queue":"default"`) {
		t.Errorf("operator's queue list: %d %.300s", resp.StatusCode, out)
	}
	// A change from another site is refused even with the cookie.
	if resp, _ := req("POST", "/ops/queues/api/queues/default:pause", nil,
		map[string]string{"Cookie": withCookie["Cookie"], "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site pause: %d, want 403", resp.StatusCode)
	}
	// The rest of the API keeps its strict policy.
	resp, _ = req("GET", "/healthz", nil, nil)
	if got := resp.Header.Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("API policy changed: %q", got)
	}
	// Sign-out clears the cookie.
	resp, _ = req("DELETE", "/ops/session", nil, web)
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Set-Cookie"), api.OpsCookie+"=;") {
		t.Errorf("sign-out: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
}

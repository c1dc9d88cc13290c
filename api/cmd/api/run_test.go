package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
)

// syncBuffer collects run's stdout (logs and the demo banner).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type client struct {
	t    *testing.T
	base string
}

func (c client) call(method, path, token string, body any) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (c client) login(email, password string) (string, string) {
	c.t.Helper()
	st, out := c.call("POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if st != 200 {
		c.t.Fatalf("login %s: %d %v", email, st, out)
	}
	return out["access_token"].(string), out["refresh_token"].(string)
}

// waitFor polls cond until it holds or the deadline passes: the worker runs
// on its own goroutines, so there is no signal to wait on from here.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestRunJourney boots the real program in dev mode (embedded store, the
// worker in-process, the outbox for email) and walks the foundation's
// journeys: demo sign-ins, an admin adding a teacher who sets a password
// from the emailed link, refresh and logout, and a clean shutdown.
func TestRunJourney(t *testing.T) {
	_, redisURL := redistest.New(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := map[string]string{"HOMETIME_DATA_DIR": dir, "HOMETIME_HTTP_ADDR": addr, "REDIS_URL": redisURL}
	if os.Getenv("REDIS_URL") == "" {
		env["REDIS_URL"] = "" // embedded miniredis inside run
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--demo"}, func(k string) string { return env[k] }, out) }()
	c := client{t: t, base: "http://" + addr}
	waitFor(t, "healthz", func() bool {
		resp, err := http.Get(c.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	if st, _ := c.call("GET", "/readyz", "", nil); st != 200 {
		t.Fatalf("readyz %d", st)
	}
	if !strings.Contains(out.String(), "admin    admin@demo.hometime.test") {
		t.Fatalf("demo banner missing:\n%s", out.String())
	}

	// Each demo account signs in and sees itself.
	for email, kind := range map[string]string{demoAdmin: "staff", demoTeacher: "staff", demoParent: "parent"} {
		tok, _ := c.login(email, demoPassword)
		st, me := c.call("GET", "/v1/me", tok, nil)
		if st != 200 || me["kind"] != kind || me["email"] != email {
			t.Fatalf("me for %s: %d %v", email, st, me)
		}
		if kind == "parent" && len(me["children"].([]any)) != 2 {
			t.Fatalf("demo parent children: %v", me["children"])
		}
	}

	// The admin invites a teacher; the worker emails a link to set a
	// password; the teacher signs in and accepts the invitation.
	admin, _ := c.login(demoAdmin, demoPassword)
	newEmail := "nia.newydd@demo.hometime.test"
	st, created := c.call("POST", "/v1/schools/"+demoSchoolID+"/staff", admin,
		map[string]any{"email": newEmail, "first_name": "Nia", "last_name": "Newydd", "roles": []string{"teacher"}})
	if st != 202 || created["status"] != "invited" {
		t.Fatalf("invite staff: %d %v", st, created)
	}
	var token string
	tokenRE := regexp.MustCompile(`reset-password\?token=([A-Z2-7]+)`)
	waitFor(t, "the welcome email in the outbox", func() bool {
		f, err := os.Open(filepath.Join(dir, "outbox", "email.jsonl"))
		if err != nil {
			return false
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["to"] == newEmail {
				if m := tokenRE.FindStringSubmatch(fmt.Sprint(rec["body"])); m != nil {
					token = m[1]
				}
			}
		}
		return token != ""
	})
	if strings.Contains(out.String(), token) || strings.Contains(out.String(), newEmail) {
		t.Fatal("the reset token or the new teacher's email reached the logs")
	}
	if st, body := c.call("POST", "/v1/auth/password-reset/confirm", "", map[string]string{"token": token, "password": "Nia's own passphrase"}); st != 204 {
		t.Fatalf("confirm: %d %v", st, body)
	}
	nia, refresh := c.login(newEmail, "Nia's own passphrase")
	if st, me := c.call("GET", "/v1/me", nia, nil); st != 200 || me["first_name"] != "Nia" {
		t.Fatalf("new teacher me: %d %v", st, me)
	}
	st, invs := c.call("GET", "/v1/me/staff-invitations", nia, nil)
	items, _ := invs["items"].([]any)
	if st != 200 || len(items) != 1 {
		t.Fatalf("new teacher's invitations: %d %v", st, invs)
	}
	invID, _ := items[0].(map[string]any)["id"].(string)
	if st, joined := c.call("POST", "/v1/me/staff-invitations/"+invID+"/accept", nia, nil); st != 200 || joined["id"] != demoSchoolID {
		t.Fatalf("accept: %d %v", st, joined)
	}
	st, rot := c.call("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, rot)
	}
	if st, _ := c.call("POST", "/v1/auth/logout", rot["access_token"].(string), nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := c.call("GET", "/v1/me", rot["access_token"].(string), nil); st != 401 {
		t.Fatalf("me after logout: %d", st)
	}

	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `route="/v1/me"`) || !strings.Contains(string(metrics), `hometime_queue_tasks{queue="critical"`) {
		t.Fatalf("metrics lack the /v1/me histogram or queue gauges")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not shut down")
	}
}

// TestRunRejectsBadConfig names the variable at fault.
func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOMETIME_HTTP_ADDR": "no-port", "HOMETIME_DATA_DIR": t.TempDir()}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HOMETIME_HTTP_ADDR") {
		t.Fatalf("run = %v, want an error naming HOMETIME_HTTP_ADDR", err)
	}
}

// TestRunRestartsOnItsData: dev mode started twice on one data dir (a
// developer's second `go run`) comes up, re-seeds nothing twice, and keeps
// the demo sign-ins working.
func TestRunRestartsOnItsData(t *testing.T) {
	dir := t.TempDir()
	for round := 1; round <= 2; round++ {
		addr := freeAddr(t)
		env := map[string]string{"HOMETIME_DATA_DIR": dir, "HOMETIME_HTTP_ADDR": addr}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"--demo"}, func(k string) string { return env[k] }, io.Discard) }()
		c := client{t: t, base: "http://" + addr}
		waitFor(t, fmt.Sprintf("healthz, start %d", round), func() bool {
			select {
			case err := <-done:
				t.Fatalf("start %d: run returned %v", round, err)
			default:
			}
			resp, err := http.Get(c.base + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == 200
		})
		tok, _ := c.login(demoParent, demoPassword)
		if st, me := c.call("GET", "/v1/me", tok, nil); st != 200 || len(me["children"].([]any)) != 2 {
			t.Fatalf("start %d: me %d %v", round, st, me)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("start %d: run returned %v", round, err)
		}
	}
}

// productionEnv is a complete production configuration: every variable
// LoadConfig requires when HOMETIME_ENV=production, with values that pass
// its checks (nothing is connected to until the configuration is whole).
func productionEnv(t *testing.T) map[string]string {
	sg := providerfake.NewSendGrid(t)
	return map[string]string{
		"HOMETIME_ENV": "production", "HOMETIME_DATA_DIR": filepath.Join(t.TempDir(), "never-made"),
		"MONGODB_URI": "mongodb://127.0.0.1:1", "REDIS_URL": "redis://127.0.0.1:1/0",
		"HOMETIME_JWT_SECRET": strings.Repeat("j", 32), "HOMETIME_HASH_SECRET": strings.Repeat("h", 32),
		"HOMETIME_TWILIO_ACCOUNT_SID": providerfake.FakeTwilioAccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": providerfake.FakeTwilioAuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_PUBLIC_URL": "https://api.hometime.test",
		"SENDGRID_API_KEY": sg.APIKey, "HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY": sg.EventWebhookPublicKey(),
		"HOMETIME_FCM_CREDENTIALS": "/etc/hometime/fcm.json",
	}
}

// TestRunProductionRefuses: with HOMETIME_ENV=production, run stops before
// connecting to anything, naming what is missing: the store, the queue,
// either secret, any channel's provider (the outbox is never used there),
// the SendGrid webhook key; and it refuses --demo. A HOMETIME_ENV that is
// neither mode is an error too.
func TestRunProductionRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		unset   string
		set     map[string]string
		args    []string
		wantErr string
	}{
		{"no store", "MONGODB_URI", nil, nil, "MONGODB_URI"},
		{"no queue", "REDIS_URL", nil, nil, "REDIS_URL"},
		{"no JWT secret", "HOMETIME_JWT_SECRET", nil, nil, "HOMETIME_JWT_SECRET"},
		{"no hash secret", "HOMETIME_HASH_SECRET", nil, nil, "HOMETIME_HASH_SECRET"},
		{"no SMS provider", "HOMETIME_TWILIO_ACCOUNT_SID", nil, nil, "HOMETIME_TWILIO_ACCOUNT_SID"},
		{"no email provider", "SENDGRID_API_KEY", nil, nil, "SENDGRID_API_KEY"},
		{"no push provider", "HOMETIME_FCM_CREDENTIALS", nil, nil, "HOMETIME_FCM_CREDENTIALS"},
		{"no SendGrid webhook key", "HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY", nil, nil, "HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY"},
		{"Twilio without its auth token", "HOMETIME_TWILIO_AUTH_TOKEN", nil, nil, "HOMETIME_TWILIO_AUTH_TOKEN"},
		{"--demo", "", nil, []string{"--demo"}, "--demo"},
		{"--demo with a problem too", "MONGODB_URI", nil, []string{"--demo"}, "--demo"},
		{"an unknown mode", "", map[string]string{"HOMETIME_ENV": "prod"}, nil, "HOMETIME_ENV"},
		{"a short hash secret", "", map[string]string{"HOMETIME_HASH_SECRET": "short"}, nil, "HOMETIME_HASH_SECRET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := productionEnv(t)
			delete(env, c.unset)
			for k, v := range c.set {
				env[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, c.args, func(k string) string { return env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("run = %v, want an error naming %s", err, c.wantErr)
			}
			if _, statErr := os.Stat(env["HOMETIME_DATA_DIR"]); !os.IsNotExist(statErr) {
				t.Fatalf("a refused production start touched the data dir: %v", statErr)
			}
		})
	}
}

// TestRunProductionServes boots run with HOMETIME_ENV=production against a
// store and a Redis given by URL and the three providers' fakes: it starts,
// keeps nothing on local disk, and serves /metrics only on the private
// HOMETIME_METRICS_ADDR — the public address answers 404.
func TestRunProductionServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emb, err := embedded.Start(ctx, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	_, redisURL := redistest.New(t)
	tw, sg, fc := providerfake.NewTwilio(t), providerfake.NewSendGrid(t), providerfake.NewFCM(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := productionEnv(t)
	for k, v := range map[string]string{
		"MONGODB_URI": emb.URI(), "REDIS_URL": redisURL, "HOMETIME_HTTP_ADDR": addr, "HOMETIME_METRICS_ADDR": metricsAddr,
		"HOMETIME_TWILIO_ACCOUNT_SID": tw.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": tw.AuthToken, "HOMETIME_TWILIO_BASE_URL": tw.URL,
		"SENDGRID_API_KEY": sg.APIKey, "HOMETIME_SENDGRID_BASE_URL": sg.URL, "HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY": sg.EventWebhookPublicKey(),
		"HOMETIME_FCM_CREDENTIALS": fc.ServiceAccountFile(t), "HOMETIME_FCM_ENDPOINT": fc.Endpoint(),
	} {
		env[k] = v
	}
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, out) }()
	c := client{t: t, base: "http://" + addr}
	waitFor(t, "healthz", func() bool {
		select {
		case err := <-done:
			t.Fatalf("run returned %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(c.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	if st, _ := c.call("GET", "/v1/me", "", nil); st != 401 {
		t.Fatalf("me without a token: %d", st)
	}
	if st, body := c.call("GET", "/metrics", "", nil); st != 404 {
		t.Fatalf("public /metrics in production: %d %v, want 404", st, body)
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(metrics), `route="/v1/me"`) {
		t.Fatalf("private /metrics: %d, lacks the /v1/me histogram", resp.StatusCode)
	}
	logs := out.String()
	for _, want := range []string{`"sms":"twilio"`, `"email":"sendgrid"`, `"push":"fcm"`, `"hash_key":"v1:`, `"env":"production"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up log lacks %s:\n%s", want, logs)
		}
	}
	if _, err := os.Stat(env["HOMETIME_DATA_DIR"]); !os.IsNotExist(err) {
		t.Errorf("production made the data dir (%v): it keeps nothing on local disk", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not shut down")
	}
}

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

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
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
	waitWithin(t, 20*time.Second, what, cond)
}

// serving is a waitFor condition: the program run started (done receives
// what run returned) answers /healthz at base. A run that has already
// returned fails the test, with its output when out is given.
func serving(t *testing.T, base string, done <-chan error, out *syncBuffer) func() bool {
	return func() bool {
		select {
		case err := <-done:
			logs := ""
			if out != nil {
				logs = out.String()
			}
			t.Fatalf("run returned %v\n%s", err, logs)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}
}

func waitWithin(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
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
	waitFor(t, "healthz", serving(t, c.base, done, out))
	if st, _ := c.call("GET", "/readyz", "", nil); st != 200 {
		t.Fatalf("readyz %d", st)
	}
	if !strings.Contains(out.String(), "admin    admin@demo.hometime.test") || !strings.Contains(out.String(), demoTeacher2) {
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
		waitFor(t, fmt.Sprintf("healthz, start %d", round), serving(t, c.base, done, nil))
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
		"HOMETIME_FCM_CREDENTIALS": "/etc/hometime/fcm.json", "HOMETIME_APP_URL": "https://app.hometime.test",
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
		{"no app address", "HOMETIME_APP_URL", nil, nil, "HOMETIME_APP_URL"},
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
	waitFor(t, "healthz", serving(t, c.base, done, out))
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

// startDemo runs the program with --demo on dir until the test ends or
// stop is called, and returns once it serves, with its client and how
// long it took to start.
func startDemo(t *testing.T, dir string) (c client, out *syncBuffer, took time.Duration, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	env := map[string]string{"HOMETIME_DATA_DIR": dir, "HOMETIME_HTTP_ADDR": addr}
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- run(ctx, []string{"--demo"}, func(k string) string { return env[k] }, out) }()
	c = client{t: t, base: "http://" + addr}
	waitWithin(t, 60*time.Second, "the demo to serve", serving(t, c.base, done, out))
	took = time.Since(started)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not shut down")
		}
	}
	t.Cleanup(stop)
	return c, out, took, stop
}

// demoState is what a client of the demo sees: the demo parent's feed,
// the submissions staff see, and the school's message log.
type demoState struct {
	feedItems   []map[string]any
	submissions map[string][]any // assignment ID → submissions
	broadcasts  []map[string]any
}

func (c client) demoState(admin, parent string) demoState {
	c.t.Helper()
	s := demoState{submissions: map[string][]any{}}
	for _, child := range []string{"chd_demo_01", "chd_demo_11"} {
		st, page := c.call("GET", "/v1/children/"+child+"/feed?limit=25", parent, nil)
		if st != 200 || page["next_cursor"] != nil {
			c.t.Fatalf("feed of %s: %d %v", child, st, page)
		}
		for _, it := range page["items"].([]any) {
			s.feedItems = append(s.feedItems, it.(map[string]any))
		}
	}
	for _, it := range s.feedItems {
		if id, _ := it["assignment_id"].(string); id != "" && s.submissions[id] == nil {
			st, subs := c.call("GET", "/v1/schools/"+demoSchoolID+"/assignments/"+id+"/submissions", admin, nil)
			if st != 200 {
				c.t.Fatalf("submissions of %s: %d %v", id, st, subs)
			}
			s.submissions[id] = subs["items"].([]any)
		}
	}
	st, log := c.call("GET", "/v1/schools/"+demoSchoolID+"/messages?limit=100", admin, nil)
	if st != 200 {
		c.t.Fatalf("message log: %d %v", st, log)
	}
	for _, b := range log["items"].([]any) {
		s.broadcasts = append(s.broadcasts, b.(map[string]any))
	}
	return s
}

// TestRunDemo: --demo starts a living school, seen from outside over HTTP:
// the demo parent's feed holds activities set for both classes, a done one
// with a photo and the teacher's reply, and an award; the teachers see the
// submissions; the release's broadcast was sent through the outbox and is
// done, with each family's delivery state; engagement is counted. The
// banner names every demo account and the quiet hours. A second start on
// the same data adds nothing.
func TestRunDemo(t *testing.T) {
	dir := t.TempDir()
	c, out, took, stop := startDemo(t, dir)
	t.Logf("first start, seeding the demo: %s", took.Round(time.Millisecond))
	banner := out.String()
	for _, want := range []string{demoAdmin, demoTeacher + " (Robins", demoTeacher2 + " (Owls", demoParent, "Quiet hours (20:00–07:30 Europe/London)"} {
		if !strings.Contains(banner, want) {
			t.Fatalf("banner lacks %q:\n%s", want, banner)
		}
	}
	admin, _ := c.login(demoAdmin, demoPassword)
	parent, _ := c.login(demoParent, demoPassword)
	teacher, _ := c.login(demoTeacher, demoPassword)
	teacher2, _ := c.login(demoTeacher2, demoPassword)

	s := c.demoState(admin, parent)
	t.Logf("the demo parent's feed: %d items", len(s.feedItems))
	var awards, replied, done int
	classes := map[string]bool{}
	var photoAsg string
	for _, it := range s.feedItems {
		switch it["kind"] {
		case "award":
			awards++
		case "activity":
			classes[it["teacher_name"].(string)] = true
			if it["state"] == "done" {
				done++
			}
			if it["latest_reply"] != nil {
				replied++
			}
		}
	}
	if len(s.feedItems) == 0 || awards != 1 || replied == 0 || done == 0 || len(classes) != 2 {
		t.Fatalf("feed: %d items, %d awards, %d replied, %d done, teachers %v", len(s.feedItems), awards, replied, done, classes)
	}
	if !strings.Contains(banner, fmt.Sprintf("The demo parent's feed: %d items", len(s.feedItems))) {
		t.Errorf("banner does not count the feed's %d items:\n%s", len(s.feedItems), banner)
	}

	// The photo went through the photo pipeline: its teacher sees the
	// submission and opens the picture, a JPEG.
	for asg, subs := range s.submissions {
		for _, sub := range subs {
			if len(sub.(map[string]any)["photo_ids"].([]any)) > 0 {
				photoAsg = asg
			}
		}
	}
	if photoAsg == "" {
		t.Fatalf("no submission with a photo: %v", s.submissions)
	}
	st, subs := c.call("GET", "/v1/schools/"+demoSchoolID+"/assignments/"+photoAsg+"/submissions", teacher, nil)
	// The demo parent's, and the pupil-premium family's (no photo).
	var sub map[string]any
	if st == 200 {
		for _, x := range subs["items"].([]any) {
			if x.(map[string]any)["child_id"] == "chd_demo_01" {
				sub = x.(map[string]any)
			}
		}
	}
	if sub == nil || len(subs["items"].([]any)) != 1+len(demoFamilies) {
		t.Fatalf("the Robins' teacher's submissions: %d %v", st, subs)
	}
	if len(sub["replies"].([]any)) != 1 || sub["done"] != true {
		t.Fatalf("submission: %v", sub)
	}
	st, ph := c.call("GET", "/v1/photos/"+sub["photo_ids"].([]any)[0].(string), teacher, nil)
	if st != 200 {
		t.Fatalf("photo URL: %d %v", st, ph)
	}
	resp, err := http.Get(c.base + ph["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	pic, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || len(pic) < 1000 {
		t.Fatalf("photo: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(pic))
	}
	owlsSubs := 0
	for asg := range s.submissions {
		if st, list := c.call("GET", "/v1/schools/"+demoSchoolID+"/assignments/"+asg+"/submissions", teacher2, nil); st == 200 {
			owlsSubs += len(list["items"].([]any))
		}
	}
	if owlsSubs == 0 {
		t.Fatal("the Owls' teacher sees no submission")
	}

	// Each release told its class's 10 families through the outbox; the
	// relay marks the broadcast done once every message has settled.
	var release string
	for _, b := range s.broadcasts {
		if b["template"] == "activity_set" && b["created_by"] == "stf_demo_teacher2" {
			release = b["id"].(string)
		}
	}
	if release == "" || len(s.broadcasts) < 5 {
		t.Fatalf("message log: %v", s.broadcasts)
	}
	var b map[string]any
	waitWithin(t, 90*time.Second, "the Owls' release broadcast to be done", func() bool {
		st, b = c.call("GET", "/v1/schools/"+demoSchoolID+"/broadcasts/"+release, admin, nil)
		return st == 200 && b["state"] == "done"
	})
	// The recipients come a ledger page at a time (a page holds one channel
	// and language), so follow next_cursor to the end.
	states := map[string]int{}
	path := "/v1/schools/" + demoSchoolID + "/broadcasts/" + release + "/recipients"
	st = 200
	for next := ""; st == 200; {
		q := path
		if next != "" {
			q += "?cursor=" + next
		}
		var rec map[string]any
		st, rec = c.call("GET", q, admin, nil)
		for _, r := range rec["items"].([]any) {
			states[r.(map[string]any)["state"].(string)]++
		}
		if next, _ = rec["next_cursor"].(string); next == "" {
			break
		}
	}
	if st != 200 || b["recipients"] != float64(10) || states["sent"] != 10 {
		t.Fatalf("release broadcast %v; recipients' states %v", b, states)
	}
	st, eng := c.call("GET", "/v1/schools/"+demoSchoolID+"/engagement?weeks=1", admin, nil)
	week := eng["weeks"].([]any)[0].(map[string]any)
	for _, k := range []string{"sign_ins", "views", "completions", "ratings", "photos", "comments"} {
		if st != 200 || week[k] == float64(0) {
			t.Fatalf("engagement: %d %v", st, week)
		}
	}
	// Families on both sides of the pupil-premium split have done things.
	for _, part := range []string{"pupil_premium", "other"} {
		w := eng[part].([]any)[0].(map[string]any)
		for _, k := range []string{"sign_ins", "views", "completions", "ratings", "comments"} {
			if w[k] == float64(0) {
				t.Fatalf("engagement %s: %v", part, w)
			}
		}
	}

	// A second start on the same data adds nothing, and is quick.
	stop()
	c, out, took, _ = startDemo(t, dir)
	t.Logf("second start: %s", took.Round(time.Millisecond))
	if !strings.Contains(out.String(), fmt.Sprintf("The demo parent's feed: %d items", len(s.feedItems))) {
		t.Fatalf("second banner:\n%s", out.String())
	}
	admin, _ = c.login(demoAdmin, demoPassword)
	parent, _ = c.login(demoParent, demoPassword)
	again := c.demoState(admin, parent)
	count := func(s demoState) (n int) {
		for _, subs := range s.submissions {
			n += len(subs)
		}
		return n
	}
	if len(again.feedItems) != len(s.feedItems) || count(again) != count(s) || len(again.broadcasts) != len(s.broadcasts) {
		t.Fatalf("second start: %d feed items (was %d), %d submissions (was %d), %d broadcasts (was %d)",
			len(again.feedItems), len(s.feedItems), count(again), count(s), len(again.broadcasts), len(s.broadcasts))
	}
}

// The banner says when the school's quiet hours hold messages back.
func TestDemoBannerQuietHours(t *testing.T) {
	t.Parallel()
	sc := &content.School{Name: "Hometime Demo Primary", TimeZone: "Europe/London", QuietStart: "20:00", QuietEnd: "07:30"}
	sum := demoSummary{assignments: 3, feedItems: 6, submissions: 2, photos: 1, replies: 1, awards: 1, released: true}
	night := demoBanner(sc, sum, time.Date(2026, 12, 7, 22, 15, 0, 0, time.UTC))
	if !strings.Contains(night, "Quiet hours (20:00–07:30 Europe/London) are holding texts and push notifications now: they go at 07:30 Tue 8 Dec (in 9h15m)") {
		t.Fatalf("at night:\n%s", night)
	}
	day := demoBanner(sc, sum, time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	if !strings.Contains(day, "are not holding messages now") || strings.Contains(day, "holding texts") {
		t.Fatalf("by day:\n%s", day)
	}
	for _, want := range []string{demoAdmin, demoTeacher, demoTeacher2, demoParent, "6 items", "1 photo", "1 reply", "1 award"} {
		if !strings.Contains(day, want) {
			t.Fatalf("banner lacks %q:\n%s", want, day)
		}
	}
}

// The demo's UPNs pass the import's check (shape and check letter), are
// distinct, and keep the digits earlier demos gave each child, whose
// wrong check letter a restart corrects.
func TestDemoUPNs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		u := demoUPN(i)
		if _, shapeOK, checkOK := misimport.UPN(u); !shapeOK || !checkOK || seen[u] {
			t.Errorf("child %d: UPN %q (shape %v, check letter %v, repeated %v)", i, u, shapeOK, checkOK, seen[u])
		}
		seen[u] = true
		if old := oldDemoUPN(i); old[1:] != u[1:] {
			t.Errorf("child %d: %q does not keep the digits of %q", i, u, old)
		}
	}
}

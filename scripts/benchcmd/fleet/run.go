package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/activities"
	"github.com/hometime-edu/hometime/content/media/mediatest"
	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
	"github.com/redis/go-redis/v9"
)

type settings struct {
	apiBin, workerBin string
	families          int
	appFamilies       int
	teachers          int
	window            time.Duration
	broadcastAt       time.Duration
	killAt            time.Duration
	settle            time.Duration
	smsRate           float64
	rates             map[string]*float64
	redisPort         int
	basePort          int
}

// The routes of the school-day mix, in report order.
const (
	rMe     = "me"
	rFeed   = "feed"
	rSubmit = "submit"
	rPhoto  = "photo"
	rAssign = "assign"
	rReply  = "reply"
)

var routeOrder = []string{rMe, rFeed, rSubmit, rPhoto, rAssign, rReply}

var routeNames = map[string]string{
	rMe:     "GET /v1/me (parent)",
	rFeed:   "GET /v1/children/{id}/feed (parent)",
	rSubmit: "POST …/submission (parent marks done, rates, comments)",
	rPhoto:  "POST …/submission/photos (parent, 1024×768 JPEG)",
	rAssign: "POST /v1/schools/{id}/classes/{id}/assignments (teacher)",
	rReply:  "POST …/submissions/{id}/replies (teacher)",
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	o := settings{rates: map[string]*float64{}}
	fs := flag.NewFlagSet("bench-fleet", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&o.apiBin, "api-bin", "", "the api binary (go build ./api/cmd/api)")
	fs.StringVar(&o.workerBin, "worker-bin", "", "the worker binary (go build ./worker/cmd/worker)")
	fs.IntVar(&o.families, "families", 20000, "families reached by SMS only, who receive the whole-school broadcast")
	fs.IntVar(&o.appFamilies, "app-families", 100, "families with the app, signed in by the load (push)")
	fs.IntVar(&o.teachers, "teachers", 10, "teachers, one class each; the app families are spread over their classes")
	fs.DurationVar(&o.window, "window", 60*time.Second, "measured open-loop window")
	fs.DurationVar(&o.broadcastAt, "broadcast-at", 2*time.Second, "when in the window the admin sends the whole-school broadcast")
	fs.DurationVar(&o.killAt, "kill-at", 20*time.Second, "when in the window one API and one worker are SIGKILLed (and started again)")
	fs.DurationVar(&o.settle, "settle", 90*time.Second, "how long after the window the broadcast may take to settle")
	fs.Float64Var(&o.smsRate, "sms-rate", 400, "HOMETIME_SMS_RATE: the fleet's shared SMS rate, messages/s")
	for r, def := range map[string]float64{rMe: 30, rFeed: 30, rSubmit: 4, rPhoto: 1, rAssign: 0.1, rReply: 2} {
		o.rates[r] = fs.Float64(r+"-rate", def, "requests/s of "+routeNames[r])
	}
	fs.IntVar(&o.redisPort, "redis-port", 16400, "first port to try for the bench's own redis-server (nine more after it)")
	fs.IntVar(&o.basePort, "base-port", 18180, "APIs on base, base+1; their metrics on base+5, base+6; workers' metrics on base+10…")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.apiBin == "" || o.workerBin == "" {
		return errors.New("-api-bin and -worker-bin are required (scripts/bench/fleet builds them)")
	}
	if o.killAt >= o.window || o.broadcastAt >= o.killAt {
		return errors.New("need -broadcast-at < -kill-at < -window")
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stdout, "# "+format+"\n", a...) }
	// net/http logs answers arriving on connections the load generator
	// gave up on (its timeout); they are counted, not printed.
	stdlog.SetOutput(io.Discard)
	began := time.Now()
	b := &bench{o: o, progress: progress}
	defer b.close()
	if err := b.setup(ctx); err != nil {
		return err
	}
	progress("set up in %s: store, redis, fakes, %d app families seeded, 2 APIs and 3 workers serving", time.Since(began).Round(time.Millisecond), o.appFamilies)
	if err := b.prepare(ctx); err != nil {
		return err
	}
	progress("prepared in %s: %d parents, %d teachers and the admin signed in; one assignment per class, in every feed, submitted by every app family",
		time.Since(began).Round(time.Millisecond), o.appFamilies, o.teachers)
	// The bulk families come after the prepared releases: the embedded
	// store finds a class's children by scanning every child.
	seeded := time.Now()
	if err := seedBulk(ctx, b.st.Store, o.families); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	progress("seeded %d SMS-only families in %s", o.families, time.Since(seeded).Round(time.Millisecond))
	rep, err := b.measure(ctx)
	if err != nil {
		return err
	}
	progress("whole run %s", time.Since(began).Round(time.Second))
	return rep.Print(stdout)
}

type bench struct {
	o        settings
	progress func(string, ...any)
	dir      string
	redis    *redisServer
	redisURL string
	rdb      *redis.Client
	emb      *embedded.Store
	st       *stack.Stack
	host     *fakeHost
	tw       *providerfake.Twilio
	sg       *providerfake.SendGrid
	fc       *providerfake.FCM
	apis     []*proc
	workers  []*proc
	lb       *balancer
	acts     []content.Activity

	admin    string
	teachers []string
	parents  []string
	asg      []string // the prepared assignment of each class
	photo    []byte
	closers  []func()
	idle     idleRates
}

// idleRates are the idle fleet's background costs per second.
type idleRates struct {
	redisCmds, reads, writes float64
	apiCPU, workerCPU        float64
}

func (b *bench) close() {
	for _, p := range append(append([]*proc{}, b.apis...), b.workers...) {
		p.stop()
	}
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.dir, err = os.MkdirTemp("", "bench-fleet-"); err != nil {
		return err
	}
	b.closers = append(b.closers, func() { _ = os.RemoveAll(b.dir) })
	for port := b.o.redisPort; port < b.o.redisPort+10; port++ {
		if b.redis, err = startRedis(ctx, port, b.dir); err == nil {
			break
		}
	}
	if b.redis == nil {
		return fmt.Errorf("own redis-server on ports %d–%d: %w (install Debian's redis-server)", b.o.redisPort, b.o.redisPort+9, err)
	}
	b.closers = append(b.closers, b.redis.stop)
	b.redisURL = b.redis.url
	opt, _ := redis.ParseURL(b.redisURL)
	b.rdb = redis.NewClient(opt)
	b.closers = append(b.closers, func() { _ = b.rdb.Close() })

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if b.emb, err = embedded.Start(ctx, filepath.Join(b.dir, "store"), quiet); err != nil {
		return err
	}
	b.closers = append(b.closers, func() { _ = b.emb.Close() })

	b.host = &fakeHost{dir: b.dir}
	b.closers = append(b.closers, b.host.close)
	b.tw, b.sg, b.fc = providerfake.NewTwilio(b.host), providerfake.NewSendGrid(b.host), providerfake.NewFCM(b.host)

	secret := content.NewSecret()
	common := map[string]string{
		"MONGODB_URI": b.emb.URI(), "HOMETIME_DB": "fleet", "REDIS_URL": b.redisURL,
		"HOMETIME_JWT_SECRET": secret, "HOMETIME_LOG_LEVEL": "warn",
		"HOMETIME_AUTH_CALLS_PER_IP": "1000000", "HOMETIME_LOGIN_FAILURES_PER_IP": "1000000",
		"HOMETIME_TWILIO_ACCOUNT_SID": b.tw.AccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": b.tw.AuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_TWILIO_BASE_URL": b.tw.URL,
		"HOMETIME_PUBLIC_URL": "https://api.hometime.test", "HOMETIME_SMS_RATE": strconv.FormatFloat(b.o.smsRate, 'f', -1, 64),
		"SENDGRID_API_KEY": b.sg.APIKey, "HOMETIME_SENDGRID_BASE_URL": b.sg.URL, "HOMETIME_EMAIL_FROM": "Hometime <hello@hometime.test>",
		"HOMETIME_FCM_CREDENTIALS": b.fc.ServiceAccountFile(b.host), "HOMETIME_FCM_ENDPOINT": b.fc.Endpoint(),
		// The relay declares claims of a dead worker unknown after this
		// lease and queues again pages idle past the grace.
		"HOMETIME_RELAY_LEASE": "30s", "HOMETIME_RELAY_GRACE": "30s",
	}
	envWith := func(extra map[string]string) map[string]string {
		e := map[string]string{}
		for k, v := range common {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		return e
	}

	// The bench's own stack: creates the collections, seeds, and reads
	// broadcasts back. Its _id index fix must come after Init.
	seedEnv := envWith(map[string]string{"HOMETIME_DATA_DIR": filepath.Join(b.dir, "seed")})
	cfg, err := stack.LoadConfig(func(k string) string { return seedEnv[k] })
	if err != nil {
		return err
	}
	if b.st, err = stack.Open(ctx, cfg, quiet); err != nil {
		return err
	}
	b.closers = append(b.closers, func() { _ = b.st.Close() })
	if err := b.emb.Fix(ctx, "fleet"); err != nil {
		return err
	}
	seeded := time.Now()
	if err := seedSchool(ctx, b.st.Store, b.o.teachers, b.o.appFamilies); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	b.progress("seeded in %s", time.Since(seeded).Round(time.Millisecond))
	// As the APIs load it: without a media address, so without videos.
	lib, err := activities.Load(activities.Options{})
	if err != nil {
		return err
	}
	b.acts = lib.All()

	var bases []string
	for i := range 2 {
		port, mport := b.o.basePort+i, b.o.basePort+5+i
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		p, err := newProc(fmt.Sprintf("api%d", i), b.o.apiBin, b.dir, envWith(map[string]string{
			"HOMETIME_DATA_DIR":     filepath.Join(b.dir, fmt.Sprintf("api%d", i)),
			"HOMETIME_HTTP_ADDR":    fmt.Sprintf("127.0.0.1:%d", port),
			"HOMETIME_METRICS_ADDR": fmt.Sprintf("127.0.0.1:%d", mport),
		}), base+"/readyz")
		if err != nil {
			return err
		}
		b.apis = append(b.apis, p)
		bases = append(bases, base)
	}
	for i := range 3 {
		mport := b.o.basePort + 10 + i
		p, err := newProc(fmt.Sprintf("worker%d", i), b.o.workerBin, b.dir, envWith(map[string]string{
			"HOMETIME_DATA_DIR":            filepath.Join(b.dir, fmt.Sprintf("worker%d", i)),
			"HOMETIME_WORKER_METRICS_ADDR": fmt.Sprintf("127.0.0.1:%d", mport),
			// A release finds its class's children by a filter the
			// embedded store answers by scanning every child (20,000
			// here; MongoDB uses its index): on a loaded machine that
			// passes the 5 s default. The APIs keep the default, so a
			// request the load generator gave up on (15 s) does not go
			// on holding the store.
			"HOMETIME_STORE_TIMEOUT": "30s",
		}), fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
		if err != nil {
			return err
		}
		b.workers = append(b.workers, p)
	}
	for _, p := range append(append([]*proc{}, b.apis...), b.workers...) {
		if err := p.start(ctx); err != nil {
			return err
		}
	}
	b.lb = newBalancer(bases, 64)
	b.photo, err = mediatest.PhotoLikeJPEG(1024, 768, 85, 8, 7)
	return err
}

// prepare signs everyone in, gives every app parent a device, has every
// teacher set one assignment, waits for it in every feed, and has every
// app family submit it: the targets of the window's reads and replies.
func (b *bench) prepare(ctx context.Context) error {
	login := func(email string) (string, error) {
		body, _ := json.Marshal(map[string]string{"email": email, "password": benchPassword})
		out, err := b.lb.do(ctx, 0, call{method: "POST", path: "/v1/auth/login", body: body})
		if err != nil {
			return "", fmt.Errorf("sign in %s: %w", email, err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(out, &tok); err != nil || tok.AccessToken == "" {
			return "", fmt.Errorf("sign in %s: no token", email)
		}
		return tok.AccessToken, nil
	}
	var err error
	if b.admin, err = login(adminMail); err != nil {
		return err
	}
	b.progress("admin signed in")
	b.teachers = make([]string, b.o.teachers)
	if err := parallel(ctx, b.o.teachers, func(i int) (err error) {
		b.teachers[i], err = login(teacherMail(i))
		return err
	}); err != nil {
		return err
	}
	b.parents = make([]string, b.o.appFamilies)
	if err := parallel(ctx, b.o.appFamilies, func(i int) (err error) {
		if b.parents[i], err = login(appParentMail(i)); err != nil {
			return err
		}
		body, _ := json.Marshal(map[string]string{"platform": "android", "token": "tok_" + appParentID(i)})
		_, err = b.lb.do(ctx, i, call{method: "POST", path: "/v1/me/devices", token: b.parents[i], body: body, want: 201})
		return err
	}); err != nil {
		return err
	}
	b.progress("parents and teachers signed in, devices registered")
	b.asg = make([]string, b.o.teachers)
	if err := parallel(ctx, b.o.teachers, func(i int) error {
		id, err := b.assign(ctx, i, 0)
		b.asg[i] = id
		return err
	}); err != nil {
		return err
	}
	// Each release reaches its class's feeds through the workers.
	deadline := time.Now().Add(120 * time.Second)
	for i := 0; i < b.o.appFamilies; {
		out, err := b.lb.do(ctx, i, call{method: "GET", path: "/v1/children/" + appChildID(i) + "/feed?limit=20", token: b.parents[i]})
		if err != nil {
			return err
		}
		if strings.Contains(string(out), b.asg[i%b.o.teachers]) {
			i++
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the prepared assignment did not reach child %d's feed within 120s", i)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return parallel(ctx, b.o.appFamilies, func(i int) error {
		_, err := b.lb.do(ctx, i, b.submitCall(i, 0))
		return err
	})
}

// assign has teacher t set an activity to their class; n picks it.
func (b *bench) assign(ctx context.Context, t int, n int64) (string, error) {
	act := b.acts[(int64(t)*7+n)%int64(len(b.acts))]
	body, _ := json.Marshal(map[string]any{"activity_ids": []string{act.ID},
		"due_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	out, err := b.lb.do(ctx, t+int(n), call{method: "POST", path: "/v1/schools/" + schoolID + "/classes/" + classID(t) + "/assignments",
		token: b.teachers[t], body: body, want: 201})
	if err != nil {
		return "", err
	}
	var a struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &a); err != nil || a.ID == "" {
		return "", fmt.Errorf("assignment: no id in %.200s", out)
	}
	return a.ID, nil
}

func (b *bench) submissionPath(i int) string {
	return "/v1/children/" + appChildID(i) + "/assignments/" + b.asg[i%b.o.teachers] + "/submission"
}

func (b *bench) submitCall(i int, seq int64) call {
	body, _ := json.Marshal(map[string]any{"done": true, "rating": 1 + seq%5, "comment": fmt.Sprintf("We did it together, take %d.", seq)})
	return call{method: "POST", path: b.submissionPath(i), token: b.parents[i], body: body}
}

func (b *bench) photoCall(i int) call {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="photo"; filename="IMG_0001.jpg"`)
	hdr.Set("Content-Type", "image/jpeg")
	part, _ := mw.CreatePart(hdr)
	_, _ = part.Write(b.photo)
	_ = mw.Close()
	return call{method: "POST", path: b.submissionPath(i) + "/photos", token: b.parents[i], body: buf.Bytes(),
		ctype: mw.FormDataContentType(), want: 201}
}

func (b *bench) replyCall(i int, seq int64) call {
	t := i % b.o.teachers
	sub := content.SubmissionID(b.asg[t], appChildID(i), appParentID(i))
	body, _ := json.Marshal(map[string]string{"body": fmt.Sprintf("Lovely work, well done both of you (%d)!", seq)})
	return call{method: "POST", path: "/v1/schools/" + schoolID + "/assignments/" + b.asg[t] + "/submissions/" + sub + "/replies",
		token: b.teachers[t], body: body, want: 201}
}

// op is one request of a route; seq picks the family and the API.
func (b *bench) op(ctx context.Context, route string, seq int64) error {
	n := int64(b.o.appFamilies)
	i := int((seq * 7919) % n) // spread over the families
	pick := int(seq % 2)
	var err error
	switch route {
	case rMe:
		_, err = b.lb.do(ctx, pick, call{method: "GET", path: "/v1/me", token: b.parents[i]})
	case rFeed:
		_, err = b.lb.do(ctx, pick, call{method: "GET", path: "/v1/children/" + appChildID(i) + "/feed?limit=20", token: b.parents[i]})
	case rSubmit:
		_, err = b.lb.do(ctx, pick, b.submitCall(i, seq))
	case rPhoto:
		// Round robin, so no submission passes its photo limit.
		_, err = b.lb.do(ctx, pick, b.photoCall(int(seq%n)))
	case rAssign:
		_, err = b.assign(ctx, int(seq)%b.o.teachers, 1+seq)
	case rReply:
		_, err = b.lb.do(ctx, pick, b.replyCall(i, seq))
	}
	return err
}

// routeStats collects one route's latencies, timed from each request's
// scheduled start (the open loop's rule), and its failures.
type routeStats struct {
	mu      sync.Mutex
	samples []time.Duration
	failed  atomic.Int64
	first   error
	res     benchkit.Result
}

func (b *bench) measure(ctx context.Context) (*benchkit.Report, error) {
	o := b.o
	stats := map[string]*routeStats{}
	for _, r := range routeOrder {
		stats[r] = &routeStats{}
	}
	type snapshot struct {
		at        time.Time
		apiCPU    time.Duration
		workerCPU time.Duration
		selfCPU   time.Duration
		redisCPU  float64
		redisCmds int64
		reads     int64
		writes    int64
		sms, push int
	}
	snap := func() (s snapshot, err error) {
		s.at = time.Now()
		for _, p := range b.apis {
			c, _, _ := p.usage()
			s.apiCPU += c
		}
		for _, p := range b.workers {
			c, _, _ := p.usage()
			s.workerCPU += c
		}
		u, err := benchkit.SelfUsage()
		if err != nil {
			return s, err
		}
		s.selfCPU = u.CPU()
		if s.redisCmds, s.redisCPU, err = redisStats(ctx, b.rdb); err != nil {
			return s, err
		}
		s.reads, s.writes = b.emb.Commands()
		s.sms, s.push = b.tw.Requests(), b.fc.Requests()
		return s, nil
	}

	// The Twilio fake's request count, sampled, to see sends stall or not.
	type point struct {
		at time.Time
		n  int
	}
	var sendsMu sync.Mutex
	var sends []point
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampling sync.WaitGroup
	sampling.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			sendsMu.Lock()
			sends = append(sends, point{time.Now(), b.tw.Requests()})
			sendsMu.Unlock()
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
			}
		}
	})
	defer func() { stopSampling(); sampling.Wait() }()

	// The fleet idle: what asynq's polling, heartbeats and the drivers'
	// monitors cost with no load, subtracted from the window's figures.
	idle0, err := snap()
	if err != nil {
		return nil, err
	}
	sleepUntil(ctx, time.Now().Add(5*time.Second))
	idle1, err := snap()
	if err != nil {
		return nil, err
	}
	idleSecs := idle1.at.Sub(idle0.at).Seconds()
	b.idle = idleRates{
		redisCmds: float64(idle1.redisCmds-idle0.redisCmds) / idleSecs,
		reads:     float64(idle1.reads-idle0.reads) / idleSecs,
		writes:    float64(idle1.writes-idle0.writes) / idleSecs,
		apiCPU:    (idle1.apiCPU - idle0.apiCPU).Seconds() / idleSecs,
		workerCPU: (idle1.workerCPU - idle0.workerCPU).Seconds() / idleSecs,
	}
	b.progress("idle fleet, 5 s: %.0f Redis commands/s, %.1f store reads/s, %.1f store writes/s, APIs %.3f CPU s/s, workers %.3f CPU s/s",
		b.idle.redisCmds, b.idle.reads, b.idle.writes, b.idle.apiCPU, b.idle.workerCPU)
	before := idle1
	start := time.Now()
	var wg sync.WaitGroup
	for _, r := range routeOrder {
		rate := *o.rates[r]
		if rate <= 0 {
			continue
		}
		st := stats[r]
		wg.Go(func() {
			loopStart := time.Now()
			open := benchkit.Open{Rate: rate, Duration: o.window, MaxInFlight: 64, Timeout: 15 * time.Second}
			res, err := open.Run(ctx, func(ctx context.Context, _ int, seq int64) error {
				err := b.op(ctx, r, seq)
				lat := time.Since(loopStart.Add(time.Duration(float64(seq) * float64(time.Second) / rate)))
				st.mu.Lock()
				if err == nil {
					st.samples = append(st.samples, lat)
				} else if st.first == nil {
					st.first = err
				}
				st.mu.Unlock()
				if err != nil {
					st.failed.Add(1)
				}
				return err
			})
			st.res = res
			if err != nil && st.first == nil {
				st.first = err
			}
		})
	}

	// The admin's whole-school broadcast.
	var bcID string
	var bcErr error
	var bcSent time.Time
	wg.Go(func() {
		sleepUntil(ctx, start.Add(o.broadcastAt))
		body, _ := json.Marshal(map[string]any{"template": "award",
			"params":   map[string]string{"child_first_name": "your child", "teacher_name": "Mrs Khan"},
			"audience": map[string]any{"all_parents": true}})
		bcSent = time.Now()
		out, err := b.lb.do(ctx, 0, call{method: "POST", path: "/v1/schools/" + schoolID + "/broadcasts", token: b.admin, body: body, want: 202})
		if err != nil {
			bcErr = fmt.Errorf("broadcast: %w", err)
			return
		}
		var bc struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(out, &bc); err != nil || bc.ID == "" {
			bcErr = fmt.Errorf("broadcast: no id in %.200s", out)
		}
		bcID = bc.ID
	})

	// Mid-run: SIGKILL one worker and one API, start both again at once.
	var killed time.Time
	var apiBack, workerBack time.Duration
	var killErr error
	var sendsAtKill int
	var atKill string
	wg.Go(func() {
		sleepUntil(ctx, start.Add(o.killAt))
		if bcID != "" {
			// Only a note for the log: never let it delay the kill.
			gctx, cancel := context.WithTimeout(ctx, time.Second)
			out, err := b.lb.send(gctx, 0, call{method: "GET", path: "/v1/schools/" + schoolID + "/broadcasts/" + bcID, token: b.admin})
			cancel()
			if err == nil {
				var bc struct {
					State string `json:"state"`
					Pages int    `json:"pages"`
				}
				_ = json.Unmarshal(out, &bc)
				atKill = fmt.Sprintf("broadcast %s with %d pages written", bc.State, bc.Pages)
			}
		}
		killed = time.Now()
		sendsAtKill = b.tw.Requests()
		var kw sync.WaitGroup
		var e1, e2 error
		kw.Go(func() {
			if e1 = b.apis[1].kill(); e1 == nil {
				e1 = b.apis[1].start(ctx)
				apiBack = time.Since(killed)
			}
		})
		kw.Go(func() {
			if e2 = b.workers[0].kill(); e2 == nil {
				e2 = b.workers[0].start(ctx)
				workerBack = time.Since(killed)
			}
		})
		kw.Wait()
		killErr = errors.Join(e1, e2)
	})
	wg.Wait()
	after, err := snap()
	if err != nil {
		return nil, err
	}
	if bcErr != nil || killErr != nil {
		return nil, errors.Join(bcErr, killErr)
	}
	b.progress("window done: broadcast %s sent at +%s; api1 and worker0 killed at +%s (%s; the Twilio fake had %d requests then); api1 serving again after %s, worker0 after %s",
		bcID, bcSent.Sub(start).Round(time.Millisecond), killed.Sub(start).Round(time.Millisecond), atKill, sendsAtKill,
		apiBack.Round(time.Millisecond), workerBack.Round(time.Millisecond))

	// The broadcast settles: every recipient sent, or unknown where a dead
	// worker's claim expired (never resent).
	var counts map[string]int
	settled := time.Time{}
	deadline := time.Now().Add(o.settle)
	for {
		out, err := b.lb.do(ctx, 0, call{method: "GET", path: "/v1/schools/" + schoolID + "/broadcasts/" + bcID, token: b.admin})
		if err != nil {
			return nil, err
		}
		var bc struct {
			Counts map[string]int `json:"counts"`
		}
		if err := json.Unmarshal(out, &bc); err != nil {
			return nil, err
		}
		counts = bc.Counts
		if counts["pending"]+counts["sending"]+counts["deferred"] == 0 && counts["sent"]+counts["unknown"] > 0 {
			settled = time.Now()
			break
		}
		if time.Now().After(deadline) {
			b.progress("broadcast not settled %s after the window: %v", o.settle, counts)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	stopSampling()
	sampling.Wait()
	if !settled.IsZero() {
		b.progress("broadcast settled %s after it was sent: %v", settled.Sub(bcSent).Round(time.Millisecond), counts)
	}

	// Exactly once, from the fakes' own records.
	smsDup, smsMissing := 0, 0
	per := map[string]int{}
	for _, m := range b.tw.Accepted() {
		per[m.To]++
	}
	for i := range o.families {
		switch c := per[bulkPhone(i)]; {
		case c == 0:
			smsMissing++
		case c > 1:
			smsDup += c - 1
		}
	}
	pushPer := map[string]int{}
	pushDup := 0
	for _, m := range b.fc.Accepted() {
		k := m.Token + "|" + m.Data["ref"]
		pushPer[k]++
		if pushPer[k] > 1 {
			pushDup++
		}
	}
	b.progress("Twilio fake: %d requests, %d accepted for %d SMS families: %d families got more than one, %d got none (the ledger's unknown: %d)",
		b.tw.Requests(), len(b.tw.Accepted()), o.families, smsDup, smsMissing, counts["unknown"])
	b.progress("FCM fake: %d requests, %d accepted; %d repeats of one (token, ledger entry)", b.fc.Requests(), len(b.fc.Accepted()), pushDup)

	// Sends after the kill: the longest stretch in which the Twilio fake
	// got nothing, while the broadcast was still owed.
	var gap time.Duration
	var lastChange time.Time
	lastN := -1
	for _, p := range sends {
		if p.at.Before(killed) {
			lastN, lastChange = p.n, p.at
			continue
		}
		if p.n != lastN {
			if lastChange.Before(killed) {
				lastChange = killed
			}
			gap = max(gap, p.at.Sub(lastChange))
			lastN, lastChange = p.n, p.at
		}
		if p.n >= o.families {
			break
		}
	}

	// Reporting.
	rep := &benchkit.Report{}
	var all []time.Duration
	var ok, failed int64
	elapsed := after.at.Sub(start)
	fmt.Fprintln(os.Stdout, "# per route (open loop, latency from each request's scheduled start):")
	for _, r := range routeOrder {
		st := stats[r]
		if *o.rates[r] <= 0 {
			continue
		}
		lat := benchkit.Percentiles(st.samples)
		f := st.failed.Load() + st.res.Missed
		ok += int64(len(st.samples))
		failed += f
		all = append(all, st.samples...)
		line := fmt.Sprintf("%s at %g/s: %d ok, %d failed; p50 %.1f ms, p99 %.1f ms, max %.1f ms", routeNames[r], *o.rates[r],
			len(st.samples), f, ms(lat.P50), ms(lat.P99), ms(lat.Max))
		if st.first != nil {
			line += "; first failure: " + st.first.Error()
		}
		b.progress("%s", line)
		rep.Value("fleet_"+r+"_p50", ms(lat.P50), 1, "ms")
		rep.Value("fleet_"+r+"_p99", ms(lat.P99), 1, "ms")
		rep.Count("fleet_"+r+"_errors", f, "count")
	}
	for i := range b.apis {
		line := fmt.Sprintf("api%d: %d answered, %d errors (transport or 5xx), %d rerouted to the other API (connection refused)",
			i, b.lb.answered[i].Load(), b.lb.errs[i].Load(), b.lb.rerouted[i].Load())
		if b.lb.firstErr[i] != nil {
			line += "; first: " + b.lb.firstErr[i].Error()
		}
		b.progress("%s", line)
		rep.Count(fmt.Sprintf("fleet_api%d_errors", i), b.lb.errs[i].Load(), "count")
	}

	// Costs over the window, for the capacity model.
	reqs := float64(ok + failed)
	sms := after.sms - before.sms
	push := after.push - before.push
	msgs := float64(sms + push)
	secs := after.at.Sub(before.at).Seconds()
	apiCPU := after.apiCPU - before.apiCPU
	workerCPU := after.workerCPU - before.workerCPU
	netRedis := float64(after.redisCmds-before.redisCmds) - b.idle.redisCmds*secs
	netReads := float64(after.reads-before.reads) - b.idle.reads*secs
	netWrites := float64(after.writes-before.writes) - b.idle.writes*secs
	b.progress("window costs over %s: %.0f requests, %d SMS and %d push requests to the fakes", elapsed.Round(time.Millisecond), reqs, sms, push)
	b.progress("  API processes: %.2f CPU s = %.2f ms per request", apiCPU.Seconds(), apiCPU.Seconds()*1000/reqs)
	b.progress("  worker processes: %.2f CPU s = %.3f s per 1,000 messages (SMS + push; they also did the releases, replies' notifications and photos' thumbnails)",
		workerCPU.Seconds(), workerCPU.Seconds()/(msgs/1000))
	b.progress("  bench process (embedded store, provider fakes, load generator together): %.2f CPU s", (after.selfCPU - before.selfCPU).Seconds())
	b.progress("  redis: %d commands, %.0f above the idle fleet's (%.1f per request-or-message), %.2f CPU s",
		after.redisCmds-before.redisCmds, netRedis, netRedis/(reqs+msgs), after.redisCPU-before.redisCPU)
	b.progress("  store: %d reads and %d writes through the embedded store's relay; above idle %.0f reads and %.0f writes (%.2f and %.2f per request-or-message)",
		after.reads-before.reads, after.writes-before.writes, netReads, netWrites, netReads/(reqs+msgs), netWrites/(reqs+msgs))
	for _, p := range append(append([]*proc{}, b.apis...), b.workers...) {
		_, peak, rss := p.usage()
		b.progress("  %s: peak RSS %.1f MiB, RSS at the end %.1f MiB, restarts %d", p.name, mib(peak), mib(rss), p.restarts)
	}
	// Per route with the API alone: the workers stop first, so nothing
	// still owed is sent while the store and Redis are counted.
	for _, p := range b.workers {
		p.stop()
	}
	if err := b.perRoute(ctx); err != nil {
		return nil, err
	}

	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	p99 := benchkit.Percentiles(all).P99
	recovery := max(apiBack, workerBack, gap)
	b.progress("recovery: api1 serving %.2f s after the kill, worker0 %.2f s, longest pause in SMS sends after the kill %.2f s"+
		" (a task the killed worker was running, such as the broadcast's expansion, is taken up again once its asynq lease, 30 s, has run out)",
		apiBack.Seconds(), workerBack.Seconds(), gap.Seconds())
	rep.Value("fleet_api_recovery_s", apiBack.Seconds(), 2, "s")
	rep.Value("fleet_worker_recovery_s", workerBack.Seconds(), 2, "s")
	rep.Value("fleet_send_pause_s", gap.Seconds(), 2, "s")
	if !settled.IsZero() {
		rep.Value("fleet_broadcast_s", settled.Sub(bcSent).Seconds(), 1, "s")
	}
	rep.Count("fleet_broadcast_unknown", int64(counts["unknown"]), "count")
	owed := counts["pending"] + counts["sending"] + counts["deferred"]
	rep.Count("fleet_broadcast_owed_at_end", int64(owed), "count")
	// A family with no SMS is lost only if the ledger says it was sent or
	// owes nothing: unknown entries and entries still owed are accounted for.
	rep.Count("fleet_sms_lost", int64(max(smsMissing-counts["unknown"]-owed, 0)), "count")
	rep.Rate("fleet_rps", float64(ok)/elapsed.Seconds(), "req/s")
	rep.Value("fleet_p99_ms", ms(p99), 1, "ms")
	rep.Count("fleet_errors", failed, "count")
	rep.Count("fleet_dup_sends", int64(smsDup+pushDup), "count")
	rep.Value("fleet_recovery_s", recovery.Seconds(), 2, "s")
	return rep, nil
}

// perRoute measures, with the load stopped, the store and Redis commands
// one request of each read route costs: n requests one after another,
// divided out. The workers are idle but still heartbeat, so this is an
// upper bound.
func (b *bench) perRoute(ctx context.Context) error {
	const n = 200
	for _, r := range []string{rMe, rFeed, rSubmit} {
		r0, w0 := b.emb.Commands()
		c0, _, err := redisStats(ctx, b.rdb)
		if err != nil {
			return err
		}
		t0 := time.Now()
		for seq := range int64(n) {
			if err := b.op(ctx, r, seq); err != nil {
				return fmt.Errorf("%s: %w", r, err)
			}
		}
		took := time.Since(t0)
		r1, w1 := b.emb.Commands()
		c1, _, err := redisStats(ctx, b.rdb)
		if err != nil {
			return err
		}
		sec := took.Seconds()
		b.progress("  one %s, quiet, %d in a row, idle fleet's background subtracted: %.2f store reads + %.2f store writes, %.2f Redis commands, %.2f ms each",
			routeNames[r], n, (float64(r1-r0)-b.idle.reads*sec)/n, (float64(w1-w0)-b.idle.writes*sec)/n,
			(float64(c1-c0-2)-b.idle.redisCmds*sec)/n, ms(took)/n)
	}
	return nil
}

// redisStats is the total commands Redis has served and its CPU seconds.
func redisStats(ctx context.Context, rdb *redis.Client) (int64, float64, error) {
	info, err := rdb.Info(ctx, "stats", "cpu").Result()
	if err != nil {
		return 0, 0, err
	}
	var cmds int64
	var cpu float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "total_commands_processed":
			cmds, _ = strconv.ParseInt(v, 10, 64)
		case "used_cpu_sys", "used_cpu_user":
			f, _ := strconv.ParseFloat(v, 64)
			cpu += f
		}
	}
	return cmds, cpu, nil
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

// parallel runs fn for 0..n-1 on four goroutines; the first error stops the rest.
func parallel(ctx context.Context, n int, fn func(int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
	"github.com/redis/go-redis/v9"
)

// The loopback port ranges this test's Redis servers and Sentinels take
// free ports from.
const (
	sentinelServerPorts = 16380
	sentinelPorts       = 26380
	sentinelPortSpan    = 20
	sentinelMaster      = "mymaster"
)

// sentinelSet is a real Redis master, one replica and three Sentinels
// (quorum 2) on loopback ports, each a redis-server process.
type sentinelSet struct {
	t                     *testing.T
	dir                   string
	master                *exec.Cmd
	masterPort, replicaPt int
	sentinelAddrs         []string
	logs                  []string // each process's log file, shown when the test fails
	nodes                 map[string]*redis.Client
	sentinels             map[string]*redis.SentinelClient
}

// redisServer returns the path of redis-server. Without one the test is
// skipped, except under CI=true, where it fails: CI must run it.
func redisServer(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH: CI must run the Sentinel failover test (.ci/run installs Debian's redis-server)")
		}
		t.Skip("redis-server is not on PATH, so the Sentinel failover test cannot start a master, a replica and Sentinels " +
			"(Debian: apt-get install redis-server)")
	}
	return path
}

func startSentinelSet(t *testing.T) *sentinelSet {
	bin := redisServer(t)
	s := &sentinelSet{t: t, dir: t.TempDir(), nodes: map[string]*redis.Client{}, sentinels: map[string]*redis.SentinelClient{}}
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range s.logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", filepath.Base(l), tail(string(b), 40))
			}
		}
	})
	s.masterPort = freePort(t, sentinelServerPorts)
	// No persistence: a restarted node would be a new, empty one anyway.
	server := []string{"--save", "", "--appendonly", "no", "--dir", s.dir}
	s.master = s.start(bin, "master", append([]string{"--port", strconv.Itoa(s.masterPort)}, server...)...)
	s.replicaPt = freePort(t, sentinelServerPorts)
	s.start(bin, "replica", append([]string{"--port", strconv.Itoa(s.replicaPt),
		"--replicaof", "127.0.0.1", strconv.Itoa(s.masterPort)}, server...)...)
	s.await("the replica to sync", func(ctx context.Context) bool {
		info, err := s.node(s.replicaPt).Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	for i := 0; i < 3; i++ {
		port := freePort(t, sentinelPorts)
		conf := filepath.Join(s.dir, fmt.Sprintf("sentinel-%d.conf", port))
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\n"+
			"sentinel parallel-syncs %s 1\n",
			port, s.dir, sentinelMaster, s.masterPort, sentinelMaster, sentinelMaster, sentinelMaster)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		// redis-server with --sentinel is redis-sentinel (the same binary).
		s.start(bin, fmt.Sprintf("sentinel-%d", port), conf, "--sentinel")
		s.sentinelAddrs = append(s.sentinelAddrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	// A failover needs a majority of Sentinels that know one another and
	// the replica; they find each other through the master within seconds.
	s.await("the Sentinels to know each other and the replica", func(ctx context.Context) bool {
		for _, a := range s.sentinelAddrs {
			m, err := s.sentinel(a).Master(ctx, sentinelMaster).Result()
			if err != nil || m["num-other-sentinels"] != "2" || m["num-slaves"] != "1" {
				return false
			}
		}
		return true
	})
	return s
}

// start runs redis-server with args; the process is killed when the test ends.
func (s *sentinelSet) start(bin, name string, args ...string) *exec.Cmd {
	logFile := filepath.Join(s.dir, name+".log")
	s.logs = append(s.logs, logFile)
	args = append(args, "--bind", "127.0.0.1", "--logfile", logFile, "--daemonize", "no")
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func (s *sentinelSet) node(port int) *redis.Client {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if c, ok := s.nodes[addr]; ok {
		return c
	}
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	s.t.Cleanup(func() { _ = c.Close() })
	s.nodes[addr] = c
	return c
}

func (s *sentinelSet) sentinel(addr string) *redis.SentinelClient {
	if c, ok := s.sentinels[addr]; ok {
		return c
	}
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	s.t.Cleanup(func() { _ = c.Close() })
	s.sentinels[addr] = c
	return c
}

// url is REDIS_URL in its Sentinel form.
func (s *sentinelSet) url() string {
	return "redis-sentinel://" + strings.Join(s.sentinelAddrs, ",") + "/0?master=" + sentinelMaster
}

// masterPortNow asks a Sentinel which port it holds the master on.
func (s *sentinelSet) masterPortNow(ctx context.Context) int {
	for _, a := range s.sentinelAddrs {
		addr, err := s.sentinel(a).GetMasterAddrByName(ctx, sentinelMaster).Result()
		if err == nil && len(addr) == 2 {
			p, _ := strconv.Atoi(addr[1])
			return p
		}
	}
	return 0
}

// await polls cond (these are other processes: there is no signal to wait
// on) for up to 30 s.
func (s *sentinelSet) await(what string, cond func(ctx context.Context) bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok := cond(ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a loopback port in [from, from+sentinelPortSpan) that
// nothing listens on.
func freePort(t *testing.T, from int) int {
	t.Helper()
	for p := from; p < from+sentinelPortSpan; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		_ = ln.Close()
		if !claimPort(p) {
			continue
		}
		return p
	}
	t.Fatalf("no free port in %d-%d", from, from+sentinelPortSpan-1)
	return 0
}

// Ports handed out in this process: a port is free until its server
// binds it, so two calls must not hand out the same one.
var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

func claimPort(p int) bool {
	portsMu.Lock()
	defer portsMu.Unlock()
	if ports[p] {
		return false
	}
	ports[p] = true
	return true
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// sendTimes records when the provider's accepted count grew.
type sendTimes struct {
	mu     sync.Mutex
	at     []time.Time
	counts []int
}

func watchSends(ctx context.Context, fake *providerfake.Twilio) *sendTimes {
	w := &sendTimes{}
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		last := 0
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if n := fake.AcceptedCount(); n != last {
					w.mu.Lock()
					w.at, w.counts = append(w.at, now), append(w.counts, n)
					w.mu.Unlock()
					last = n
				}
			}
		}
	}()
	return w
}

// pauses lists the pauses in sending of at least stall after kill, for the log.
func (w *sendTimes) pauses(kill time.Time, stall time.Duration) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for i := 1; i < len(w.at); i++ {
		if g := w.at[i].Sub(w.at[i-1]); g >= stall && w.at[i].After(kill) {
			fmt.Fprintf(&b, "[%.2f to %.2f s after, at %d sent] ", w.at[i-1].Sub(kill).Seconds(), w.at[i].Sub(kill).Seconds(), w.counts[i-1])
		}
	}
	return b.String()
}

// resumedAfter is how long after kill the provider accepted a message
// again, following the first pause of at least stall (0: sending never
// paused), and when it accepted the last one.
func (w *sendTimes) resumedAfter(kill time.Time, stall time.Duration) (resumed, last time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.at) > 0 {
		last = w.at[len(w.at)-1].Sub(kill)
	}
	for i := 1; i < len(w.at); i++ {
		if w.at[i].After(kill) && w.at[i].Sub(w.at[i-1]) >= stall {
			return w.at[i].Sub(kill), last
		}
	}
	return 0, last
}

// TestSentinelFailoverMidBroadcast: Redis runs as a master, a replica and
// three Sentinels; a worker process and this test's own stack (the API's
// throttles, the queue client) reach it through REDIS_URL's
// redis-sentinel:// form. Part-way through a 2,000-SMS broadcast the
// master is SIGKILLed. The Sentinels promote the replica, every client
// follows it, and from the provider fake's record: no recipient is sent
// twice, every recipient is sent or unknown (no more unknown than the
// worker may hold claimed), the sign-in throttle and the rate limiter work
// on the new master, and the time until sends resumed is logged.
func TestSentinelFailoverMidBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis, Sentinel and worker processes")
	}
	// Not parallel: the chaos tests' broadcasts share the embedded store,
	// and their load would be measured as the failover's.
	begin := time.Now()
	set := startSentinelSet(t)
	ready := time.Since(begin)
	db := mongotest.NewDatabase(t)
	fake := providerfake.NewTwilio(t)
	env := chaosEnv(t, fake, db.Name(), set.url())
	env["HOMETIME_LOGIN_FAILURES_PER_IP"] = "3"
	// A relay lease and grace longer than the failover: pages waiting their
	// turn behind the paused sends are not taken for lost, and the relay's
	// extra tasks do not crowd the embedded store, so what is measured is
	// what Redis's failover costs.
	env["HOMETIME_RELAY_LEASE"], env["HOMETIME_RELAY_GRACE"] = "10s", "10s"
	cfg, err := stack.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Redis.Sentinel() {
		t.Fatalf("REDIS_URL %s did not parse as Sentinels: %v", set.url(), cfg.Redis)
	}
	ctx := context.Background()
	// This process's stack: the queue client and the API's throttles, on
	// the same failover client a worker builds.
	st, err := stack.Open(ctx, cfg, stack.NewLogger(io.Discard, "error"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	app, err := st.APIApp(stack.NewLogger(io.Discard, "error"), nil)
	if err != nil {
		t.Fatal(err)
	}
	seedBroadcast(t, st.Store, chaosFamilies)
	c := &chaos{t: t, ctx: ctx, store: st.Store, fake: fake, queue: st.Queue, env: append(os.Environ(), childEnv+"=1")}
	for k, v := range env {
		c.env = append(c.env, k+"="+v)
	}
	task, _ := tasks.NewExpandBroadcast("brd_chaos")
	if _, err := st.Queue.EnqueueContext(ctx, task); err != nil {
		t.Fatal(err)
	}
	seeded := time.Since(begin)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	sends := watchSends(watchCtx, fake)
	c.startWorker()
	c.waitForSends(600)

	if err := set.master.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	kill := time.Now()
	_ = set.master.Wait()
	atKill := fake.AcceptedCount()
	set.await("the Sentinels to promote the replica", func(ctx context.Context) bool { return set.masterPortNow(ctx) == set.replicaPt })
	promoted := time.Since(kill)

	states := c.waitSettled()
	stopWatch()
	resumed, last := sends.resumedAfter(kill, 200*time.Millisecond)
	t.Logf("Redis and Sentinels ready %.1f s, store seeded %.1f s after the start; pauses in sending after the kill: %s",
		ready.Seconds(), seeded.Seconds(), sends.pauses(kill, 200*time.Millisecond))

	dups := 0
	for i := 0; i < chaosFamilies; i++ {
		if n := fake.SentTo(phoneOf(fmt.Sprintf("par_%05d", i))); n > 1 {
			dups += n - 1
		}
	}
	sent, unknown := states[content.StateSent], states[content.StateUnknown]
	lost := chaosFamilies - sent - unknown
	t.Logf("sentinel failover: master killed after %d sends; replica promoted %.2f s after the kill; sends resumed %.2f s after the kill; the last send %.2f s after it; "+
		"duplicates %d, lost %d, sent %d, unknown %d, provider accepted %d of %d requests",
		atKill, promoted.Seconds(), resumed.Seconds(), last.Seconds(), dups, lost, sent, unknown, fake.AcceptedCount(), len(fake.Received()))
	if dups != 0 {
		t.Errorf("%d duplicate sends", dups)
	}
	if lost != 0 {
		t.Errorf("%d recipients neither sent nor unknown: %v", lost, states)
	}
	// A worker holds at most half a second of sending claimed and unsent
	// (worker.SMSHeld); only those can end unknown, and only if their
	// outcomes could not be written — the store was never down here.
	if bound := 250 / 2; unknown > bound {
		t.Errorf("%d unknown, more than the %d a worker may hold claimed", unknown, bound)
	}
	// Every entry recorded sent was accepted; an unknown one may or may not
	// have been (its outcome was not recorded in time).
	if a := fake.AcceptedCount(); a < sent || a > sent+unknown {
		t.Errorf("provider accepted %d, ledger says %d sent and %d unknown", a, sent, unknown)
	}

	// Every client of this process now talks to the promoted replica.
	port, err := st.Redis.ConfigGet(ctx, "port").Result()
	if err != nil || port["port"] != strconv.Itoa(set.replicaPt) {
		t.Fatalf("the stack's Redis answers from port %v (%v), want the promoted replica's %d", port, err, set.replicaPt)
	}
	// The sign-in throttle: three failed attempts from one address, then 429.
	var codes []int
	for i := 0; i < 4; i++ {
		req := httptest.NewRequest("POST", "/v1/auth/login",
			bytes.NewBufferString(`{"email":"nobody@example.test","password":"not-the-password"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := app.Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[401 401 401 429]" {
		t.Errorf("sign-in attempts after the failover answered %v, want [401 401 401 429]", codes)
	}
	// The rate limiter: a bucket of one per second grants one, then none.
	lim := ratelimit.New(st.Redis)
	rate := ratelimit.Rate{PerSecond: 1, Burst: 1}
	g1, _, err1 := lim.Take(ctx, "sentinel-check", rate, 1)
	g2, wait, err2 := lim.Take(ctx, "sentinel-check", rate, 1)
	if err1 != nil || err2 != nil || g1 != 1 || g2 != 0 || wait <= 0 {
		t.Errorf("rate limiter after the failover: granted %d (%v) then %d (%v, retry in %v); want 1 then 0", g1, err1, g2, err2, wait)
	}
}

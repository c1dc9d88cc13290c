package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/scripts/benchkit/benchapi"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// options are the knobs of one run; the defaults are the benchmark.
type options struct {
	conns      int
	duration   time.Duration
	warmup     time.Duration
	families   int
	logins     int
	loginConns int
	profileDir string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	// The API is measured as its binary runs it (its GC settings).
	stack.TuneGC(getenv)
	var o options
	fs := flag.NewFlagSet("bench-api", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.IntVar(&o.conns, "conns", 64, "connections (and store goroutines) per load phase")
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "measured time per load phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each load phase")
	fs.IntVar(&o.families, "families", 1000, "parents to seed, each with two children")
	fs.IntVar(&o.logins, "logins", 200, "timed sign-ins, each of a different parent")
	fs.IntVar(&o.loginConns, "login-conns", 4, "concurrent timed sign-ins")
	fs.StringVar(&o.profileDir, "profiledir", "", "write a CPU profile of each phase's measured window into this directory (static, store, me, login .pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.conns < 1 || o.loginConns < 1 || o.families < o.conns+o.logins {
		return fmt.Errorf("need -conns, -login-conns ≥ 1 and -families ≥ conns+logins (%d)", o.conns+o.logins)
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stdout, "# "+format+"\n", a...) }

	srv, err := benchapi.Start(ctx, "api", getenv)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			progress("shutdown: %v", err)
		}
	}()
	progress("API on %s, store %s, redis %s", srv.BaseURL, srv.StoreKind, srv.RedisKind)

	began := time.Now()
	fams, err := seedFamilies(ctx, srv.Stack.Store, o.families)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	progress("seeded %d parents and %d children in %s", len(fams), 2*len(fams), time.Since(began).Round(time.Millisecond))

	// One parent per connection, signed in once; the rest are left for the
	// timed sign-ins so each of those is a first sign-in of its account.
	tokens, err := srv.SignIn(ctx, emailsOf(fams[:o.conns]), benchPassword, o.loginConns)
	if err != nil {
		return err
	}
	if err := checkMe(ctx, srv.BaseURL, tokens[0], fams[0].parentID); err != nil {
		return err
	}

	load := benchkit.Closed{Workers: o.conns, Duration: o.duration, Warmup: o.warmup}
	phases := &phaseRunner{ctx: ctx, progress: progress, profileDir: o.profileDir}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
	}

	// (1) static: what Fiber, the middleware and the loopback cost alone.
	static, err := phases.run("GET /healthz", "static", o.warmup, func() (benchkit.Result, error) {
		return load.RunHTTP(ctx, func(int, int64) benchkit.Request {
			return benchkit.Request{URL: srv.BaseURL + "/healthz"}
		})
	})
	if err != nil {
		return err
	}

	// (2) the reference: the store's own FindOne by _id, at the same
	// concurrency, against the same store, over the parents /v1/me reads.
	ids := make([]string, len(fams))
	for i, f := range fams {
		ids[i] = f.parentID
	}
	store, err := phases.run("store FindOne by _id", "store", o.warmup, func() (benchkit.Result, error) {
		return findByID(ctx, load, srv.Stack.MongoClient().Database(srv.Stack.Config.Database).Collection("parents"), ids)
	})
	if err != nil {
		return err
	}

	// (3) the authenticated read, one parent's token per connection.
	headers := make([]http.Header, len(tokens))
	for i, t := range tokens {
		headers[i] = http.Header{"Authorization": {"Bearer " + t}}
	}
	me, err := phases.run("GET /v1/me", "me", o.warmup, func() (benchkit.Result, error) {
		return load.RunHTTP(ctx, func(worker int, _ int64) benchkit.Request {
			return benchkit.Request{URL: srv.BaseURL + "/v1/me", Header: headers[worker%len(headers)]}
		})
	})
	if err != nil {
		return err
	}

	// (4) sign-in latency: argon2id dominates by design, so a few at a time.
	login, err := phases.run("POST /v1/auth/login", "login", 0, func() (benchkit.Result, error) {
		return timedLogins(ctx, srv.BaseURL, fams[o.conns:o.conns+o.logins], o.loginConns)
	})
	if err != nil {
		return err
	}

	if len(phases.disturbed) > 0 {
		progress("WARNING: other processes took more than %.1f cores during %s: these figures do not compare with a quiet run",
			disturbedCores, strings.Join(phases.disturbed, ", "))
	}
	var rep benchkit.Report
	rep.Millis("api_static_p50_ms", static.res.Latency.P50)
	rep.Millis("api_static_p99_ms", static.res.Latency.P99)
	rep.Millis("store_get_by_id_p50_ms", store.res.Latency.P50)
	rep.Millis("store_get_by_id_p99_ms", store.res.Latency.P99)
	rep.Value("api_static_cpu_per_op", static.cpuPerOp(), 0, "us")
	rep.Value("store_get_by_id_cpu_per_op", store.cpuPerOp(), 0, "us")
	rep.Value("api_me_cpu_per_op", me.cpuPerOp(), 0, "us")
	rep.Millis("login_p50_ms", login.res.Latency.P50)
	rep.Millis("api_me_p50_ms", me.res.Latency.P50)

	rep.Rate("api_static_rps", static.res.Rate, "req/s")
	rep.Rate("store_get_by_id_rps", store.res.Rate, "ops/s")
	rep.Rate("api_me_rps", me.res.Rate, "req/s")
	rep.Value("api_me_vs_store_pct", 100*me.res.Rate/store.res.Rate, 1, "%")
	rep.Millis("api_me_p99_ms", me.res.Latency.P99)
	rep.Millis("login_p99_ms", login.res.Latency.P99)
	return rep.Print(stdout)
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux ABI Go
// supports.
const clockTicks = 100

// measured is one phase's load result and the process CPU it took. The
// load generator runs in this process too, so CPU per operation is the
// whole round trip's cost on this machine: client, server and store.
type measured struct {
	res  benchkit.Result
	cpu  time.Duration // process CPU over warm-up and window
	wall time.Duration // warm-up and window
}

// cpuPerOp is microseconds of process CPU per successful operation. The CPU
// reading spans the warm-up too, so the operations are counted over the
// same span at the measured rate. Unlike the rate, it barely moves when
// other work on the machine takes cores from the run.
func (m measured) cpuPerOp() float64 {
	ops := m.res.Rate * m.wall.Seconds()
	if ops <= 0 {
		return 0
	}
	return float64(m.cpu.Microseconds()) / ops
}

// disturbedCores is how much CPU other processes may use during a phase
// before the run is flagged: on a 2-core machine even half a core moves
// the figures by a quarter.
const disturbedCores = 0.1

// phaseRunner runs the load phases one after another.
type phaseRunner struct {
	ctx        context.Context
	progress   func(format string, a ...any)
	profileDir string   // profile each measured window here when set
	disturbed  []string // phases during which other processes took cores
}

// run runs one load, reports it and refuses a run with any failure: the
// speed of error responses is not a figure worth publishing. warmup is the
// load's, so a profile covers the measured window only.
func (r *phaseRunner) run(name, short string, warmup time.Duration, load func() (benchkit.Result, error)) (measured, error) {
	profile := ""
	if r.profileDir != "" {
		profile = filepath.Join(r.profileDir, short+".pprof")
	}
	stopProfile, err := profileWindow(profile, warmup)
	if err != nil {
		return measured{}, err
	}
	m, err := r.measure(name, load)
	if perr := stopProfile(); perr != nil {
		return measured{}, errors.Join(err, perr)
	}
	if err == nil && profile != "" {
		r.progress("CPU profile of the measured window in %s", profile)
	}
	return m, err
}

func (r *phaseRunner) measure(name string, load func() (benchkit.Result, error)) (measured, error) {
	before, err := benchkit.SelfUsage()
	if err != nil {
		return measured{}, err
	}
	machineBefore := machineBusy()
	began := time.Now()
	res, err := load()
	if err != nil {
		return measured{}, fmt.Errorf("%s: %w", name, err)
	}
	after, err := benchkit.SelfUsage()
	if err != nil {
		return measured{}, err
	}
	cpu := after.CPU() - before.CPU()
	wall := time.Since(began)
	others := "unknown"
	if b, a := machineBefore, machineBusy(); b >= 0 && a >= 0 {
		cores := max((a-b).Seconds()-cpu.Seconds(), 0) / wall.Seconds()
		others = fmt.Sprintf("%.2f", cores)
		if cores > disturbedCores {
			r.disturbed = append(r.disturbed, name)
		}
	}
	dials := ""
	if res.Dials > 0 { // HTTP: more dials than connections means some were not kept alive
		dials = fmt.Sprintf(" (dials %d)", res.Dials)
	}
	r.progress("%s: %v%s; cores used: this process %.2f, others %s (of %d)",
		name, res, dials, cpu.Seconds()/wall.Seconds(), others, runtime.NumCPU())
	if res.Failed() > 0 || res.OK == 0 {
		return measured{}, fmt.Errorf("%s: %d of %d operations failed, first: %v", name, res.Failed(), res.Count, res.FirstErr)
	}
	return measured{res: res, cpu: cpu, wall: wall}, r.ctx.Err()
}

// machineBusy is the CPU time every process on the machine has used since
// boot (Linux /proc/stat), or -1 when unknown. Other work on the machine
// takes cores from the run; a phase reports how many so a noisy run is
// seen for what it is.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return -1
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// profileWindow starts a CPU profile once the warm-up is over; the returned
// stop ends it (or cancels it if it never started). No path, no profile.
func profileWindow(path string, warmup time.Duration) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	started := make(chan error, 1)
	begin := func() { started <- pprof.StartCPUProfile(f) }
	var timer *time.Timer
	if warmup > 0 {
		timer = time.AfterFunc(warmup, begin)
	} else {
		begin()
	}
	return func() error {
		var startErr error
		if timer != nil && timer.Stop() {
			startErr = errors.New("cpu profile: the phase ended before its warm-up did")
		} else if startErr = <-started; startErr == nil {
			pprof.StopCPUProfile()
		}
		return errors.Join(startErr, f.Close())
	}, nil
}

func emailsOf(fams []family) []string {
	out := make([]string, len(fams))
	for i, f := range fams {
		out[i] = f.email
	}
	return out
}

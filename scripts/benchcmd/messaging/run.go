package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// settings are the knobs of one run; the defaults are the benchmark.
type settings struct {
	sms          int
	email        int
	push         int
	fanout       int
	announce     int
	announceWait time.Duration
	rlFamilies   int
	rlCap        int
	rlWorkers    int
	window       time.Duration
	smsRate      float64
	phases       string
	profileDir   string
}

// roleEnv names the child role when the program runs as its own child.
const roleEnv = "HOMETIME_BENCH_ROLE"

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	// The pipeline is measured as the binaries run it (their GC settings).
	stack.TuneGC(getenv)
	switch getenv(roleEnv) {
	case "worker":
		return runWorker(ctx, getenv)
	case "expand":
		return runExpand(ctx, getenv, stdout)
	}
	var o settings
	fs := flag.NewFlagSet("bench-messaging", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.IntVar(&o.sms, "sms", 20000, "SMS families of the throughput phase")
	fs.IntVar(&o.email, "email", 20000, "email-only families of the email phase")
	fs.IntVar(&o.push, "push", 20000, "parents of the push phase (one device each)")
	fs.IntVar(&o.fanout, "fanout", 100000, "families of the fan-out memory phase")
	fs.DurationVar(&o.announceWait, "announce-wait", 10*time.Minute, "how long the announcement phase waits for every message to settle")
	fs.IntVar(&o.announce, "announce", 20000, "families of the announcement phase (thirds by SMS, email and push; English, Welsh, Polish)")
	fs.IntVar(&o.rlFamilies, "ratelimit-families", 4000, "SMS families of the rate-limit phase (enough to outlast the window)")
	fs.IntVar(&o.rlCap, "cap", 50, "the Twilio fake's cap in the rate-limit phase, messages/s (also HOMETIME_SMS_RATE)")
	fs.IntVar(&o.rlWorkers, "workers", 3, "worker processes of the rate-limit phase")
	fs.DurationVar(&o.window, "window", 60*time.Second, "measured window of the rate-limit phase")
	fs.Float64Var(&o.smsRate, "sms-rate", 10000, "HOMETIME_SMS_RATE of the throughput phase (the config's maximum is 10000)")
	fs.StringVar(&o.phases, "phases", "sms,email,push,announcement,fanout,ratelimit", "phases to run, comma-separated")
	fs.StringVar(&o.profileDir, "profiledir", "", "write CPU profiles of the sms, email and push windows and of the fan-out child (and its heap) into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.profileDir != "" {
		abs, err := filepath.Abs(o.profileDir)
		if err != nil {
			return err
		}
		o.profileDir = abs
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
	}
	want := map[string]bool{}
	for _, p := range strings.Split(o.phases, ",") {
		want[strings.TrimSpace(p)] = true
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stdout, "# "+format+"\n", a...) }
	log := stack.NewLogger(os.Stderr, "error")

	be, err := openBackend(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := be.close(); err != nil {
			progress("shutdown: %v", err)
		}
	}()
	progress("store: %s; redis: %s (flushed before each phase); each phase on a database of its own", be.storeKind, be.redisKind)

	b := &bench{o: o, be: be, log: log, progress: progress}
	var rep benchkit.Report
	// The rate-limit phase is a fixed minute plus its seeding: it runs last.
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"sms", b.smsPhase}, {"email", b.emailPhase}, {"push", b.pushPhase}, {"announcement", b.announcementPhase},
		{"fanout", b.fanoutPhase}, {"ratelimit", b.rateLimitPhase},
	}
	for _, s := range steps {
		if !want[s.name] {
			continue
		}
		began := time.Now()
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("%s phase: %w", s.name, err)
		}
		progress("%s phase took %s", s.name, time.Since(began).Round(time.Millisecond))
	}

	r := b.results
	rep.Rate("sms_per_s", r.smsPerSec, "msg/s")
	rep.Value("sms_cpu_s_per_1k", r.smsCPUPer1k, 3, "s")
	rep.Value("sms_store_cmds_per_msg", r.smsStoreCmds, 4, "cmds")
	rep.Value("sms_redis_cmds_per_msg", r.smsRedisCmds, 2, "cmds")
	rep.Count("email_requests_per_20k", int64(r.emailRequests), "requests")
	rep.Count("push_batches_per_20k", int64(r.pushBatches), "calls")
	rep.Value("ratelimit_pct_of_cap", r.rlPct, 1, "%")
	rep.Count("ratelimit_429s", int64(r.rl429s), "count")
	rep.MiB("fanout_peak_rss_mb", r.fanoutPeakRSS)
	if want["announcement"] {
		rep.Rate("announcement_per_s", r.annPerSec, "msg/s")
		rep.Count("announcement_email_requests", int64(r.annEmailRequests), "requests")
		rep.Count("announcement_push_batches", int64(r.annPushBatches), "calls")
		rep.Count("announcement_sms", int64(r.annSMS), "messages")
	}
	return rep.Print(stdout)
}

// bench is one run's shared state.
type bench struct {
	o        settings
	be       *backend
	log      *slog.Logger
	progress func(string, ...any)
	results  struct {
		smsPerSec, smsCPUPer1k float64
		smsStoreCmds           float64
		smsRedisCmds           float64
		emailRequests          int
		pushBatches            int
		rlPct                  float64
		rl429s                 int
		fanoutPeakRSS          int64
		annPerSec              float64
		annEmailRequests       int
		annPushBatches         int
		annSMS                 int
	}
}

// profile writes a CPU profile of what f does to the profile dir, if any.
func (b *bench) profile(name string, f func() error) error {
	if b.o.profileDir == "" {
		return f()
	}
	path := filepath.Join(b.o.profileDir, name+".pprof")
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	defer file.Close()
	if err := pprof.StartCPUProfile(file); err != nil {
		return err
	}
	err = f()
	pprof.StopCPUProfile()
	b.progress("CPU profile: %s", path)
	return err
}

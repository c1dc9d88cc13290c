package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

const (
	roleEnv         = "HOMETIME_BENCH_ROLE"
	profileEnv      = "HOMETIME_BENCH_CPUPROFILE"
	nowEnv          = "HOMETIME_BENCH_NOW"
	defaultRedisURL = "redis://127.0.0.1:6379/15" // flushed by the bench
	benchSecret     = "hometime-bench-secret-0123456789abcdef"
	database        = "bench_retention"
)

// childResult is what the sweep child reports on its last line.
type childResult struct {
	Seconds  float64                  `json:"seconds"`
	PeakRSS  int64                    `json:"peak_rss"`
	HeapSys  uint64                   `json:"heap_sys"`
	Result   worker.ParentSweepResult `json:"result"`
	Children int                      `json:"-"`
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	// Both processes run with the binaries' GC settings: the sweep as the
	// worker runs it, the store as the dev stack hosts it.
	stack.TuneGC(getenv)
	if getenv(roleEnv) == "sweep" {
		return runSweep(ctx, getenv, stdout)
	}
	fs := flag.NewFlagSet("retention", flag.ContinueOnError)
	n := fs.Int("parents", 200_000, "parents to seed")
	profDir := fs.String("cpuprofile", "", "folder to write CPU profiles of the sweep to: store.pprof (this process, which serves the store) and sweep.pprof (the child)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, err := os.MkdirTemp("", "bench-retention-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	storeURI, storeKind := getenv("MONGODB_URI"), "MONGODB_URI"
	var emb *embedded.Store
	if storeURI == "" {
		if emb, err = embedded.Start(ctx, filepath.Join(dir, "store"), log); err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
		defer emb.Close()
		storeURI, storeKind = emb.URI(), "embedded FerretDB on SQLite (the dev store), in the bench's parent process"
	}
	redisURL, redisKind := getenv("REDIS_URL"), "REDIS_URL"
	if redisURL == "" {
		if benchkit.RedisAnswers(ctx, defaultRedisURL) {
			redisURL, redisKind = defaultRedisURL, "real Redis at "+defaultRedisURL
		} else {
			mr, err := miniredis.Run()
			if err != nil {
				return err
			}
			defer mr.Close()
			redisURL, redisKind = "redis://"+mr.Addr(), "embedded miniredis"
		}
	}
	env := map[string]string{
		"HOMETIME_DATA_DIR": filepath.Join(dir, "data"), "MONGODB_URI": storeURI, "HOMETIME_DB": database,
		"REDIS_URL": redisURL, "HOMETIME_JWT_SECRET": benchSecret, "HOMETIME_LOG_LEVEL": "error",
	}
	st, err := openStack(ctx, func(k string) string { return env[k] }, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if emb != nil {
		if err := emb.Fix(ctx, database); err != nil {
			return err
		}
	}
	if err := st.Redis.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush redis: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := st.Store.CreateSchool(ctx, &content.School{ID: benchSchoolID, Name: "Hometime Bench Primary", Country: "GB",
		TimeZone: "Europe/London", Language: "en", Subscription: content.Subscription{State: content.SubscriptionActive}, CreatedAt: now}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# store: %s; redis: %s; %d CPUs\n", storeKind, redisKind, runtime.NumCPU())
	seedStart := time.Now()
	due, counts, err := seedParents(ctx, st.MongoClient().Database(database), *n, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# seeded %d parents in %.1f s: recent %d, due notice %d, warned fresh %d, due close %d, signed in since warning %d, closed fresh %d, due erasure %d, invited %d\n",
		*n, time.Since(seedStart).Seconds(), counts[recent], counts[dueNotice], counts[warnedFresh], counts[dueClose],
		counts[signedInSince], counts[closedFresh], counts[dueErase], counts[invited])

	// The sweep runs in a child process: the worker whose time and peak RSS
	// are the figures. The store stays in this process, as a separate
	// mongod would be.
	env[nowEnv] = now.Format(time.RFC3339)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), roleEnv+"=sweep")
	stopProfile := func() {}
	if *profDir != "" {
		cmd.Env = append(cmd.Env, profileEnv+"="+filepath.Join(*profDir, "sweep.pprof"))
		if stopProfile, err = benchkit.StartCPUProfile(filepath.Join(*profDir, "store.pprof")); err != nil {
			return err
		}
		defer stopProfile()
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	var res childResult
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(stdout, line)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("sweep child: %w", err)
	}
	storeUsage, _ := benchkit.SelfUsage()
	stopProfile()

	// Who was notified: the parents named by the sweep's notice
	// broadcasts, each once, and each now warned.
	notified := map[string]int{}
	for _, id := range res.Result.NoticeBroadcasts {
		b, err := st.Store.Broadcast(ctx, id)
		if err != nil {
			return err
		}
		if b.Template != "inactivity_notice" || b.Category != "account" {
			return fmt.Errorf("broadcast %s is %s/%s", id, b.Template, b.Category)
		}
		named, err := st.Store.AudienceParents(ctx, b)
		if err != nil {
			return err
		}
		for _, pid := range named {
			notified[pid]++
		}
	}
	wrong := 0
	for pid, times := range notified {
		if !due[pid] || times != 1 {
			wrong++
		}
	}
	missing := 0
	for pid := range due {
		if notified[pid] == 0 {
			missing++
		}
	}
	warned := 0
	if err := st.Store.EachParentClock(ctx, func(pc content.ParentClock) error {
		if due[pc.ID] && pc.State == content.ParentWarned && pc.WarnedAt.Equal(now) {
			warned++
		}
		return nil
	}); err != nil {
		return err
	}
	r := res.Result
	fmt.Fprintf(stdout, "# sweep: streamed %d of %d parents (%.1f s), cancelled %d (%.1f s), warned %d in %d notices (%.1f s), closed %d (%.1f s), erasures started %d (%.1f s)\n",
		r.Scanned, *n, r.ScanTime.Seconds(), r.Cancelled, r.CancelTime.Seconds(), r.Warned, len(r.NoticeBroadcasts), r.WarnTime.Seconds(),
		r.Closed, r.CloseTime.Seconds(), r.Erasing, r.EraseTime.Seconds())
	fmt.Fprintf(stdout, "# check: %d notified not due or twice, %d due not notified, %d due now warned; store process peak RSS %.0f MiB; sweep Go HeapSys %.1f MiB\n",
		wrong, missing, warned, float64(storeUsage.PeakRSS)/(1<<20), float64(res.HeapSys)/(1<<20))
	if r.Closed != counts[dueClose] || r.Cancelled != counts[signedInSince] || r.Erasing != counts[dueErase] {
		return fmt.Errorf("sweep closed %d (want %d), cancelled %d (want %d), started %d erasures (want %d)",
			r.Closed, counts[dueClose], r.Cancelled, counts[signedInSince], r.Erasing, counts[dueErase])
	}
	var rep benchkit.Report
	rep.Count("sweep_parents", int64(*n), "parents")
	rep.Value("sweep_s", res.Seconds, 2, "s")
	rep.Value("sweep_peak_rss_mb", float64(res.PeakRSS)/(1<<20), 1, "MB")
	rep.Count("sweep_notified_expected", int64(len(due)), "parents")
	rep.Count("sweep_notified_actual", int64(len(notified)-wrong), "parents")
	if err := rep.Print(stdout); err != nil {
		return err
	}
	if wrong > 0 || missing > 0 || warned != len(due) {
		return errors.New("the notified parents are not exactly the due ones")
	}
	return nil
}

// runSweep is the child: one parent sweep at the bench's clock.
func runSweep(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	log := stack.NewLogger(os.Stderr, "error")
	st, err := openStack(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer st.Close()
	now, err := time.Parse(time.RFC3339, getenv(nowEnv))
	if err != nil {
		return err
	}
	if path := getenv(profileEnv); path != "" {
		stopProfile, err := benchkit.StartCPUProfile(path)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	h := &worker.RetentionSweeps{Store: st.Store, Roster: st.Store, Ledger: st.Store, Erasures: st.Store, Audit: st.Store,
		Tasks: st.Queue, Clock: clocktest.New(now), Log: log, AppURL: "https://hometime.app"}
	start := time.Now()
	res, err := h.SweepParents(ctx)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	u, err := benchkit.SelfUsage()
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, err := json.Marshal(childResult{Seconds: secs, PeakRSS: u.PeakRSS, HeapSys: ms.HeapSys, Result: res})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "RESULT %s\n", b)
	return err
}

func openStack(ctx context.Context, getenv func(string) string, log *slog.Logger) (*stack.Stack, error) {
	cfg, err := stack.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	return stack.Open(ctx, cfg, log)
}

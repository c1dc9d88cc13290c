package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// fanoutPhase: n SMS families, expanded into ledger pages by a worker
// process of its own that sends nothing; its peak RSS is the figure.
func (b *bench) fanoutPhase(ctx context.Context) error {
	n := b.o.fanout
	env := b.be.env("bench_fanout", nil)
	st, err := b.be.freshPhase(ctx, env, b.log)
	if err != nil {
		return err
	}
	defer st.Close()
	began := time.Now()
	if err := seedFamilies(ctx, st, n, bySMS); err != nil {
		return err
	}
	seeded := time.Since(began)
	b.progress("fanout: seeded %d families in %s (%.0f families/s)", n, seeded.Round(time.Millisecond), float64(n)/seeded.Seconds())
	bc, err := newBroadcast(ctx, st, "brd_bench_fanout", content.BroadcastExpanding)
	if err != nil {
		return err
	}
	env[broadcastEnv] = bc.ID
	if b.o.profileDir != "" {
		env[cpuProfileEnv] = filepath.Join(b.o.profileDir, "fanout.pprof")
		env[memProfileEnv] = filepath.Join(b.o.profileDir, "fanout_allocs.pprof")
	}
	// With the default HOMETIME_STORE_TIMEOUT (5 s) reading a large roster
	// can time out; that is reported, and the expansion run again (it
	// resumes from the pages written) with a timeout that lets it finish.
	sampled, exited, elapsed, err := b.expandChild(ctx, env)
	if err != nil {
		b.progress("fanout: the expansion FAILED with HOMETIME_STORE_TIMEOUT=%s (the default): %v", st.Config.StoreTimeout, err)
		env["HOMETIME_STORE_TIMEOUT"] = fanoutStoreTimeout.String()
		b.progress("fanout: running it again with HOMETIME_STORE_TIMEOUT=%s", fanoutStoreTimeout)
		if sampled, exited, elapsed, err = b.expandChild(ctx, env); err != nil {
			return err
		}
	}
	got, err := st.Store.Broadcast(ctx, bc.ID)
	if err != nil {
		return err
	}
	if got.Recipients != n || got.Pages != (n+content.LedgerPageSize-1)/content.LedgerPageSize {
		return fmt.Errorf("expanded into %d pages for %d recipients, want %d recipients", got.Pages, got.Recipients, n)
	}
	// The figure is the child's own VmHWM, read every 20 ms until it exits
	// (a high-water mark, so a late sample loses little; the largest RSS
	// sampled covers the last 20 ms). wait4's maxrss is
	// not used: it can carry the parent's RSS from before the child's exec.
	b.results.fanoutPeakRSS = max(sampled.Last.PeakRSS, sampled.MaxRSS)
	b.progress("fanout: %d recipients into %d pages in %s by the expanding process: peak RSS (VmHWM) %.1f MiB, largest sampled RSS %.1f MiB over %d samples, CPU %.2f s",
		n, got.Pages, elapsed.Round(time.Millisecond), float64(sampled.Last.PeakRSS)/(1<<20),
		float64(sampled.MaxRSS)/(1<<20), sampled.Samples, exited.CPU().Seconds())
	rstart := time.Now()
	kids, err := countRaw(ctx, st.MongoClient().Database(st.Config.Database).Collection("children"),
		bson.D{{Key: "schoolId", Value: benchSchoolID}})
	if err != nil {
		return err
	}
	b.progress("fanout: reference: one find of the school's %d children through the driver (what ChildrenOfSchool does, undecoded) takes %s",
		kids, time.Since(rstart).Round(time.Millisecond))
	return nil
}

// countRaw reads every document filter matches, without decoding.
func countRaw(ctx context.Context, c *mongo.Collection, filter bson.D) (int, error) {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return 0, err
	}
	defer cur.Close(ctx)
	n := 0
	for cur.Next(ctx) {
		n++
	}
	return n, cur.Err()
}

// fanoutStoreTimeout is the store timeout of a second expansion attempt.
const fanoutStoreTimeout = 2 * time.Minute

// expandChild runs one expansion process, sampling its memory.
func (b *bench) expandChild(ctx context.Context, env map[string]string) (benchkit.Sampled, benchkit.Usage, time.Duration, error) {
	start := time.Now()
	cmd, err := child(ctx, "expand", env, progressWriter{b.progress})
	if err != nil {
		return benchkit.Sampled{}, benchkit.Usage{}, 0, err
	}
	sampler := benchkit.StartSampler(cmd.Process.Pid, 20*time.Millisecond)
	werr := cmd.Wait()
	sampled, serr := sampler.Stop()
	elapsed := time.Since(start)
	if werr != nil {
		return sampled, benchkit.Usage{}, elapsed, fmt.Errorf("expand child after %s: %w", elapsed.Round(time.Millisecond), werr)
	}
	return sampled, benchkit.ExitedUsage(cmd.ProcessState), elapsed, serr
}

// progressWriter passes a child's "# " lines through as they are.
type progressWriter struct{ progress func(string, ...any) }

func (w progressWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			w.progress("%s", rest)
		}
	}
	return len(p), nil
}

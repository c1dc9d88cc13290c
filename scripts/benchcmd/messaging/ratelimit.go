package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// rateLimitWarmup passes before the window opens, so the window sees the
// steady state of three workers sharing one Redis bucket.
const rateLimitWarmup = 2 * time.Second

// rateLimitPhase: the Twilio fake capped, HOMETIME_SMS_RATE at the cap,
// several worker processes of this program sharing Redis and the store;
// the figure is the accepted rate over the window against the cap.
func (b *bench) rateLimitPhase(ctx context.Context) error {
	n, limit := b.o.rlFamilies, b.o.rlCap
	if need := int((b.o.window + rateLimitWarmup).Seconds() * float64(limit)); n < need*11/10 {
		return fmt.Errorf("-ratelimit-families %d cannot outlast the window at %d/s (need > %d)", n, limit, need*11/10)
	}
	host := &fakeHost{}
	defer host.close()
	fake := providerfake.NewTwilio(host)
	fake.LimitRate(limit)
	env := b.be.env("bench_ratelimit", twilioEnv(fake, float64(limit)))
	st, err := b.be.freshPhase(ctx, env, b.log)
	if err != nil {
		return err
	}
	defer st.Close()
	began := time.Now()
	if err := seedFamilies(ctx, st, n, bySMS); err != nil {
		return err
	}
	b.progress("ratelimit: seeded %d SMS families in %s", n, time.Since(began).Round(time.Millisecond))
	bc, err := newBroadcast(ctx, st, "brd_bench_ratelimit", content.BroadcastExpanding)
	if err != nil {
		return err
	}

	var workers []*exec.Cmd
	defer func() {
		for _, w := range workers {
			_ = stopChild(w)
		}
	}()
	for range b.o.rlWorkers {
		w, err := child(ctx, "worker", env, progressWriter{b.progress})
		if err != nil {
			return err
		}
		workers = append(workers, w)
	}
	b.progress("ratelimit: %d worker processes (this program, re-run as HOMETIME_BENCH_ROLE=worker) on the same Redis and store; Twilio fake capped at %d msg/s, HOMETIME_SMS_RATE=%d",
		len(workers), limit, limit)
	task, err := tasks.NewExpandBroadcast(bc.ID)
	if err != nil {
		return err
	}
	if _, err := st.Queue.EnqueueContext(ctx, task); err != nil {
		return fmt.Errorf("enqueue expansion: %w", err)
	}
	if err := waitFor(ctx, 2*time.Minute, func() bool { return len(fake.Accepted()) > 0 }); err != nil {
		return fmt.Errorf("no message accepted: %w", err)
	}
	if err := sleep(ctx, rateLimitWarmup); err != nil {
		return err
	}
	t0, c0 := time.Now(), len(fake.Accepted())
	if err := sleep(ctx, b.o.window); err != nil {
		return err
	}
	t1, c1 := time.Now(), len(fake.Accepted())
	rate := float64(c1-c0) / t1.Sub(t0).Seconds()
	b.results.rlPct = 100 * rate / float64(limit)
	b.results.rl429s = fake.RateLimited()
	b.progress("ratelimit: %d accepted in %s = %.2f msg/s = %.1f%% of the %d/s cap; the fake answered %d requests with 429 (%d requests in all so far)",
		c1-c0, t1.Sub(t0).Round(time.Millisecond), rate, b.results.rlPct, limit, b.results.rl429s, fake.Requests())
	var errs []error
	for _, w := range workers {
		errs = append(errs, stopChild(w))
	}
	workers = nil
	return errors.Join(errs...)
}

func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

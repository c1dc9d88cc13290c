package benchkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// defaultMaxInFlight bounds outstanding operations of an open loop when the
// caller sets no bound.
const defaultMaxInFlight = 64

// Open is an open-loop load: operations are scheduled at a constant Rate
// whatever the system does, and each latency runs from the operation's
// scheduled start, not from when it was actually sent. A stalled server
// therefore shows up in the percentiles instead of silently slowing the
// generator down (no coordinated omission).
type Open struct {
	Rate        float64       // operations per second
	Duration    time.Duration // measured period
	Warmup      time.Duration // scheduled at the same rate, not measured
	MaxInFlight int           // bound on outstanding operations (and HTTP connections); defaultMaxInFlight when zero
	Timeout     time.Duration // per operation, and how late a backlog may run past the window; defaultTimeout when zero
}

func (o Open) withDefaults() (Open, error) {
	switch {
	case o.Rate <= 0:
		return o, errors.New("open loop: Rate must be positive")
	case o.Duration <= 0:
		return o, errors.New("open loop: Duration must be positive")
	case o.Warmup < 0 || o.Timeout < 0 || o.MaxInFlight < 0:
		return o, errors.New("open loop: negative Warmup, Timeout or MaxInFlight")
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = defaultMaxInFlight
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	return o, nil
}

// job is one scheduled operation handed to a worker.
type job struct {
	seq      int64
	at       time.Time // scheduled start: latency is measured from here
	measured bool
}

// Run schedules op at Rate for Warmup+Duration. When every worker is busy the
// scheduler waits and then sends the overdue operations at once, each still
// timed from its scheduled start. If the backlog is still not sent one
// Timeout after the window closes, the rest is abandoned and counted as
// Missed.
func (o Open) Run(ctx context.Context, op Op) (Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, err
	}
	warmN := int64(o.Warmup.Seconds() * o.Rate)
	total := warmN + int64(o.Duration.Seconds()*o.Rate)
	start := time.Now()
	measureFrom := start.Add(o.Warmup)
	// schedule is computed from start, never from the previous send, so
	// sleep granularity bunches sends but cannot drift the rate.
	schedule := func(i int64) time.Time {
		return start.Add(time.Duration(float64(i) * float64(time.Second) / o.Rate))
	}

	// Unbuffered: a send completes only when a worker is free, which is
	// what bounds outstanding operations to MaxInFlight.
	jobs := make(chan job)
	tallies := make([]tally, o.MaxInFlight)
	var wg sync.WaitGroup
	for w := range o.MaxInFlight {
		wg.Go(func() {
			t := &tallies[w]
			for j := range jobs {
				opCtx, cancel := context.WithTimeout(ctx, o.Timeout)
				err := op(opCtx, w, j.seq)
				cancel()
				if j.measured {
					done := time.Now()
					t.add(done.Sub(j.at), done, err)
				}
			}
		})
	}

	dispatchCtx, cancelDispatch := context.WithDeadline(ctx, measureFrom.Add(o.Duration+o.Timeout))
	defer cancelDispatch()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var missed int64
	for i := int64(0); i < total; i++ {
		j := job{seq: i, at: schedule(i), measured: i >= warmN}
		sent := false
		if wait := time.Until(j.at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-dispatchCtx.Done():
			}
		}
		if dispatchCtx.Err() == nil {
			select {
			case jobs <- j:
				sent = true
			case <-dispatchCtx.Done():
			}
		}
		if !sent {
			missed = max(total-max(i, warmN), 0)
			break
		}
	}
	close(jobs)
	wg.Wait()

	res := merge(tallies, measureFrom, o.Duration)
	res.Missed = missed
	res.Count += missed
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("open loop interrupted: %w", err)
	}
	return res, nil
}

// RunHTTP runs the open loop over HTTP with up to MaxInFlight keep-alive
// connections; next builds each request (worker is the connection).
func (o Open) RunHTTP(ctx context.Context, next RequestFunc) (Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, err
	}
	h := newHTTPOp(o.MaxInFlight, next)
	defer h.close()
	res, err := o.Run(ctx, h.do)
	res.Dials = h.dials.Load()
	return res, err
}

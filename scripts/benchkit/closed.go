package benchkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// defaultTimeout bounds one operation when the caller sets none, so a hung
// server ends a run instead of hanging it.
const defaultTimeout = 10 * time.Second

// Closed is a closed-loop load: Workers goroutines each run one operation at
// a time, back to back. It measures capacity (how fast the system answers a
// fixed population), not latency under a given arrival rate — use Open for
// that.
type Closed struct {
	Workers  int           // concurrent operations; for HTTP, one keep-alive connection each
	Duration time.Duration // measured period; exactly one of Duration and Count is set
	Count    int64         // measured operations, as an alternative to Duration
	Warmup   time.Duration // run, but not measured, before the window opens
	Timeout  time.Duration // per operation; defaultTimeout when zero
}

func (c Closed) check() error {
	switch {
	case c.Workers < 1:
		return errors.New("closed loop: Workers must be at least 1")
	case (c.Duration > 0) == (c.Count > 0):
		return errors.New("closed loop: set exactly one of Duration and Count")
	case c.Warmup < 0 || c.Timeout < 0:
		return errors.New("closed loop: negative Warmup or Timeout")
	}
	return nil
}

// Run drives op until the window closes and returns what the window
// measured. An operation belongs to the window if it started inside it, so
// the operations in flight when the window opens (started during warm-up)
// and those in flight when it closes balance out.
func (c Closed) Run(ctx context.Context, op Op) (Result, error) {
	if err := c.check(); err != nil {
		return Result{}, err
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	start := time.Now()
	measureFrom := start.Add(c.Warmup)
	stop := measureFrom.Add(c.Duration)
	var tickets atomic.Int64 // Count mode: one per measured operation

	tallies := make([]tally, c.Workers)
	var wg sync.WaitGroup
	for w := range c.Workers {
		wg.Go(func() {
			t := &tallies[w]
			for seq := int64(0); ctx.Err() == nil; seq++ {
				begin := time.Now()
				measured := !begin.Before(measureFrom)
				if measured {
					if c.Duration > 0 && !begin.Before(stop) {
						return
					}
					if c.Count > 0 && tickets.Add(1) > c.Count {
						return
					}
				}
				opCtx, cancel := context.WithTimeout(ctx, timeout)
				err := op(opCtx, w, seq)
				cancel()
				if measured {
					done := time.Now()
					t.add(done.Sub(begin), done, err)
				}
			}
		})
	}
	wg.Wait()
	res := merge(tallies, measureFrom, c.Duration)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("closed loop interrupted: %w", err)
	}
	return res, nil
}

// RunHTTP runs the closed loop over HTTP, one keep-alive connection per
// worker; next builds each request.
func (c Closed) RunHTTP(ctx context.Context, next RequestFunc) (Result, error) {
	if err := c.check(); err != nil {
		return Result{}, err
	}
	h := newHTTPOp(c.Workers, next)
	defer h.close()
	res, err := c.Run(ctx, h.do)
	res.Dials = h.dials.Load()
	return res, err
}

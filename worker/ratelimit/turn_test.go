package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Waiters in one process must poll Redis one at a time, not as a herd, and
// leave nothing behind in the Limiter once they are gone.
func TestWaitersTakeTurnsAndLeaveNoState(t *testing.T) {
	mr := miniredis.RunT(t)
	mr.SetTime(time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)) // frozen: no refill
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	var scripts atomic.Int64
	rdb.AddHook(countScripts{&scripts})
	l := New(rdb)
	r := Rate{PerSecond: 10} // an empty bucket says "retry in 100 ms"
	if g, _, err := l.Take(context.Background(), "k", r, 1); err != nil || g != 1 {
		t.Fatalf("drain: %d, %v", g, err)
	}

	const waiters = 16
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	before := scripts.Load()
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			if _, err := l.Wait(ctx, "k", r, 1); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Wait: %v, want deadline exceeded", err)
			}
		})
	}
	wg.Wait()

	// One poller at 0, 100 and 200 ms (fewer if the machine is slow); a herd
	// would have sent 16 each time.
	if calls := scripts.Load() - before; calls < 1 || calls > 3 {
		t.Errorf("%d waiters ran the script %d times in 250 ms, want 1 to 3", waiters, calls)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.turns) != 0 {
		t.Errorf("%d turn entries left after every waiter returned", len(l.turns))
	}
}

// countScripts counts the script calls a client sends (EVALSHA, or EVAL
// after NOSCRIPT).
type countScripts struct{ n *atomic.Int64 }

func (h countScripts) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h countScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h countScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

var _ redis.Hook = countScripts{}

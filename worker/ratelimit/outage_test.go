package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/redis/go-redis/v9"
)

// A Redis that stops answering (a Sentinel failover) pauses Wait rather
// than failing it, for up to the ride-out; past it, or when the context
// ends first, Wait gives up, and only a Redis outage reads ErrUnavailable.
func TestWaitRidesOutARedisOutage(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	r := ratelimit.Rate{PerSecond: 1000, Burst: 1}
	ctx := context.Background()

	t.Run("back within the ride-out", func(t *testing.T) {
		l := ratelimit.New(rdb, ratelimit.WithRideOut(10*time.Second))
		mr.Close()
		const outage = 300 * time.Millisecond
		back := time.AfterFunc(outage, func() { _ = mr.Restart() }) // the outage is the subject: a timed one
		defer back.Stop()
		start := time.Now()
		got, err := l.Wait(ctx, "outage", r, 1)
		if elapsed := time.Since(start); err != nil || got != 1 || elapsed < outage || elapsed > 5*time.Second {
			t.Errorf("Wait across a %v outage = %d, %v after %v; want 1 token once Redis is back", outage, got, err, elapsed)
		}
	})
	t.Run("down past the ride-out", func(t *testing.T) {
		l := ratelimit.New(rdb, ratelimit.WithRideOut(200*time.Millisecond))
		mr.Close()
		defer func() { _ = mr.Restart() }()
		start := time.Now()
		got, err := l.Wait(ctx, "outage", r, 1)
		if elapsed := time.Since(start); !errors.Is(err, ratelimit.ErrUnavailable) || got != 0 || elapsed < 200*time.Millisecond || elapsed > 5*time.Second {
			t.Errorf("Wait with Redis down = %d, %v after %v; want ErrUnavailable after the 200ms ride-out", got, err, elapsed)
		}
	})
	t.Run("the context ends first", func(t *testing.T) {
		l := ratelimit.New(rdb) // the default ride-out, longer than the context
		mr.Close()
		defer func() { _ = mr.Restart() }()
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		got, err := l.Wait(short, "outage", r, 1)
		if !errors.Is(err, context.DeadlineExceeded) || got != 0 {
			t.Errorf("Wait with Redis down and a 300ms context = %d, %v; want the context's deadline", got, err)
		}
	})
	t.Run("other errors are not an outage", func(t *testing.T) {
		l := ratelimit.New(rdb)
		if _, err := l.Wait(ctx, "+447700900123", r, 1); !errors.Is(err, ratelimit.ErrInvalidKey) || errors.Is(err, ratelimit.ErrUnavailable) {
			t.Errorf("Wait on a phone-number key: %v; want ErrInvalidKey only", err)
		}
	})
}

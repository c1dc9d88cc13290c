// Package redistest gives tests a Redis: the one at REDIS_URL when set (CI),
// else an embedded miniredis per test.
package redistest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// dbCounter hands out logical databases 1..14 on a shared Redis (15 is
// left to scripts/bench, which flushes it; 0 holds this counter).
const dbCounter = "hometime:test:next-db"

// New returns a client on a Redis no other running test writes to: a fresh
// miniredis, or one of databases 1–14 of REDIS_URL, flushed. Tests that only
// use their own keys (throttle counters under a per-test key) may share;
// tests that run a queue worker need this isolation so one binary's worker
// never takes another's tasks.
func New(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		mr := miniredis.RunT(t)
		url = "redis://" + mr.Addr()
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = c.Close() })
		return c, url
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	ctx := context.Background()
	base := redis.NewClient(opt)
	n, err := base.Incr(ctx, dbCounter).Result()
	_ = base.Close()
	if err != nil {
		t.Fatalf("redis at REDIS_URL: %v", err)
	}
	opt.DB = int(n%14) + 1
	c := redis.NewClient(opt)
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush redis db %d: %v", opt.DB, err)
	}
	t.Cleanup(func() {
		_ = c.FlushDB(context.Background()).Err()
		_ = c.Close()
	})
	return c, fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB)
}

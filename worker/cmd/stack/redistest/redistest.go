// Package redistest gives tests a Redis: the one at REDIS_URL when set (CI),
// else an embedded miniredis per test.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Databases 1..14 of a shared Redis are leased to one running test at a
// time (15 is left to scripts/bench, which flushes it; 0 holds the leases).
// Test binaries of several packages run at once, so a lease lives in Redis,
// not in the process: a test that took a database by a plain counter could
// flush one another binary's test was still using.
const (
	firstDB, lastDB = 1, 14
	leaseKey        = "hometime:test:db-lease:%d"
	leaseTTL        = 20 * time.Minute // past go test's own timeout: a killed test's lease runs out
	waitForLease    = 10 * time.Minute
)

// release deletes a lease only if it is still the caller's.
var release = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// New returns a client on a Redis no other running test writes to: a fresh
// miniredis, or a database of REDIS_URL leased to this test and flushed.
// When every database is leased, it waits for one.
func New(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	return newRedis(t, false)
}

// NewTimed is New for tests that need keys to expire on their own, as on a
// real Redis (asynq's Unique locks, which nothing deletes after a failed
// task): a miniredis's TTLs are counted down every 10 ms. Keys with TTLs
// of a few milliseconds (rate-limit buckets) then expire up to a tick
// early, so tests of those use New and move miniredis's time themselves.
func NewTimed(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	return newRedis(t, true)
}

func newRedis(t testing.TB, timed bool) (redis.UniversalClient, string) {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		mr := miniredis.RunT(t)
		if timed {
			keepTime(t, mr)
		}
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
	leases := redis.NewClient(&redis.Options{Addr: opt.Addr, Username: opt.Username, Password: opt.Password,
		TLSConfig: opt.TLSConfig, DB: 0})
	var b [8]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	db := 0
	deadline := time.Now().Add(waitForLease)
	for db == 0 {
		for n := firstDB; n <= lastDB; n++ {
			ok, err := leases.SetNX(ctx, fmt.Sprintf(leaseKey, n), token, leaseTTL).Result()
			if err != nil {
				_ = leases.Close()
				t.Fatalf("redis at REDIS_URL: %v", err)
			}
			if ok {
				db = n
				break
			}
		}
		if db == 0 {
			if time.Now().After(deadline) {
				_ = leases.Close()
				t.Fatalf("no Redis test database free after %v", waitForLease)
			}
			time.Sleep(20 * time.Millisecond) // polling a lease held by another process: no signal to wait on
		}
	}
	opt.DB = db
	c := redis.NewClient(opt)
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush redis db %d: %v", db, err)
	}
	t.Cleanup(func() {
		_ = c.FlushDB(context.Background()).Err()
		_ = c.Close()
		_ = release.Run(context.Background(), leases, []string{fmt.Sprintf(leaseKey, db)}, token).Err()
		_ = leases.Close()
	})
	return c, fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB)
}

// keepTime makes a miniredis's keys expire as a real Redis's do: miniredis
// only counts TTLs down when told to. Without it a lock with a TTL that
// nobody deleted (asynq's Unique lock of a task that failed) stays for the
// whole test, and every later enqueue of that task is refused.
func keepTime(t testing.TB, mr *miniredis.Miniredis) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

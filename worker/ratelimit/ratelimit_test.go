package ratelimit_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hometime-edu/hometime/worker/ratelimit"
)

// redisClock is a miniredis whose TIME the test moves. The limiter reads the
// time only from Redis, so these tests are exact and never sleep.
type redisClock struct {
	mr  *miniredis.Miniredis
	rdb *redis.Client
	now time.Time
}

func newRedisClock(t *testing.T) *redisClock {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	c := &redisClock{mr: mr, rdb: rdb, now: time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)}
	mr.SetTime(c.now)
	return c
}

func (c *redisClock) advance(d time.Duration) {
	c.now = c.now.Add(d)
	c.mr.SetTime(c.now)
}

func TestTakeRefillsAndReportsRetry(t *testing.T) {
	type step struct {
		advance time.Duration // before the call
		n       int
		granted int
		retryIn time.Duration
	}
	cases := []struct {
		name  string
		rate  ratelimit.Rate
		steps []step
	}{
		{"burst then refill at 10/s", ratelimit.Rate{PerSecond: 10, Burst: 5}, []step{
			{0, 10, 5, 100 * time.Millisecond},
			{50 * time.Millisecond, 1, 0, 50 * time.Millisecond},
			{50 * time.Millisecond, 10, 1, 100 * time.Millisecond},
			{time.Hour, 10, 5, 100 * time.Millisecond}, // refill stops at Burst
		}},
		{"more wanted than held grants what is held", ratelimit.Rate{PerSecond: 10, Burst: 5}, []step{
			{0, 3, 3, 0},
			{0, 3, 2, 100 * time.Millisecond},
			{0, 3, 0, 100 * time.Millisecond},
			{250 * time.Millisecond, 3, 2, 50 * time.Millisecond},
		}},
		{"burst 0 means 1: 50/s paces, no 50-message spike", ratelimit.Rate{PerSecond: 50}, []step{
			{0, 50, 1, 20 * time.Millisecond},
			{10 * time.Millisecond, 50, 0, 10 * time.Millisecond},
			{10 * time.Millisecond, 50, 1, 20 * time.Millisecond},
			{time.Minute, 50, 1, 20 * time.Millisecond},
		}},
		{"1/s accumulates tenths", ratelimit.Rate{PerSecond: 1, Burst: 1}, []step{
			{0, 1, 1, time.Second},
			{100 * time.Millisecond, 1, 0, 900 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 800 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 700 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 600 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 500 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 400 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 300 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 200 * time.Millisecond},
			{100 * time.Millisecond, 1, 0, 100 * time.Millisecond},
			{100 * time.Millisecond, 1, 1, time.Second},
		}},
		{"0.3/s: retry rounds up to the microsecond", ratelimit.Rate{PerSecond: 0.3, Burst: 1}, []step{
			{0, 1, 1, 3333334 * time.Microsecond},
			{3333333 * time.Microsecond, 1, 0, time.Microsecond},
			{time.Microsecond, 1, 1, 3333334 * time.Microsecond},
		}},
		{"a clock stepping back grants nothing until it catches up", ratelimit.Rate{PerSecond: 10, Burst: 1}, []step{
			{0, 1, 1, 100 * time.Millisecond},
			{-10 * time.Second, 1, 0, 10*time.Second + 100*time.Millisecond},
			{10 * time.Second, 1, 0, 100 * time.Millisecond},
			{100 * time.Millisecond, 1, 1, 100 * time.Millisecond},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newRedisClock(t)
			l := ratelimit.New(c.rdb)
			for i, s := range tc.steps {
				c.advance(s.advance)
				granted, retryIn, err := l.Take(context.Background(), "twilio:MGtest", tc.rate, s.n)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if granted != s.granted || retryIn != s.retryIn {
					t.Errorf("step %d: Take(%d) = %d, retry in %v; want %d, retry in %v", i, s.n, granted, retryIn, s.granted, s.retryIn)
				}
			}
		})
	}
}

// A greedy sender polling on a fixed step must end up with exactly
// Burst + PerSecond×T: fractions carried in Redis between calls neither
// vanish nor round up into extra tokens.
func TestFractionsAccumulateExactly(t *testing.T) {
	t.Parallel() // pure CPU on a private miniredis: runs after the timing tests
	cases := []struct {
		rate  ratelimit.Rate
		step  time.Duration
		steps int
		want  int
	}{
		{ratelimit.Rate{PerSecond: 1, Burst: 1}, 100 * time.Millisecond, 1000, 1 + 100},
		{ratelimit.Rate{PerSecond: 3, Burst: 2}, 100 * time.Millisecond, 1000, 2 + 300},
		{ratelimit.Rate{PerSecond: 0.5, Burst: 1}, 50 * time.Millisecond, 1000, 1 + 25},
		{ratelimit.Rate{PerSecond: 100, Burst: 1}, time.Millisecond, 3000, 1 + 300},
		{ratelimit.Rate{PerSecond: 7, Burst: 3}, 30 * time.Millisecond, 1000, 3 + 210},
		// Carried fractions that land a hair under a whole token (float
		// rounding) on the last step: found by simulation, they fail without
		// the script's epsilon.
		{ratelimit.Rate{PerSecond: 0.3, Burst: 2}, 50 * time.Millisecond, 1000, 2 + 15},
		{ratelimit.Rate{PerSecond: 0.1, Burst: 2}, 30 * time.Millisecond, 1000, 2 + 3},
	}
	for _, tc := range cases {
		t.Run(tc.rate.String(), func(t *testing.T) {
			t.Parallel()
			c := newRedisClock(t)
			l := ratelimit.New(c.rdb)
			total := 0
			for i := 0; i <= tc.steps; i++ {
				if i > 0 {
					c.advance(tc.step)
				}
				g, _, err := l.Take(context.Background(), "k", tc.rate, 100)
				if err != nil {
					t.Fatal(err)
				}
				total += g
			}
			if total != tc.want {
				t.Errorf("granted %d over %v, want %d", total, time.Duration(tc.steps)*tc.step, tc.want)
			}
		})
	}
}

// The limit itself: for random call patterns, no window [ti, tj] of the
// Redis clock holds more than PerSecond×(tj−ti) + Burst grants.
func TestNoWindowExceedsRatePlusBurst(t *testing.T) {
	t.Parallel() // pure CPU on a private miniredis: runs after the timing tests
	rates := []ratelimit.Rate{
		{PerSecond: 1, Burst: 1},
		{PerSecond: 50},
		{PerSecond: 3.3, Burst: 7},
		{PerSecond: 0.2, Burst: 2},
	}
	for _, r := range rates {
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			c := newRedisClock(t)
			l := ratelimit.New(c.rdb)
			rng := rand.New(rand.NewPCG(1, uint64(r.PerSecond*10)))
			burst := max(r.Burst, 1)
			interval := time.Duration(float64(time.Second) / r.PerSecond)
			type grant struct {
				at time.Time
				n  int
			}
			var grants []grant
			for range 1500 {
				if rng.IntN(4) > 0 { // a quarter of calls land on the same instant
					c.advance(time.Duration(rng.Int64N(int64(2 * interval))))
				}
				g, _, err := l.Take(context.Background(), "k", r, 1+rng.IntN(burst+2))
				if err != nil {
					t.Fatal(err)
				}
				if g > 0 {
					grants = append(grants, grant{c.now, g})
				}
			}
			closest, total := math.Inf(-1), 0
			for i := range grants {
				sum := 0
				for j := i; j < len(grants); j++ {
					sum += grants[j].n
					allowed := r.PerSecond*grants[j].at.Sub(grants[i].at).Seconds() + float64(burst)
					if float64(sum) > allowed+1e-6 {
						t.Fatalf("%d grants in %v, allowed %.3f", sum, grants[j].at.Sub(grants[i].at), allowed)
					}
					closest = math.Max(closest, float64(sum)-allowed)
				}
				total += grants[i].n
			}
			span := grants[len(grants)-1].at.Sub(grants[0].at)
			t.Logf("%d grants over %v (rate allows %.1f + %d); tightest window %.3f under the bound",
				total, span, r.PerSecond*span.Seconds(), burst, math.Max(0, -closest))
		})
	}
}

func TestKeysAreIsolated(t *testing.T) {
	c := newRedisClock(t)
	r := ratelimit.Rate{PerSecond: 1, Burst: 3}
	l := ratelimit.New(c.rdb)
	other := ratelimit.New(c.rdb, ratelimit.WithPrefix("staging:ratelimit:"))
	ctx := context.Background()
	if g, _, _ := l.Take(ctx, "twilio:MGa", r, 3); g != 3 {
		t.Fatalf("first bucket granted %d, want 3", g)
	}
	for _, tc := range []struct {
		name string
		l    *ratelimit.Limiter
		key  string
		want int
	}{
		{"same key is spent", l, "twilio:MGa", 0},
		{"another key is full", l, "twilio:MGb", 3},
		{"same key under another prefix is full", other, "twilio:MGa", 3},
	} {
		if g, _, err := tc.l.Take(ctx, tc.key, r, 3); err != nil || g != tc.want {
			t.Errorf("%s: granted %d (err %v), want %d", tc.name, g, err, tc.want)
		}
	}
	keys := c.mr.Keys()
	want := []string{"ratelimit:twilio:MGa", "ratelimit:twilio:MGb", "staging:ratelimit:twilio:MGa"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v, want %v", keys, want)
	}
}

// An idle bucket must not linger: its key expires when it would be full
// again, and a missing bucket behaves exactly like a full one.
func TestIdleBucketExpires(t *testing.T) {
	c := newRedisClock(t)
	l := ratelimit.New(c.rdb)
	r := ratelimit.Rate{PerSecond: 10, Burst: 5}
	ctx := context.Background()
	if g, _, _ := l.Take(ctx, "k", r, 2); g != 2 {
		t.Fatalf("granted %d, want 2", g)
	}
	if ttl := c.mr.TTL("ratelimit:k"); ttl != 200*time.Millisecond {
		t.Errorf("TTL with 3 of 5 left at 10/s = %v, want 200ms", ttl)
	}
	if g, _, _ := l.Take(ctx, "k", r, 3); g != 3 {
		t.Fatalf("granted %d, want 3", g)
	}
	if ttl := c.mr.TTL("ratelimit:k"); ttl != 500*time.Millisecond {
		t.Errorf("TTL when empty at 10/s = %v, want 500ms", ttl)
	}
	c.advance(500 * time.Millisecond)
	c.mr.FastForward(500 * time.Millisecond)
	if c.mr.Exists("ratelimit:k") {
		t.Fatal("bucket still stored once it would be full")
	}
	if g, _, _ := l.Take(ctx, "k", r, 9); g != 5 {
		t.Errorf("after expiry granted %d, want a full bucket of 5", g)
	}
}

func TestRejectsWhatIsNotALimit(t *testing.T) {
	c := newRedisClock(t)
	l := ratelimit.New(c.rdb)
	ok := ratelimit.Rate{PerSecond: 10, Burst: 1}
	cases := []struct {
		name string
		key  string
		rate ratelimit.Rate
		n    int
		want error
	}{
		{"zero rate", "k", ratelimit.Rate{PerSecond: 0}, 1, ratelimit.ErrInvalidRate},
		{"negative rate", "k", ratelimit.Rate{PerSecond: -5}, 1, ratelimit.ErrInvalidRate},
		{"NaN rate", "k", ratelimit.Rate{PerSecond: math.NaN()}, 1, ratelimit.ErrInvalidRate},
		{"infinite rate", "k", ratelimit.Rate{PerSecond: math.Inf(1)}, 1, ratelimit.ErrInvalidRate},
		{"negative burst", "k", ratelimit.Rate{PerSecond: 1, Burst: -1}, 1, ratelimit.ErrInvalidRate},
		{"refill longer than a year", "k", ratelimit.Rate{PerSecond: 1e-9, Burst: 1}, 1, ratelimit.ErrInvalidRate},
		{"zero tokens", "k", ok, 0, ratelimit.ErrInvalidRate},
		{"negative tokens", "k", ok, -3, ratelimit.ErrInvalidRate},
		{"empty key", "", ok, 1, ratelimit.ErrInvalidKey},
		{"E.164 number", "+447700900123", ok, 1, ratelimit.ErrInvalidKey},
		{"number inside a key", "twilio:+44 7700 900123", ok, 1, ratelimit.ErrInvalidKey},
		{"email address", "sendgrid:head@school.example", ok, 1, ratelimit.ErrInvalidKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := c.mr.CommandCount()
			_, _, err := l.Take(context.Background(), tc.key, tc.rate, tc.n)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.key != "" && tc.key != "k" && strings.Contains(err.Error(), tc.key) {
				t.Errorf("error repeats the personal key: %v", err)
			}
			if _, err := l.Wait(context.Background(), tc.key, tc.rate, tc.n); !errors.Is(err, tc.want) {
				t.Errorf("Wait err = %v, want %v", err, tc.want)
			}
			if n := c.mr.CommandCount() - before; n != 0 {
				t.Errorf("rejected call still sent %d commands to Redis", n)
			}
		})
	}
}

func TestSenderKeyKeepsTheNumberOut(t *testing.T) {
	c := newRedisClock(t)
	l := ratelimit.New(c.rdb)
	for _, key := range []string{
		ratelimit.SenderKey("twilio", "+447700900123"),
		"twilio:MG9f8e7d6c5b4a39281706f5e4d3c2b1a0", // Messaging Service SIDs pass
	} {
		if _, _, err := l.Take(context.Background(), key, ratelimit.Rate{PerSecond: 1}, 1); err != nil {
			t.Errorf("Take(%q): %v", key, err)
		}
	}
	k := ratelimit.SenderKey("twilio", "+447700900123")
	if k != ratelimit.SenderKey("twilio", "+447700900123") || k == ratelimit.SenderKey("twilio", "+447700900124") {
		t.Errorf("SenderKey is not a stable per-sender name: %q", k)
	}
	for _, stored := range c.mr.Keys() {
		if strings.Contains(stored, "7700900123") {
			t.Errorf("Redis key %q holds the sender number", stored)
		}
	}
}

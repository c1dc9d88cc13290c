// Package ratelimit is a token-bucket limiter whose state lives in Redis, so
// every worker process draws from one bucket per sender and a provider's
// throughput limit (Twilio messages per second per sender) holds however many
// workers run. A limit kept in process memory would multiply by the number of
// workers.
//
// Each call is one Lua script that refills and takes atomically on Redis's own
// clock (TIME), so workers with skewed clocks still share one limit. Over any
// window of W seconds a bucket grants at most PerSecond×W + Burst tokens.
//
// Keys name senders, and Redis keys are listed by operators, dumped and
// scanned for personal data (TESTING F1). Callers must pass a non-personal key
// such as "twilio:MG…" (a Messaging Service SID) or SenderKey's hash of a
// sender number, never a phone number or an email address.
package ratelimit

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is put in front of every key so limiter state is easy to
// find and cannot collide with queue keys.
const DefaultPrefix = "ratelimit:"

// maxRefill bounds Burst/PerSecond. The bucket's key expires when it would be
// full again; beyond a year that is a mistyped rate, not a limit.
const maxRefill = 365 * 24 * time.Hour

var (
	// ErrInvalidRate reports a Rate or a token count that cannot describe a
	// limit: PerSecond not positive and finite, Burst negative, n < 1.
	ErrInvalidRate = errors.New("ratelimit: invalid rate")
	// ErrInvalidKey reports an empty key or one that looks like a phone
	// number or email address. The check catches the obvious mistakes
	// (E.164 numbers, addresses); it does not prove a key is anonymous.
	ErrInvalidKey = errors.New("ratelimit: invalid key")
	// ErrUnavailable reports that Redis did not answer (down, failing over
	// to a replica, refusing writes while demoted): the same call may
	// succeed in a moment, unlike the errors above.
	ErrUnavailable = errors.New("ratelimit: redis unavailable")
)

//go:embed take.lua
var takeSource string

// takeScript is shared: go-redis runs it with EVALSHA and loads it on NOSCRIPT.
var takeScript = redis.NewScript(takeSource)

// Rate is a limit: tokens refill continuously at PerSecond and at most Burst
// are held at once, so a sender idle for a while may send Burst at once.
type Rate struct {
	PerSecond float64
	// Burst is the bucket's capacity; 0 means 1, so "50/s" paces one message
	// every 20 ms instead of allowing a 50-message spike. A Burst of a few
	// tokens absorbs scheduling jitter: with 1, time a token sits unclaimed
	// is throughput lost.
	Burst int
}

// String reads like the requirement it encodes: "50/s burst 1".
func (r Rate) String() string {
	return fmt.Sprintf("%g/s burst %d", r.PerSecond, max(r.Burst, 1))
}

// normalize applies the Burst default and rejects rates that describe no limit.
func (r Rate) normalize() (Rate, error) {
	if math.IsNaN(r.PerSecond) || math.IsInf(r.PerSecond, 0) || r.PerSecond <= 0 {
		return r, fmt.Errorf("%w: PerSecond %v must be positive and finite", ErrInvalidRate, r.PerSecond)
	}
	if r.Burst < 0 {
		return r, fmt.Errorf("%w: Burst %d is negative", ErrInvalidRate, r.Burst)
	}
	if r.Burst == 0 {
		r.Burst = 1
	}
	if float64(r.Burst)/r.PerSecond > maxRefill.Seconds() {
		return r, fmt.Errorf("%w: %d tokens at %v/s take longer than %v to refill", ErrInvalidRate, r.Burst, r.PerSecond, maxRefill)
	}
	return r, nil
}

// Limiter grants tokens from buckets in Redis. The limit lives only there:
// any number of Limiters in any number of processes pointed at one Redis
// share their buckets. It is safe for concurrent use.
type Limiter struct {
	rdb    redis.Scripter
	prefix string
	// rideOut is how long Wait keeps trying while Redis does not answer.
	rideOut time.Duration

	mu    sync.Mutex
	turns map[string]*turn // bucket key → this process's waiters on it
}

// turn lets one of a process's waiters on a bucket poll Redis at a time.
// Without it every waiter wakes when a token is due and they queue their
// scripts behind each other in Redis, so the winner arrives late and, with
// Burst 1, the time the token sat unclaimed is throughput lost (16 waiters at
// 100/s got 93% of the rate from Redis; taking turns, 96–97%). The others
// queue in Go, in arrival order, and cost Redis nothing.
type turn struct {
	sem     chan struct{} // holds one token while someone polls
	waiters int           // guarded by Limiter.mu; the entry goes at zero
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithPrefix replaces DefaultPrefix, for example to keep two environments
// sharing a Redis apart.
func WithPrefix(prefix string) Option {
	return func(l *Limiter) { l.prefix = prefix }
}

// DefaultRideOut is how long Wait keeps trying through a Redis that does
// not answer before it gives up with ErrUnavailable: long enough for
// Sentinel to promote a replica (down-after plus the election, a few
// seconds when down-after-milliseconds is a few seconds), so a failover
// pauses sending instead of failing every task that was sending.
const DefaultRideOut = 20 * time.Second

// WithRideOut replaces DefaultRideOut; 0 gives up at the first failure.
func WithRideOut(d time.Duration) Option {
	return func(l *Limiter) { l.rideOut = d }
}

// New returns a Limiter on rdb. Any go-redis client works (Client, Ring,
// ClusterClient: each bucket is a single key).
func New(rdb redis.Scripter, opts ...Option) *Limiter {
	l := &Limiter{rdb: rdb, prefix: DefaultPrefix, rideOut: DefaultRideOut, turns: make(map[string]*turn)}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Take atomically grants up to n tokens from key's bucket: as many as are
// whole (at most Burst), possibly 0. retryIn is how long until the bucket
// holds its next whole token after this call: 0 when tokens remain, so a
// caller granted fewer than it wanted knows when to come back.
func (l *Limiter) Take(ctx context.Context, key string, r Rate, n int) (granted int, retryIn time.Duration, err error) {
	r, err = checkRequest(key, r, n)
	if err != nil {
		return 0, 0, err
	}
	return l.take(ctx, key, r, n)
}

// checkRequest rejects what Take and Wait cannot serve before anything
// reaches Redis, and returns r with its defaults applied.
func checkRequest(key string, r Rate, n int) (Rate, error) {
	if err := checkKey(key); err != nil {
		return r, err
	}
	r, err := r.normalize()
	if err != nil {
		return r, err
	}
	if n < 1 {
		return r, fmt.Errorf("%w: asked for %d tokens", ErrInvalidRate, n)
	}
	return r, nil
}

// take runs the script for arguments already checked.
func (l *Limiter) take(ctx context.Context, key string, r Rate, n int) (int, time.Duration, error) {
	res, err := takeScript.Run(ctx, l.rdb, []string{l.prefix + key}, r.PerSecond, r.Burst, n).Int64Slice()
	if err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return 0, 0, fmt.Errorf("take %d from bucket %s: %w", n, key, err)
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("take %d from bucket %s: script returned %d values, want 2", n, key, len(res))
	}
	return int(res[0]), time.Duration(res[1]) * time.Microsecond, nil
}

// Wait blocks until at least one token is granted and returns how many
// (between 1 and n), so a sender holding several messages can send them as
// one batch. Waiters in one process take turns in arrival order; the one
// whose turn it is sleeps for Take's retryIn between attempts. While Redis
// does not answer it keeps trying for the ride-out (DefaultRideOut), then
// gives up with ErrUnavailable (wrapped). It gives up
// with ctx's error (wrapped) when ctx ends first.
func (l *Limiter) Wait(ctx context.Context, key string, r Rate, n int) (int, error) {
	r, err := checkRequest(key, r, n)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("wait for bucket %s: %w", key, err)
	}

	t := l.join(key)
	defer l.leave(key, t)
	select {
	case t.sem <- struct{}{}:
		defer func() { <-t.sem }()
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for bucket %s: %w", key, ctx.Err())
	}

	var timer *time.Timer
	var down time.Time // when Redis stopped answering; zero while it answers
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("wait for bucket %s: %w", key, err)
		}
		granted, retryIn, err := l.take(ctx, key, r, n)
		if err != nil {
			if !errors.Is(err, ErrUnavailable) {
				return 0, err
			}
			if down.IsZero() {
				down = time.Now()
			}
			if time.Since(down) >= l.rideOut {
				return 0, err
			}
			retryIn = outagePoll
		} else {
			down = time.Time{}
		}
		if granted > 0 {
			return granted, nil
		}
		if timer == nil {
			timer = time.NewTimer(retryIn)
		} else {
			timer.Reset(retryIn)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for bucket %s: %w", key, ctx.Err())
		case <-timer.C:
		}
	}
}

// outagePoll is how often Wait tries again while Redis does not answer.
// Each try is one client call that itself retries a few times.
const outagePoll = 100 * time.Millisecond

// join registers a waiter on key's turn, creating it for the first one.
func (l *Limiter) join(key string) *turn {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.turns[key]
	if t == nil {
		t = &turn{sem: make(chan struct{}, 1)}
		l.turns[key] = t
	}
	t.waiters++
	return t
}

// leave undoes join; the last waiter out removes the entry, so the map only
// holds buckets someone is waiting on.
func (l *Limiter) leave(key string, t *turn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.waiters--; t.waiters == 0 {
		delete(l.turns, key)
	}
}

// SenderKey names a bucket for a sender identified by something personal-ish
// (a sender phone number) without writing it into Redis: provider + ":" + the
// first 16 hex digits of its SHA-256. That keeps the number out of key
// listings and dumps; it is not anonymisation, since phone numbers are few
// enough to hash them all. Prefer a provider ID (Messaging Service SID) when
// there is one.
func SenderKey(provider, sender string) string {
	sum := sha256.Sum256([]byte(sender))
	return provider + ":" + hex.EncodeToString(sum[:8])
}

// checkKey rejects empty keys and the personal identifiers most likely to be
// passed by mistake: E.164 phone numbers (what notify normalises to) and
// email addresses. The error does not echo the key, so it cannot leak into logs.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if strings.Contains(key, "@") || hasPhoneNumber(key) {
		return fmt.Errorf("%w: looks like a phone number or email address; use SenderKey or a provider ID", ErrInvalidKey)
	}
	return nil
}

// hasPhoneNumber reports a '+' followed by at least 7 digits (spaces
// allowed), the shape of an E.164 or international number.
func hasPhoneNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '+' {
			continue
		}
		digits := 0
		for j := i + 1; j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ' '); j++ {
			if s[j] != ' ' {
				digits++
			}
		}
		if digits >= 7 {
			return true
		}
	}
	return false
}

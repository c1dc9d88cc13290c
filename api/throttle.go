package api

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limit is a fixed-window allowance: at most Max events per Window.
type Limit struct {
	Max    int64
	Window time.Duration
}

// Limits are the sign-in throttles. Keys are keyed hashes of identifiers or
// IPs, never the identifiers themselves (Redis holds no personal data).
type Limits struct {
	LoginPerAccount Limit // sign-in attempts per account (known or not); a success clears it
	LoginPerIP      Limit // sign-in attempts per IP; a success gives its attempt back
	RedeemPerIP     Limit // invite redemption attempts per IP; a success gives its attempt back
	RedeemPerCode   Limit // redemption attempts per code
	// RedeemFailureAlert is the global rate of failed redemptions (bad
	// codes, all IPs) above which the alert gauge
	// hometime_invite_redeem_failure_alert reads 1: a guessing campaign
	// spread over many addresses shows there, though no per-IP limit trips.
	RedeemFailureAlert Limit
	ResetPerAccount    Limit // reset emails per account
	ResetPerIP         Limit // reset requests per IP
	AttemptsPerIP      Limit // all unauthenticated auth calls per IP
}

// DefaultLimits suit a school: many parents may share one NAT address, so
// per-IP limits are looser than per-account ones.
var DefaultLimits = Limits{
	LoginPerAccount:    Limit{Max: 5, Window: 15 * time.Minute},
	LoginPerIP:         Limit{Max: 50, Window: 15 * time.Minute},
	RedeemPerIP:        Limit{Max: 20, Window: 15 * time.Minute},
	RedeemPerCode:      Limit{Max: 5, Window: 15 * time.Minute},
	RedeemFailureAlert: Limit{Max: 100, Window: time.Minute},
	ResetPerAccount:    Limit{Max: 3, Window: time.Hour},
	ResetPerIP:         Limit{Max: 20, Window: time.Hour},
	AttemptsPerIP:      Limit{Max: 600, Window: time.Minute},
}

// Throttle counts events in Redis so every API process shares the limits.
type Throttle struct {
	rdb redis.UniversalClient
}

// NewThrottle uses rdb for counters.
func NewThrottle(rdb redis.UniversalClient) *Throttle { return &Throttle{rdb: rdb} }

var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`)

// Hit counts one event and reports whether the limit is exceeded and when
// the window resets. Counting and reading are one Redis round trip, so of
// any number of parallel callers at most Max see "not exceeded" per window:
// callers count an attempt first and decide on the answer, never check
// first and count afterwards.
func (t *Throttle) Hit(ctx context.Context, key string, l Limit) (bool, time.Duration, error) {
	res, err := incrScript.Run(ctx, t.rdb, []string{"throttle:" + key}, l.Window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	return res[0] > l.Max, time.Duration(res[1]) * time.Millisecond, nil
}

var undoScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0`)

// Undo takes back one counted event, when the attempt it counted turned out
// not to be a failure (a sign-in that succeeded). A counter that has
// already expired is left alone rather than recreated without a TTL.
func (t *Throttle) Undo(ctx context.Context, key string) error {
	if err := undoScript.Run(ctx, t.rdb, []string{"throttle:" + key}).Err(); err != nil {
		return fmt.Errorf("throttle %s: %w", key, err)
	}
	return nil
}

// Count reads a counter's events in its current window, without counting.
// It only observes (alerts, tests): deciding on a read and counting later
// would let a burst of parallel requests all pass the check.
func (t *Throttle) Count(ctx context.Context, key string) (int64, error) {
	n, err := t.rdb.Get(ctx, "throttle:"+key).Int64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	return n, nil
}

// Reset clears a counter (a successful sign-in clears the account's failures).
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.rdb.Del(ctx, "throttle:"+key).Err()
}

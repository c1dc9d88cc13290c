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
	LoginPerAccount Limit // failed sign-ins per account (known or not)
	LoginPerIP      Limit // failed sign-ins per IP
	RedeemPerIP     Limit // failed invite redemptions per IP
	RedeemPerCode   Limit // redemption attempts per code
	ResetPerAccount Limit // reset emails per account
	ResetPerIP      Limit // reset requests per IP
	AttemptsPerIP   Limit // all unauthenticated auth calls per IP
}

// DefaultLimits suit a school: many parents may share one NAT address, so
// per-IP limits are looser than per-account ones.
var DefaultLimits = Limits{
	LoginPerAccount: Limit{Max: 5, Window: 15 * time.Minute},
	LoginPerIP:      Limit{Max: 50, Window: 15 * time.Minute},
	RedeemPerIP:     Limit{Max: 20, Window: 15 * time.Minute},
	RedeemPerCode:   Limit{Max: 5, Window: 15 * time.Minute},
	ResetPerAccount: Limit{Max: 3, Window: time.Hour},
	ResetPerIP:      Limit{Max: 20, Window: time.Hour},
	AttemptsPerIP:   Limit{Max: 600, Window: time.Minute},
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
// the window resets.
func (t *Throttle) Hit(ctx context.Context, key string, l Limit) (bool, time.Duration, error) {
	res, err := incrScript.Run(ctx, t.rdb, []string{"throttle:" + key}, l.Window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	return res[0] > l.Max, time.Duration(res[1]) * time.Millisecond, nil
}

// Over reports whether the limit is already exceeded, without counting.
func (t *Throttle) Over(ctx context.Context, key string, l Limit) (bool, time.Duration, error) {
	k := "throttle:" + key
	n, err := t.rdb.Get(ctx, k).Int64()
	if err == redis.Nil {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	if n < l.Max {
		return false, 0, nil
	}
	ttl, err := t.rdb.PTTL(ctx, k).Result()
	if err != nil {
		return false, 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	return true, ttl, nil
}

// Reset clears a counter (a successful sign-in clears the account's failures).
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.rdb.Del(ctx, "throttle:"+key).Err()
}

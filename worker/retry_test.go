package worker

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/worker/ratelimit"
)

// A task failed by the rate limiter's Redis comes back within seconds,
// doubling to a minute; any other failure keeps asynq's backoff (15 s and more).
func TestRetryDelay(t *testing.T) {
	t.Parallel()
	task := asynq.NewTask("t", nil)
	down := errors.Join(errors.New("other channel fine"), fmt.Errorf("sms page: %w", fmt.Errorf("%w: dial tcp: refused", ratelimit.ErrUnavailable)))
	for n, want := range map[int]time.Duration{0: time.Second, 1: 2 * time.Second, 5: 32 * time.Second, 6: time.Minute, 19: time.Minute} {
		if got := RetryDelay(n, down, task); got != want {
			t.Errorf("retry %d after a Redis outage: %v, want %v", n, got, want)
		}
	}
	if got := RetryDelay(0, errors.New("store timeout"), task); got < 15*time.Second {
		t.Errorf("retry after another error: %v, want asynq's default of at least 15 s", got)
	}
}

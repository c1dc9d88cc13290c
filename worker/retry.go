package worker

import (
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/worker/ratelimit"
)

// RetryDelay is the asynq server's RetryDelayFunc. A task that failed
// because the shared rate limiter's Redis did not answer (a Sentinel
// failover takes a few seconds) is tried again after 1 s, doubling up to a
// minute, so its messages go out soon after the new master is up rather
// than after asynq's default of 15 s and more (or the relay's grace);
// the claims make an early retry harmless. Any other error keeps asynq's
// default backoff.
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if errors.Is(err, ratelimit.ErrUnavailable) {
		return min(time.Second<<min(n, 6), time.Minute)
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// DeviceTokenStore is what the worker needs of device records beyond
// reading tokens: pruning the ones FCM or time made useless.
type DeviceTokenStore interface {
	ParentDevices
	RemoveDeviceToken(ctx context.Context, parentID, deviceID string) error
	DropStaleDevices(ctx context.Context, cutoff time.Time) (int, error)
}

// DeadTokens returns PushPages' OnDeadToken hook: a token FCM reports
// UNREGISTERED is removed from the parent at once. The hook has no context
// of its own; the store call is bounded by the store's timeout. Only IDs
// are logged.
func DeadTokens(store DeviceTokenStore, hashKey []byte, log *slog.Logger) func(parentID, token string) {
	return func(parentID, token string) {
		id := content.DeviceID(hashKey, token)
		if err := store.RemoveDeviceToken(context.Background(), parentID, id); err != nil {
			log.Warn("prune dead push token failed", "parent_id", parentID, "device_id", id, "err", err)
			return
		}
		log.Info("pruned dead push token", "parent_id", parentID, "device_id", id)
	}
}

// StaleDevices drops push tokens no app has refreshed within
// content.DeviceStaleAfter: Tick queues the day's sweep (keyed by the
// date), ProcessTask runs it. Idempotent: a second run finds nothing stale.
type StaleDevices struct {
	Store DeviceTokenStore
	Tasks tasks.Enqueuer
	Clock content.Clock
	Log   *slog.Logger
}

// Tick queues today's sweep; already queued or done today is a no-op.
func (h *StaleDevices) Tick(ctx context.Context, _ *asynq.Task) error {
	task, err := tasks.NewDropStaleDevices(h.Clock.Now().UTC().Format(time.DateOnly))
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, h.Tasks, task); err != nil {
		return err
	}
	return nil
}

func (h *StaleDevices) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Store.DropStaleDevices(ctx, h.Clock.Now().Add(-content.DeviceStaleAfter))
	if err != nil {
		return err
	}
	h.Log.Info("dropped stale push tokens", "count", n)
	return nil
}

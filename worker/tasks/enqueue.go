package tasks

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"
)

// Enqueuer queues tasks: *asynq.Client in production, a recorder in tests
// (worker/tasks/taskstest). The API and the worker both take one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Enqueue queues t on q. Every task here that may be asked for twice names
// itself with a TaskID derived from what it does, so a task already queued
// (or still retained) under that id is the same work asked again: Enqueue
// counts that as done (asynq.ErrTaskIDConflict is not an error).
func Enqueue(ctx context.Context, q Enqueuer, t *asynq.Task, opts ...asynq.Option) error {
	if _, err := q.EnqueueContext(ctx, t, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	return nil
}

// QueueExpansion queues the expansion of broadcast id (TypeExpandBroadcast)
// on q. Its TaskID keeps one expansion per broadcast queued at a time, so
// queueing it again while one waits is a no-op.
func QueueExpansion(ctx context.Context, q Enqueuer, id string) error {
	t, err := NewExpandBroadcast(id)
	if err != nil {
		return err
	}
	return Enqueue(ctx, q, t)
}

// Expander is QueueExpansion bound to q: the form content.Publish takes.
func Expander(q Enqueuer) func(ctx context.Context, broadcastID string) error {
	return func(ctx context.Context, id string) error { return QueueExpansion(ctx, q, id) }
}

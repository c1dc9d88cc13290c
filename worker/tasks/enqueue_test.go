package tasks

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"
)

type refusing struct{ err error }

func (q refusing) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, q.err
}

// TestEnqueueCountsADuplicateAsDone: a task already queued under its id is
// the same work asked again; any other refusal is an error.
func TestEnqueueCountsADuplicateAsDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	task, err := NewExpandBroadcast("brd_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := Enqueue(ctx, refusing{wrapped(asynq.ErrTaskIDConflict)}, task); err != nil {
		t.Fatalf("a duplicate task id: %v, want nil", err)
	}
	down := errors.New("redis: connection refused")
	if err := Enqueue(ctx, refusing{down}, task); !errors.Is(err, down) {
		t.Fatalf("a queue that is down: %v, want its error", err)
	}
	if err := QueueExpansion(ctx, refusing{down}, "brd_1"); !errors.Is(err, down) {
		t.Fatalf("QueueExpansion on a queue that is down: %v, want its error", err)
	}
}

// wrapped wraps err, as a client reporting it with context would.
func wrapped(err error) error { return errors.Join(errors.New("enqueue"), err) }

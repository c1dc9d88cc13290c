// Package taskstest records the tasks code under test queues, in place of
// Redis: tests read them back and run the ones they care about.
package taskstest

import (
	"context"
	"slices"
	"sync"

	"github.com/hibiken/asynq"
)

// Recorder is a tasks.Enqueuer that keeps every task queued on it, in
// order. It accepts every task (a duplicate TaskID included), so tests see
// each enqueue a handler made. Safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	tasks []*asynq.Task
}

func (r *Recorder) EnqueueContext(_ context.Context, t *asynq.Task, _ ...asynq.Option) (*asynq.TaskInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, t)
	return &asynq.TaskInfo{ID: "t", Type: t.Type()}, nil
}

// Tasks is every task queued so far, in order.
func (r *Recorder) Tasks() []*asynq.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tasks)
}

// Len is how many tasks were queued.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tasks)
}

// OfType is the tasks of one type, in order.
func (r *Recorder) OfType(typ string) []*asynq.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*asynq.Task
	for _, t := range r.tasks {
		if t.Type() == typ {
			out = append(out, t)
		}
	}
	return out
}

// Take removes the first task of type typ and returns it (nil: none).
func (r *Recorder) Take(typ string) *asynq.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, t := range r.tasks {
		if t.Type() == typ {
			r.tasks = slices.Delete(r.tasks, i, i+1)
			return t
		}
	}
	return nil
}

// Reset forgets every task queued so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.tasks = nil
	r.mu.Unlock()
}

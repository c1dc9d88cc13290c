// Package worker holds the asynq task handlers: it turns queued IDs into
// work against the store and the message senders. Handlers are idempotent:
// a task that runs twice changes nothing the second time.
package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Deps is everything the handlers need; cmd/worker builds it.
type Deps struct {
	Identity content.Identity
	Roster   content.Roster
	Email    notify.EmailSender
	Catalog  *notify.Catalog
	HashKey  []byte
	Clock    content.Clock
	Log      *slog.Logger
	AppURL   string // base of links in emails
}

// NewMux registers every task handler behind a logging middleware.
func NewMux(d Deps) *asynq.ServeMux {
	if d.Clock == nil {
		d.Clock = content.SystemClock{}
	}
	if d.AppURL == "" {
		d.AppURL = "https://hometime.app"
	}
	mux := asynq.NewServeMux()
	mux.Use(logTasks(d.Log))
	mux.Handle(tasks.TypeSendAccountEmail, &AccountEmails{Deps: d})
	return mux
}

// logTasks logs each task's type, id, outcome and time: never its payload
// (IDs only anyway) and never what the handler read.
func logTasks(log *slog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			id, _ := asynq.GetTaskID(ctx)
			retry, _ := asynq.GetRetryCount(ctx)
			err := next.ProcessTask(ctx, t)
			attrs := []any{"task_type", t.Type(), "task_id", id, "retry", retry, "ms", time.Since(start).Milliseconds()}
			if err != nil {
				log.Warn("task failed", append(attrs, "err", err)...)
			} else {
				log.Info("task done", attrs...)
			}
			return err
		})
	}
}

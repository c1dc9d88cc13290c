package stack

import (
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// WorkerServer builds the asynq server and its handlers on this stack's
// Redis. The caller Starts and Shutdowns it (Run would trap signals itself).
func (st *Stack) WorkerServer(log *slog.Logger) (*asynq.Server, *asynq.ServeMux) {
	srv := asynq.NewServerFromRedisClient(st.Redis, asynq.Config{
		Concurrency: st.Config.Concurrency,
		Queues:      tasks.Queues,
		Logger:      asynqLogger{log.With("component", "asynq")},
		LogLevel:    asynq.WarnLevel,
	})
	mux := worker.NewMux(worker.Deps{
		Identity: st.Store,
		Roster:   st.Store,
		Email:    st.Email,
		Catalog:  st.Catalog,
		HashKey:  st.Keys.Hash,
		Log:      log.With("component", "worker"),
		AppURL:   st.Config.AppURL,
	})
	return srv, mux
}

// asynqLogger routes asynq's own messages into slog. asynq logs task ids and
// types, not payloads, and payloads carry IDs only anyway.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// Fatal logs at error level; the process decides itself whether to stop.
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "fatal", true) }

package stack

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// WorkerServer builds the asynq server and its handlers on this stack's
// Redis. The caller Starts and Shutdowns it (Run would trap signals itself).
func (st *Stack) WorkerServer(log *slog.Logger) (*asynq.Server, *asynq.ServeMux, error) {
	srv := asynq.NewServerFromRedisClient(st.Redis, asynq.Config{
		Concurrency: st.Config.Concurrency,
		Queues:      tasks.Queues,
		Logger:      asynqLogger{log.With("component", "asynq")},
		LogLevel:    asynq.WarnLevel,
		// Tasks the rate limiter's Redis failed come back within seconds.
		RetryDelayFunc: worker.RetryDelay,
	})
	cfg := st.Config
	deps := worker.Deps{
		Settings: worker.Settings{
			Providers:    st.Providers,
			AppURL:       cfg.AppURL,
			SMSSenderKey: ratelimit.SenderKey("twilio", cfg.TwilioFrom),
			// Burst 1: tokens are taken per message, so the burst sizes nothing
			// and a larger one would let a second exceed the provider's rate.
			SMSRate:    ratelimit.Rate{PerSecond: cfg.SMSRate, Burst: 1},
			SMSPrice:   notify.SegmentPrice(cfg.SMSPricePence),
			RelayLease: cfg.RelayLease,
			RelayGrace: cfg.RelayGrace,
			// Push → SMS for important broadcasts left unopened.
			ImportantFallback: cfg.ImportantFallback,
		},
		Identity:     st.Store,
		Roster:       st.Store,
		Ledger:       st.Store,
		Suppressions: st.Store,
		Budgets:      st.Store,
		Email:        st.Email,
		SMS:          st.SMS,
		Push:         st.Push,
		Catalog:      st.Catalog,
		Limiter:      ratelimit.New(st.Redis),
		Messages:     st.messageMetrics(),
		Tasks:        st.Queue,
		HashKey:      st.Keys.Hash,
		Log:          log.With("component", "worker"),
		Imports:      st.Store,

		Devices:      st.Store,
		StaffNotices: st.Store,
		Assignments:  st.Store,
		Feed:         st.Store,
		Submissions:  st.Store,
		Digests:      st.Store,

		Retention:      st.Store,
		ErasureRecords: st.Store,
		ErasureAreas:   st.Store,
		Exports:        st.Store,
		Audit:          st.Store,
		Invited:        st.Store,
		ExpiredExports: st.Store,
		Announcements:  st.Store,
		Inbox:          st.Store,
	}
	if st.Outbox != nil {
		// A nil *Outbox in the interface would not read as "none".
		deps.Outbox = st.Outbox
	}
	mux, err := worker.NewMux(deps)
	if err != nil {
		return nil, nil, err
	}
	return srv, mux, nil
}

// RelayInterval is how often the relay reconciles Redis with the ledger.
const RelayInterval = time.Minute

// Scheduler queues periodic tasks. Several processes may run one: each
// periodic task is Unique for its interval, so it is queued once. It gets
// its own connection from RedisOpt (a failover client with Sentinels):
// asynq's scheduler closes its client on Shutdown, which it refuses to do to
// a shared one.
func (st *Stack) Scheduler(log *slog.Logger) (*asynq.Scheduler, error) {
	s := asynq.NewScheduler(st.RedisOpt, &asynq.SchedulerOpts{
		Logger:   asynqLogger{log.With("component", "scheduler")},
		LogLevel: asynq.WarnLevel,
	})
	if _, err := s.Register("@every 1m", tasks.NewRelay(RelayInterval)); err != nil {
		return nil, fmt.Errorf("schedule relay: %w", err)
	}
	// Announcements due and unsent (a send task Redis lost) start within
	// a minute.
	if _, err := s.Register("@every 1m", tasks.NewAnnouncementsSweep(time.Minute)); err != nil {
		return nil, fmt.Errorf("schedule announcements sweep: %w", err)
	}
	// Retention: an hourly tick queues the day's sweeps, each keyed by the
	// date, so they run once a day however many schedulers tick.
	if _, err := s.Register("@every 1h", tasks.NewRetentionTick(time.Hour)); err != nil {
		return nil, fmt.Errorf("schedule retention: %w", err)
	}
	// Due-date reminders: the tick queues each assignment's reminder once
	// its time (the day before the due date, at the school) has come.
	if _, err := s.Register("@every 15m", tasks.NewDueRemindersTick(tasks.DueRemindersInterval)); err != nil {
		return nil, fmt.Errorf("schedule due reminders: %w", err)
	}
	// Push tokens unrefreshed for 270 days: an hourly tick queues the
	// day's sweep, keyed by the date, so it runs once a day.
	if _, err := s.Register("@every 1h", tasks.NewDevicesTick(time.Hour)); err != nil {
		return nil, fmt.Errorf("schedule stale devices: %w", err)
	}
	return s, nil
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

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
	"github.com/hometime-edu/hometime/content/phone"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Deps is everything the handlers need; cmd/worker builds it. Every
// interface, pointer and slice field is required (NewMux names any that is
// missing) unless tagged optional.
type Deps struct {
	// Settings are the values configuration sets; none is a dependency.
	Settings `deps:"group"`

	Identity     content.Identity
	Roster       content.Roster
	Ledger       content.Ledger
	Suppressions content.Suppressions
	Budgets      content.Budgets
	Email        notify.EmailSender
	SMS          notify.SMSSender
	Push         notify.PushSender
	Catalog      *notify.Catalog
	Limiter      SendLimiter
	Tasks        tasks.Enqueuer
	HashKey      []byte
	Clock        content.Clock `deps:"optional"` // default: the system clock
	Log          *slog.Logger
	// Imports holds roster import batches and invite records (invite
	// reminders).
	Imports content.Imports
	// Messages counts what becomes of messages, under the provider names
	// in Settings.Providers.
	Messages *MessageMetrics

	// Assignment releases write Feed and notify; due-date reminders read
	// Submissions.
	Assignments content.Assignments
	Feed        content.FeedWriter
	Submissions AssignmentSubmissions
	// Digests holds pushes for the household digest.
	Digests content.DigestHolds
	// Devices holds parents' push tokens: pushes are sent to them, and
	// tokens FCM rejects or gone stale are pruned.
	Devices DeviceTokenStore
	// StaffNotices records staff pushes sent and prunes staff tokens.
	StaffNotices StaffNoticeStore

	// Retention clocks and erasure chains.
	Retention      content.Retention
	ErasureRecords content.Erasures
	ErasureAreas   ErasureAreas
	Audit          content.Audit
	// Exports builds parents' export archives.
	Exports content.Exports
	// Conversations are read by the daily digest of unanswered messages;
	// DigestMarks records each staff member's digest of a day, once.
	Conversations content.Conversations
	DigestMarks   content.WebhookEvents
	// Invited runs the invited clock and ExpiredExports deletes archives
	// past their link (daily sweeps).
	Invited        content.InvitedRetention
	ExpiredExports ExpiredExports
	// Announcements holds staff-written announcements, sent at their time.
	Announcements content.Announcements
	// Inbox takes an item per parent an announcement reaches; nil writes
	// none.
	Inbox content.InboxWriter `deps:"optional"`
	// Outbox is the local message record erasures reach; nil when messages
	// go to real providers, which keep their own.
	Outbox SentCopies `deps:"optional"`
}

// Settings are the worker's configured values: links, rates, prices and
// clocks. The zero value of each means its default where one is given.
type Settings struct {
	AppURL       string         // base of links in emails (default https://hometime.app)
	SMSSenderKey string         // rate-limit bucket of the SMS sender (no personal data)
	SMSRate      ratelimit.Rate // shared across every worker process
	SMSPrice     notify.SegmentPrice
	RelayLease   time.Duration // claims older than this become unknown (default 10 min)
	RelayGrace   time.Duration // owed entries idle this long are queued again (default 10 min)
	// Providers names the provider behind each channel, for Messages.
	Providers Providers
	// ImportantFallback is how long an important broadcast's push may go
	// unopened before an SMS is sent instead; 0 turns the fallback off.
	ImportantFallback time.Duration
}

// NewMux registers every task handler behind a logging middleware, or says
// which dependencies d lacks.
func NewMux(d Deps) (*asynq.ServeMux, error) {
	if err := content.RequireDeps("worker", d); err != nil {
		return nil, err
	}
	if d.Clock == nil {
		d.Clock = content.SystemClock{}
	}
	if d.AppURL == "" {
		d.AppURL = "https://hometime.app"
	}
	if d.RelayLease == 0 {
		d.RelayLease = 10 * time.Minute
	}
	if d.RelayGrace == 0 {
		d.RelayGrace = 10 * time.Minute
	}
	mux := asynq.NewServeMux()
	log := d.Log
	mux.Use(logTasks(log))
	mux.Handle(tasks.TypeSendAccountEmail, &AccountEmails{Deps: d})
	// One cache of mobile answers for the process: a message's number is
	// asked about when its broadcast is expanded and again when it is sent.
	phones := phone.New(phone.NewCache())
	// One record of the pages known to owe nothing: the page tasks add to
	// it and the expansion, judging its broadcast done, reads it too.
	settled := &settledPages{}
	mux.Handle(tasks.TypeExpandBroadcast, &Expansions{Ledger: d.Ledger, Roster: d.Roster, Tasks: d.Tasks, Clock: d.Clock, Log: log,
		Phones: phones, Digests: d.Digests, Inbox: d.Inbox, settled: settled})
	pages := &Pages{Ledger: d.Ledger, Log: log, settled: settled, Senders: []PageSender{
		&SMSPages{Ledger: d.Ledger, Roster: d.Roster, Suppressions: d.Suppressions, Budgets: d.Budgets, SMS: d.SMS,
			Catalog: d.Catalog, Limiter: d.Limiter, Tasks: d.Tasks, HashKey: d.HashKey, Clock: d.Clock, Log: log, Phones: phones,
			SenderKey: d.SMSSenderKey, Rate: d.SMSRate, Price: d.SMSPrice, RetryAfter: time.Minute,
			ClaimSize: SMSClaimSize(d.SMSRate), RoundSize: SMSRoundSize(d.SMSRate), Held: SMSHeld(d.SMSRate), Metrics: d.Messages, Provider: d.Providers.SMS},
		&EmailPages{Ledger: d.Ledger, Roster: d.Roster, Suppressions: d.Suppressions, Email: d.Email, Catalog: d.Catalog,
			Tasks: d.Tasks, HashKey: d.HashKey, Clock: d.Clock, Log: log, RetryAfter: time.Minute,
			Metrics: d.Messages, Provider: d.Providers.Email},
		&PushPages{Ledger: d.Ledger, Roster: d.Roster, Devices: d.Devices, Push: d.Push, Catalog: d.Catalog,
			Tasks: d.Tasks, Clock: d.Clock, Log: log, RetryAfter: time.Minute,
			OnDeadToken:   DeadTokens(d.Devices, d.HashKey, log),
			FallbackAfter: d.ImportantFallback, Metrics: d.Messages, Provider: d.Providers.Push},
	}}
	mux.Handle(tasks.TypeSendPage, pages)
	mux.Handle(tasks.TypeSendPages, pages)
	mux.Handle(tasks.TypeReleaseAssignment, &Releases{Assignments: d.Assignments, Roster: d.Roster, Feed: d.Feed,
		Ledger: d.Ledger, Tasks: d.Tasks, Clock: d.Clock, Log: log, AppURL: d.AppURL})
	due := &DueReminders{Assignments: d.Assignments, Roster: d.Roster, Submissions: d.Submissions, Feed: d.Feed,
		Ledger: d.Ledger, Tasks: d.Tasks, Clock: d.Clock, Log: log, AppURL: d.AppURL}
	mux.HandleFunc(tasks.TypeDueRemindersTick, due.Tick)
	mux.Handle(tasks.TypeDueReminder, due)
	mux.HandleFunc(tasks.TypeRefreshAssignmentFeed, due.RefreshFeed)
	mux.Handle(tasks.TypeSendDigest, &Digests{Holds: d.Digests, Roster: d.Roster, Ledger: d.Ledger, Tasks: d.Tasks,
		Clock: d.Clock, Log: log, AppURL: d.AppURL})
	stale := &StaleDevices{Store: d.Devices, Tasks: d.Tasks, Clock: d.Clock, Log: log}
	mux.HandleFunc(tasks.TypeDevicesTick, stale.Tick)
	mux.Handle(tasks.TypeDropStaleDevices, stale)
	sweeps := &RetentionSweeps{Store: d.Retention, Roster: d.Roster, Ledger: d.Ledger, Erasures: d.ErasureRecords,
		Audit: d.Audit, Invited: d.Invited, Exports: d.ExpiredExports, Tasks: d.Tasks, Clock: d.Clock, Log: log, AppURL: d.AppURL}
	mux.HandleFunc(tasks.TypeRetentionTick, sweeps.Tick)
	mux.Handle(tasks.TypeRetentionSweep, sweeps)
	mux.Handle(tasks.TypeEraseStage, &Erasures{Records: d.ErasureRecords, Areas: d.ErasureAreas, Retention: d.Retention,
		Roster: d.Roster, Identity: d.Identity, Suppressions: d.Suppressions, Audit: d.Audit, Tasks: d.Tasks,
		HashKey: d.HashKey, Clock: d.Clock, Log: log, Outbox: d.Outbox})
	mux.Handle(tasks.TypeBuildExport, &Exports{Store: d.Exports, Roster: d.Roster, Ledger: d.Ledger, Tasks: d.Tasks,
		Clock: d.Clock, Log: log, AppURL: d.AppURL})
	mux.Handle(tasks.TypeImportantFallback, &Fallbacks{Ledger: d.Ledger, Roster: d.Roster, Tasks: d.Tasks, Clock: d.Clock,
		Log: log, Delay: d.ImportantFallback, Phones: phones})
	mux.Handle(tasks.TypeInviteReminder, &InviteReminders{Imports: d.Imports, Roster: d.Roster, Ledger: d.Ledger,
		Tasks: d.Tasks, HashKey: d.HashKey, Clock: d.Clock, Log: log, AppURL: d.AppURL})
	ann := &Announcements{Store: d.Announcements, Roster: d.Roster, Ledger: d.Ledger, Tasks: d.Tasks, Clock: d.Clock, Log: log}
	mux.Handle(tasks.TypeSendAnnouncement, ann)
	mux.HandleFunc(tasks.TypeAnnouncementsSweep, ann.Sweep)
	mux.Handle(tasks.TypeNotifyStaff, &StaffNotifications{Roster: d.Roster, Store: d.StaffNotices, Assignments: d.Assignments,
		Push: d.Push, Tasks: d.Tasks, HashKey: d.HashKey, Clock: d.Clock, Log: log})
	digests := &ConversationDigests{Conversations: d.Conversations, Roster: d.Roster, Email: d.Email, Marks: d.DigestMarks,
		Tasks: d.Tasks, Clock: d.Clock, Log: log, AppURL: d.AppURL}
	mux.HandleFunc(tasks.TypeConversationDigestTick, digests.Tick)
	mux.Handle(tasks.TypeConversationDigest, digests)
	mux.Handle(tasks.TypeRelay, &Relay{Ledger: d.Ledger, Tasks: d.Tasks, Clock: d.Clock, Log: log,
		Lease: d.RelayLease, Grace: d.RelayGrace})
	return mux, nil
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

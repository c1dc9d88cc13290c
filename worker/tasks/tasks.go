// Package tasks names the background tasks and their payloads, shared by the
// API (which enqueues) and the worker (which handles). Payloads carry IDs
// only: queued and archived tasks live in Redis for up to 90 days, and
// personal data must never be there.
package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Queue names, highest priority first.
const (
	QueueCritical = "critical" // sign-in emails: a person is waiting
	QueueDefault  = "default"
	QueueBulk     = "bulk"
)

// Queues maps each queue to its asynq priority weight.
var Queues = map[string]int{QueueCritical: 6, QueueDefault: 3, QueueBulk: 1}

// TypeSendAccountEmail mints a password-reset or welcome token and emails it.
const TypeSendAccountEmail = "account:send_email"

// AccountEmail is the payload of TypeSendAccountEmail.
type AccountEmail struct {
	RequestID string `json:"request_id"`
}

// NewAccountEmail builds the task. The TaskID makes a repeated enqueue of the
// same request a no-op (asynq.ErrTaskIDConflict).
func NewAccountEmail(requestID string) (*asynq.Task, error) {
	b, err := json.Marshal(AccountEmail{RequestID: requestID})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeSendAccountEmail, err)
	}
	return asynq.NewTask(TypeSendAccountEmail, b,
		asynq.TaskID(TypeSendAccountEmail+":"+requestID),
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(10),
		asynq.Timeout(time.Minute),
		asynq.Retention(24*time.Hour)), nil
}

// ParseAccountEmail decodes the payload.
func ParseAccountEmail(b []byte) (AccountEmail, error) {
	var p AccountEmail
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeSendAccountEmail, err)
	}
	if p.RequestID == "" {
		return p, fmt.Errorf("decode %s: missing request_id", TypeSendAccountEmail)
	}
	return p, nil
}

// TypeSendPage sends what is owed on one ledger page. The page, in
// MongoDB, says what is owed; the task only says where to look.
const TypeSendPage = "messages:send_page"

// SendPage is the payload of TypeSendPage.
type SendPage struct {
	PageID string `json:"page_id"`
}

// NewSendPage builds the task for a page, to run at notBefore (zero: now).
// The TaskID names the page and the time, so the relay re-enqueuing a page
// whose task is still queued is a no-op (asynq.ErrTaskIDConflict), while a
// follow-up for entries deferred to the morning is a distinct task.
func NewSendPage(pageID string, notBefore time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(SendPage{PageID: pageID})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeSendPage, err)
	}
	opts := []asynq.Option{
		asynq.TaskID(fmt.Sprintf("%s:%s:%d", TypeSendPage, pageID, notBefore.Unix())),
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(20),
		asynq.Timeout(10 * time.Minute),
	}
	if !notBefore.IsZero() {
		opts = append(opts, asynq.ProcessAt(notBefore))
	}
	return asynq.NewTask(TypeSendPage, b, opts...), nil
}

// ParseSendPage decodes the payload.
func ParseSendPage(b []byte) (SendPage, error) {
	var p SendPage
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeSendPage, err)
	}
	if p.PageID == "" {
		return p, fmt.Errorf("decode %s: missing page_id", TypeSendPage)
	}
	return p, nil
}

// TypeExpandBroadcast writes a broadcast's ledger pages (one entry per
// recipient and channel) and queues a send task per page.
// TypeSendPages sends a run of consecutive ledger pages of one broadcast in
// one task, so email and push entries across them share provider calls
// (SendGrid takes 1,000 personalizations a request, FCM 500 messages a
// SendEach call; a page holds 100 entries). Follow-ups and the relay send
// single pages (TypeSendPage).
const TypeSendPages = "messages:send_pages"

// MaxPagesPerTask is the most pages one TypeSendPages task carries: ten
// pages of 100 fill one SendGrid request.
const MaxPagesPerTask = 10

// SendPages is the payload of TypeSendPages: page ids, in page order.
type SendPages struct {
	PageIDs []string `json:"page_ids"`
}

// NewSendPages builds the task. Its TaskID names the first page, how many
// follow and the time, so expanding a broadcast again queues nothing twice.
func NewSendPages(pageIDs []string, notBefore time.Time) (*asynq.Task, error) {
	if len(pageIDs) == 0 || len(pageIDs) > MaxPagesPerTask {
		return nil, fmt.Errorf("encode %s: %d pages, want 1 to %d", TypeSendPages, len(pageIDs), MaxPagesPerTask)
	}
	b, err := json.Marshal(SendPages{PageIDs: pageIDs})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeSendPages, err)
	}
	opts := []asynq.Option{
		asynq.TaskID(fmt.Sprintf("%s:%s:%d:%d", TypeSendPages, pageIDs[0], len(pageIDs), notBefore.Unix())),
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(20),
		asynq.Timeout(10 * time.Minute),
	}
	if !notBefore.IsZero() {
		opts = append(opts, asynq.ProcessAt(notBefore))
	}
	return asynq.NewTask(TypeSendPages, b, opts...), nil
}

// ParseSendPages decodes the payload.
func ParseSendPages(b []byte) (SendPages, error) {
	var p SendPages
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeSendPages, err)
	}
	if len(p.PageIDs) == 0 || len(p.PageIDs) > MaxPagesPerTask {
		return p, fmt.Errorf("decode %s: %d pages, want 1 to %d", TypeSendPages, len(p.PageIDs), MaxPagesPerTask)
	}
	for _, id := range p.PageIDs {
		if id == "" {
			return p, fmt.Errorf("decode %s: empty page id", TypeSendPages)
		}
	}
	return p, nil
}

const TypeExpandBroadcast = "messages:expand_broadcast"

// ExpandBroadcast is the payload of TypeExpandBroadcast.
type ExpandBroadcast struct {
	BroadcastID string `json:"broadcast_id"`
}

// NewExpandBroadcast builds the task; its TaskID keeps one expansion per
// broadcast queued at a time.
func NewExpandBroadcast(broadcastID string) (*asynq.Task, error) {
	b, err := json.Marshal(ExpandBroadcast{BroadcastID: broadcastID})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeExpandBroadcast, err)
	}
	return asynq.NewTask(TypeExpandBroadcast, b, asynq.TaskID(TypeExpandBroadcast+":"+broadcastID),
		asynq.Queue(QueueDefault), asynq.MaxRetry(20), asynq.Timeout(30*time.Minute)), nil
}

// ParseExpandBroadcast decodes the payload.
func ParseExpandBroadcast(b []byte) (ExpandBroadcast, error) {
	var p ExpandBroadcast
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeExpandBroadcast, err)
	}
	if p.BroadcastID == "" {
		return p, fmt.Errorf("decode %s: missing broadcast_id", TypeExpandBroadcast)
	}
	return p, nil
}

// TypeRelay sweeps broadcasts still sending: entries claimed past their
// lease become unknown, and pages whose owed entries no task has picked up
// (Redis lost or flushed) are queued again. MongoDB says what is owed;
// the relay makes Redis agree.
const TypeRelay = "messages:relay"

// NewRelay builds the periodic relay task. Unique keeps schedulers in
// several processes from queueing more than one per interval.
// (asynq refuses a Unique TTL under one second, so it never goes below.)
func NewRelay(interval time.Duration) *asynq.Task {
	unique := max(interval*9/10, time.Second)
	return asynq.NewTask(TypeRelay, nil, asynq.Queue(QueueDefault), asynq.Unique(unique),
		asynq.MaxRetry(0), asynq.Timeout(max(interval, 10*time.Second)))
}

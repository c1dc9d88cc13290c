package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeConversationDigestTick is the scheduler's hourly nudge for the daily
// email of unanswered parent messages: from the digest hour on, it queues
// the day's digest (keyed by the date, so once a day however often it ticks).
const TypeConversationDigestTick = "conversations:digest-tick"

// NewConversationDigestTick builds the periodic tick.
func NewConversationDigestTick(interval time.Duration) *asynq.Task {
	return asynq.NewTask(TypeConversationDigestTick, nil, asynq.Queue(QueueBulk),
		asynq.Unique(max(interval*9/10, time.Second)), asynq.MaxRetry(3), asynq.Timeout(time.Minute))
}

// TypeConversationDigest emails each staff member with parent messages
// unanswered past the digest's age a list of them, once per day.
const TypeConversationDigest = "conversations:digest"

// ConversationDigest is the payload of TypeConversationDigest.
type ConversationDigest struct {
	Day string `json:"day"` // YYYY-MM-DD (UTC): the task's key
}

// NewConversationDigest builds a day's digest; its TaskID names the day and
// it is retained two days, so queueing it again that day is a no-op.
func NewConversationDigest(day string) (*asynq.Task, error) {
	b, err := json.Marshal(ConversationDigest{Day: day})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeConversationDigest, err)
	}
	return asynq.NewTask(TypeConversationDigest, b, asynq.TaskID(TypeConversationDigest+":"+day),
		asynq.Queue(QueueBulk), asynq.MaxRetry(10), asynq.Timeout(10*time.Minute), asynq.Retention(48*time.Hour)), nil
}

// ParseConversationDigest decodes the payload.
func ParseConversationDigest(b []byte) (ConversationDigest, error) {
	var p ConversationDigest
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeConversationDigest, err)
	}
	if p.Day == "" {
		return p, fmt.Errorf("decode %s: missing day", TypeConversationDigest)
	}
	return p, nil
}

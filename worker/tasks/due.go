package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeDueRemindersTick is the scheduler's periodic nudge for due-date
// reminders: it finds released assignments whose reminder time has come
// and queues one TypeDueReminder for each.
const TypeDueRemindersTick = "assignments:due_tick"

// DueRemindersInterval is how often the tick runs: a reminder goes at most
// this late after its time.
const DueRemindersInterval = 15 * time.Minute

// NewDueRemindersTick builds the periodic tick. Unique keeps schedulers in
// several processes from queueing more than one per interval.
func NewDueRemindersTick(interval time.Duration) *asynq.Task {
	return asynq.NewTask(TypeDueRemindersTick, nil, asynq.Queue(QueueBulk), asynq.Unique(max(interval*9/10, time.Second)),
		asynq.MaxRetry(3), asynq.Timeout(5*time.Minute))
}

// TypeDueReminder reminds the families of one assignment that have not
// sent anything back, the day before it is due.
const TypeDueReminder = "assignments:due_reminder"

// DueReminder is the payload of TypeDueReminder: the assignment and the due
// time it was queued for (Unix seconds). A due date moved since finds the
// time changed and does nothing.
type DueReminder struct {
	AssignmentID string `json:"assignment_id"`
	DueAt        int64  `json:"due_at"`
}

// NewDueReminder builds the task. Its TaskID names the assignment and due
// time, and it is kept two days after it ran, so every tick of the
// reminder's day queues it once.
func NewDueReminder(assignmentID string, dueAt time.Time) (*asynq.Task, error) {
	p := DueReminder{AssignmentID: assignmentID, DueAt: dueAt.Unix()}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeDueReminder, err)
	}
	return asynq.NewTask(TypeDueReminder, b, asynq.TaskID(DueReminderTaskID(assignmentID, dueAt)),
		asynq.Queue(QueueDefault), asynq.MaxRetry(20), asynq.Timeout(10*time.Minute),
		asynq.Retention(48*time.Hour)), nil
}

// DueReminderTaskID is the TaskID of an assignment's reminder for a due time.
func DueReminderTaskID(assignmentID string, dueAt time.Time) string {
	return fmt.Sprintf("%s:%s:%d", TypeDueReminder, assignmentID, dueAt.Unix())
}

// ParseDueReminder decodes the payload.
func ParseDueReminder(b []byte) (DueReminder, error) {
	var p DueReminder
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeDueReminder, err)
	}
	if p.AssignmentID == "" || p.DueAt <= 0 {
		return p, fmt.Errorf("decode %s: missing assignment_id or due_at", TypeDueReminder)
	}
	return p, nil
}

// TypeRefreshAssignmentFeed rewrites a released assignment's feed items
// after its due date moved, so families see the new date.
const TypeRefreshAssignmentFeed = "assignments:refresh_feed"

// NewRefreshAssignmentFeed builds the task for the due time it shows.
func NewRefreshAssignmentFeed(assignmentID string, dueAt time.Time) (*asynq.Task, error) {
	p := DueReminder{AssignmentID: assignmentID, DueAt: dueAt.Unix()}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeRefreshAssignmentFeed, err)
	}
	return asynq.NewTask(TypeRefreshAssignmentFeed, b,
		asynq.TaskID(fmt.Sprintf("%s:%s:%d", TypeRefreshAssignmentFeed, assignmentID, p.DueAt)),
		asynq.Queue(QueueDefault), asynq.MaxRetry(20), asynq.Timeout(10*time.Minute),
		asynq.Retention(time.Hour)), nil
}

// TypeSendDigest sends a parent's household digest for one day: one push
// summing up the messages whose pushes waited for it.
const TypeSendDigest = "digest:send"

// SendDigest is the payload of TypeSendDigest.
type SendDigest struct {
	ParentID string `json:"parent_id"`
	Day      string `json:"day"` // YYYY-MM-DD, the digest's day at the school
}

// NewSendDigest builds the task, to run at sendAt. Its TaskID names the
// parent and the day, so every held push of that day queues it once.
func NewSendDigest(parentID, day string, sendAt time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(SendDigest{ParentID: parentID, Day: day})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeSendDigest, err)
	}
	return asynq.NewTask(TypeSendDigest, b, asynq.TaskID(SendDigestTaskID(parentID, day)),
		asynq.ProcessAt(sendAt), asynq.Queue(QueueDefault), asynq.MaxRetry(20),
		asynq.Timeout(5*time.Minute), asynq.Retention(48*time.Hour)), nil
}

// SendDigestTaskID is the TaskID of a parent's digest for a day.
func SendDigestTaskID(parentID, day string) string {
	return TypeSendDigest + ":" + parentID + ":" + day
}

// ParseSendDigest decodes the payload.
func ParseSendDigest(b []byte) (SendDigest, error) {
	var p SendDigest
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeSendDigest, err)
	}
	if p.ParentID == "" || p.Day == "" {
		return p, fmt.Errorf("decode %s: missing parent_id or day", TypeSendDigest)
	}
	return p, nil
}

package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeRetentionTick is the scheduler's periodic nudge: it queues the day's
// retention sweeps. It runs every hour so a day missed by a stopped
// scheduler is picked up within the hour it comes back.
const TypeRetentionTick = "retention:tick"

// NewRetentionTick builds the periodic tick. Unique keeps schedulers in
// several processes from queueing more than one per interval.
func NewRetentionTick(interval time.Duration) *asynq.Task {
	return asynq.NewTask(TypeRetentionTick, nil, asynq.Queue(QueueBulk), asynq.Unique(max(interval*9/10, time.Second)),
		asynq.MaxRetry(3), asynq.Timeout(time.Minute))
}

// TypeRetentionSweep runs one retention clock over every subject it covers,
// doing everything due as of the time it runs (so a late or missed day
// catches up in one run).
const TypeRetentionSweep = "retention:sweep"

// Sweep kinds.
const (
	SweepParents  = "parents"  // inactivity notice, closure, erasure of closed accounts
	SweepChildren = "children" // children removed by school and every parent
	SweepSchools  = "schools"  // schools six weeks past their subscription
	SweepStaff    = "staff"    // staff idle two years
	SweepAudit    = "audit"    // audit events older than 12 months
	SweepInvited  = "invited"  // invited parents who never joined, 12 months after the last invite
	SweepExports  = "exports"  // export archives past their 24-hour link
)

// SweepKinds lists every sweep, in the order the tick queues them.
var SweepKinds = []string{SweepParents, SweepChildren, SweepSchools, SweepStaff, SweepAudit, SweepInvited, SweepExports}

// RetentionSweep is the payload of TypeRetentionSweep.
type RetentionSweep struct {
	Kind string `json:"kind"`
	Day  string `json:"day"` // YYYY-MM-DD (UTC): the task's key
}

// NewRetentionSweep builds a day's sweep. Its TaskID names the kind and the
// day, and it is retained two days after it finishes, so a second
// scheduler, a rerun tick or a retried enqueue that day is a no-op
// (asynq.ErrTaskIDConflict).
func NewRetentionSweep(kind, day string) (*asynq.Task, error) {
	b, err := json.Marshal(RetentionSweep{Kind: kind, Day: day})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeRetentionSweep, err)
	}
	return asynq.NewTask(TypeRetentionSweep, b, asynq.TaskID(RetentionSweepTaskID(kind, day)),
		asynq.Queue(QueueBulk), asynq.MaxRetry(10), asynq.Timeout(30*time.Minute),
		asynq.Retention(48*time.Hour)), nil
}

// RetentionSweepTaskID is the TaskID of a day's sweep of a kind.
func RetentionSweepTaskID(kind, day string) string {
	return TypeRetentionSweep + ":" + kind + ":" + day
}

// ParseRetentionSweep decodes the payload.
func ParseRetentionSweep(b []byte) (RetentionSweep, error) {
	var p RetentionSweep
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeRetentionSweep, err)
	}
	if p.Kind == "" || p.Day == "" {
		return p, fmt.Errorf("decode %s: missing kind or day", TypeRetentionSweep)
	}
	return p, nil
}

// TypeEraseStage runs one stage of a subject's erasure chain and queues the
// next. Progress lives in the erasure record (MongoDB, by _id), so a chain
// lost from Redis or killed mid-stage resumes where the record says.
const TypeEraseStage = "erasure:stage"

// EraseStage is the payload of TypeEraseStage. IDs only.
type EraseStage struct {
	Kind  string `json:"kind"` // subject kind: parent | child | school | staff
	ID    string `json:"id"`
	Stage int    `json:"stage"`
}

// NewEraseStage builds a stage task. The TaskID names the subject and the
// stage, so a stage is queued once however often it is asked for.
func NewEraseStage(kind, id string, stage int) (*asynq.Task, error) {
	b, err := json.Marshal(EraseStage{Kind: kind, ID: id, Stage: stage})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeEraseStage, err)
	}
	return asynq.NewTask(TypeEraseStage, b,
		asynq.TaskID(fmt.Sprintf("%s:%s:%s:%d", TypeEraseStage, kind, id, stage)),
		asynq.Queue(QueueDefault), asynq.MaxRetry(25), asynq.Timeout(30*time.Minute),
		asynq.Retention(24*time.Hour)), nil
}

// ParseEraseStage decodes the payload.
func ParseEraseStage(b []byte) (EraseStage, error) {
	var p EraseStage
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeEraseStage, err)
	}
	if p.Kind == "" || p.ID == "" || p.Stage < 0 {
		return p, fmt.Errorf("decode %s: missing subject", TypeEraseStage)
	}
	return p, nil
}

package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeReleaseAssignment puts an assignment in its children's feeds and
// notifies their parents, at the assignment's release time.
const TypeReleaseAssignment = "assignments:release"

// ReleaseAssignment is the payload of TypeReleaseAssignment: the assignment
// and the release time it was queued for (Unix seconds). An assignment
// re-timed since then has another task; this one finds the time changed
// and does nothing.
type ReleaseAssignment struct {
	AssignmentID string `json:"assignment_id"`
	ReleaseAt    int64  `json:"release_at"`
}

// NewReleaseAssignment builds the task, to run at releaseAt. The TaskID
// names the assignment and the time, so queueing the same release twice is
// a no-op (asynq.ErrTaskIDConflict) while an edit of the time queues anew.
func NewReleaseAssignment(assignmentID string, releaseAt time.Time) (*asynq.Task, error) {
	p := ReleaseAssignment{AssignmentID: assignmentID, ReleaseAt: releaseAt.Unix()}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeReleaseAssignment, err)
	}
	return asynq.NewTask(TypeReleaseAssignment, b,
		asynq.TaskID(fmt.Sprintf("%s:%s:%d", TypeReleaseAssignment, assignmentID, p.ReleaseAt)),
		asynq.ProcessAt(releaseAt), asynq.Queue(QueueDefault), asynq.MaxRetry(20),
		asynq.Timeout(10*time.Minute), asynq.Retention(48*time.Hour)), nil
}

// ParseReleaseAssignment decodes the payload.
func ParseReleaseAssignment(b []byte) (ReleaseAssignment, error) {
	var p ReleaseAssignment
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeReleaseAssignment, err)
	}
	if p.AssignmentID == "" || p.ReleaseAt <= 0 {
		return p, fmt.Errorf("decode %s: missing assignment_id or release_at", TypeReleaseAssignment)
	}
	return p, nil
}

// TypeDevicesTick is the scheduler's hourly nudge for the device sweep: it
// queues the day's TypeDropStaleDevices, keyed by the date, so the sweep
// runs once a day however many schedulers tick, and a day missed while no
// scheduler ran is caught up within the hour one comes back.
const TypeDevicesTick = "devices:tick"

// NewDevicesTick builds the periodic tick. Unique keeps schedulers in
// several processes from queueing more than one per interval.
func NewDevicesTick(interval time.Duration) *asynq.Task {
	return asynq.NewTask(TypeDevicesTick, nil, asynq.Queue(QueueBulk), asynq.Unique(max(interval*9/10, time.Second)),
		asynq.MaxRetry(3), asynq.Timeout(time.Minute))
}

// TypeDropStaleDevices removes push tokens no app has refreshed for 270
// days, as of the day it names.
const TypeDropStaleDevices = "devices:drop_stale"

// DropStaleDevices is the payload of TypeDropStaleDevices.
type DropStaleDevices struct {
	Day string `json:"day"` // YYYY-MM-DD (UTC): the task's key
}

// NewDropStaleDevices builds a day's sweep. Its TaskID names the day and it
// is retained two days after it finishes, so a second tick that day is a
// no-op (asynq.ErrTaskIDConflict).
func NewDropStaleDevices(day string) (*asynq.Task, error) {
	b, err := json.Marshal(DropStaleDevices{Day: day})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeDropStaleDevices, err)
	}
	return asynq.NewTask(TypeDropStaleDevices, b, asynq.TaskID(TypeDropStaleDevices+":"+day),
		asynq.Queue(QueueBulk), asynq.MaxRetry(5), asynq.Timeout(30*time.Minute), asynq.Retention(48*time.Hour)), nil
}

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

// TypeDropStaleDevices removes push tokens no app has refreshed for 270
// days. It is scheduled daily and idempotent.
const TypeDropStaleDevices = "devices:drop_stale"

// NewDropStaleDevices builds the daily sweep. Unique keeps schedulers in
// several processes from queueing it more than once a day.
func NewDropStaleDevices() *asynq.Task {
	return asynq.NewTask(TypeDropStaleDevices, nil, asynq.Queue(QueueBulk), asynq.Unique(20*time.Hour),
		asynq.MaxRetry(5), asynq.Timeout(30*time.Minute))
}

package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeNotifyStaff pushes to the staff a parent's action concerns: a new
// message or a reply in a conversation, or a submission on their class's
// assignment. The handler picks the staff (class teachers, or the thread's
// staff), holds the push outside each one's working hours, and sends one
// push per event per staff member.
const TypeNotifyStaff = "staff:notify"

// Staff notification kinds.
const (
	StaffNotifyMessage    = "message"    // a parent started a conversation
	StaffNotifyReply      = "reply"      // a parent replied in a conversation
	StaffNotifySubmission = "submission" // a parent submitted on an assignment
)

// NotifyStaff is the payload of TypeNotifyStaff. IDs only.
type NotifyStaff struct {
	Kind     string `json:"kind"`
	SchoolID string `json:"school_id"`
	ClassID  string `json:"class_id,omitempty"`
	// RefID is the event: a conversation message id, or a submission id.
	RefID string `json:"ref_id"`
	// StaffIDs, when set, are the staff to notify (a thread's staff);
	// else the class's teachers.
	StaffIDs []string `json:"staff_ids,omitempty"`
}

// NewNotifyStaff builds the task; the TaskID makes one push per event.
func NewNotifyStaff(p NotifyStaff) (*asynq.Task, error) {
	if p.Kind == "" || p.SchoolID == "" || p.RefID == "" {
		return nil, fmt.Errorf("encode %s: kind, school_id and ref_id are required", TypeNotifyStaff)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeNotifyStaff, err)
	}
	return asynq.NewTask(TypeNotifyStaff, b,
		asynq.TaskID(TypeNotifyStaff+":"+p.Kind+":"+p.RefID),
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(10),
		asynq.Timeout(time.Minute),
		asynq.Retention(24*time.Hour)), nil
}

// ParseNotifyStaff decodes the payload.
func ParseNotifyStaff(b []byte) (NotifyStaff, error) {
	var p NotifyStaff
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeNotifyStaff, err)
	}
	if p.Kind == "" || p.SchoolID == "" || p.RefID == "" {
		return p, fmt.Errorf("decode %s: kind, school_id and ref_id are required", TypeNotifyStaff)
	}
	return p, nil
}

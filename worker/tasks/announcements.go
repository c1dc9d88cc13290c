package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeSendAnnouncement starts the send of an announcement at its send time:
// it publishes the announcement's broadcast unless the announcement was
// cancelled (or already sent) by then.
const TypeSendAnnouncement = "announcements:send"

// SendAnnouncement is the payload of TypeSendAnnouncement. IDs only.
type SendAnnouncement struct {
	AnnouncementID string `json:"announcement_id"`
}

// NewSendAnnouncement builds the task, to run at sendAt. The TaskID names
// the announcement, so queueing it twice is a no-op.
func NewSendAnnouncement(announcementID string, sendAt time.Time) (*asynq.Task, error) {
	if announcementID == "" {
		return nil, fmt.Errorf("encode %s: missing announcement_id", TypeSendAnnouncement)
	}
	b, err := json.Marshal(SendAnnouncement{AnnouncementID: announcementID})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeSendAnnouncement, err)
	}
	return asynq.NewTask(TypeSendAnnouncement, b,
		asynq.TaskID(TypeSendAnnouncement+":"+announcementID),
		asynq.ProcessAt(sendAt), asynq.Queue(QueueDefault), asynq.MaxRetry(20),
		asynq.Timeout(5*time.Minute), asynq.Retention(48*time.Hour)), nil
}

// ParseSendAnnouncement decodes the payload.
func ParseSendAnnouncement(b []byte) (SendAnnouncement, error) {
	var p SendAnnouncement
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeSendAnnouncement, err)
	}
	if p.AnnouncementID == "" {
		return p, fmt.Errorf("decode %s: missing announcement_id", TypeSendAnnouncement)
	}
	return p, nil
}

// TypeAnnouncementsSweep starts every announcement that is due and not yet
// sent: the store, not the queue, says what is owed, so a send task Redis
// lost is caught within one interval.
const TypeAnnouncementsSweep = "announcements:sweep"

// NewAnnouncementsSweep builds the periodic sweep. Unique keeps schedulers
// in several processes from queueing more than one per interval.
func NewAnnouncementsSweep(interval time.Duration) *asynq.Task {
	return asynq.NewTask(TypeAnnouncementsSweep, nil, asynq.Queue(QueueDefault),
		asynq.Unique(max(interval*9/10, time.Second)), asynq.MaxRetry(0), asynq.Timeout(max(interval, 10*time.Second)))
}

package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeInviteReminder reminds the parents an import invited who have not
// joined yet, a few days after the invite: one invite_reminder broadcast
// for those still invited, not closed and linked at the school.
const TypeInviteReminder = "invites:remind"

// InviteReminder is the payload of TypeInviteReminder.
type InviteReminder struct {
	ImportID string `json:"import_id"`
	Day      int    `json:"day"` // days after the import: 3 or 7
}

// InviteReminderDays are the days after an import its reminders go out.
var InviteReminderDays = []int{3, 7}

// NewInviteReminder builds the task for one import and day, to run at at.
// The TaskID names both, so a commit that is retried or resumed queues
// each reminder once.
func NewInviteReminder(importID string, day int, at time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(InviteReminder{ImportID: importID, Day: day})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeInviteReminder, err)
	}
	return asynq.NewTask(TypeInviteReminder, b,
		asynq.TaskID(fmt.Sprintf("%s:%s:%d", TypeInviteReminder, importID, day)),
		asynq.Queue(QueueDefault), asynq.ProcessAt(at), asynq.MaxRetry(20),
		asynq.Timeout(10*time.Minute), asynq.Retention(7*24*time.Hour)), nil
}

// ParseInviteReminder decodes the payload.
func ParseInviteReminder(b []byte) (InviteReminder, error) {
	var p InviteReminder
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeInviteReminder, err)
	}
	if p.ImportID == "" || p.Day <= 0 {
		return p, fmt.Errorf("decode %s: missing import_id or day", TypeInviteReminder)
	}
	return p, nil
}

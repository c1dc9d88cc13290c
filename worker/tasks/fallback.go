package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeImportantFallback looks, after a delay, at the pushes of one ledger
// page of an important broadcast and sends an SMS to each parent who has
// not opened theirs.
const TypeImportantFallback = "messages:important_fallback"

// ImportantFallback is the payload of TypeImportantFallback: the push page.
type ImportantFallback struct {
	PageID string `json:"page_id"`
}

// NewImportantFallback builds the task, due at at. Its TaskID names the page
// and the time: one check per page and moment however often it is queued.
func NewImportantFallback(pageID string, at time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(ImportantFallback{PageID: pageID})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeImportantFallback, err)
	}
	return asynq.NewTask(TypeImportantFallback, b,
		asynq.TaskID(fmt.Sprintf("%s:%s:%d", TypeImportantFallback, pageID, at.Unix())),
		asynq.Queue(QueueDefault), asynq.MaxRetry(20), asynq.Timeout(5*time.Minute), asynq.ProcessAt(at)), nil
}

// ParseImportantFallback decodes the payload.
func ParseImportantFallback(b []byte) (ImportantFallback, error) {
	var p ImportantFallback
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeImportantFallback, err)
	}
	if p.PageID == "" {
		return p, fmt.Errorf("decode %s: missing page_id", TypeImportantFallback)
	}
	return p, nil
}

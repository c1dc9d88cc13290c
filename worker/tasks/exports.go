package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeBuildExport builds the archive of an export record and tells the
// parent it is ready.
const TypeBuildExport = "export:build"

// BuildExport is the payload of TypeBuildExport. IDs only.
type BuildExport struct {
	ExportID string `json:"export_id"`
}

// NewBuildExport builds the task. The TaskID names the export, so it is
// queued once however often it is asked for.
func NewBuildExport(exportID string) (*asynq.Task, error) {
	b, err := json.Marshal(BuildExport{ExportID: exportID})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeBuildExport, err)
	}
	return asynq.NewTask(TypeBuildExport, b, asynq.TaskID(TypeBuildExport+":"+exportID),
		asynq.Queue(QueueDefault), asynq.MaxRetry(10), asynq.Timeout(30*time.Minute),
		asynq.Retention(24*time.Hour)), nil
}

// ParseBuildExport decodes the payload.
func ParseBuildExport(b []byte) (BuildExport, error) {
	var p BuildExport
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s: %w", TypeBuildExport, err)
	}
	if p.ExportID == "" {
		return p, fmt.Errorf("decode %s: missing export id", TypeBuildExport)
	}
	return p, nil
}

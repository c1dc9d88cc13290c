package content

import (
	"context"
	"time"
)

// Export states.
const (
	ExportQueued = "queued"
	ExportReady  = "ready"
	ExportFailed = "failed"
)

// Export is one request for a copy of everything held about a parent (and
// their children). The archive itself is kept beside the record until it
// expires, ExportLinkTTL after it is ready.
type Export struct {
	ID        string
	ParentID  string // a parent's own export, or
	SchoolID  string // a school admin's export of the whole school
	State     string
	CreatedAt time.Time
	ReadyAt   time.Time
	ExpiresAt time.Time
}

// ExportPhoto is one original picture that goes into an export archive.
type ExportPhoto struct {
	ID          string
	ContentType string
	Data        []byte
}

// Exports stores export records and archives, and gathers what an export
// holds.
type Exports interface {
	// StartExport records e, or returns the parent's (or school's) export
	// already queued (created false).
	StartExport(ctx context.Context, e *Export) (got *Export, created bool, err error)
	Export(ctx context.Context, id string) (*Export, error)
	// ParentExportData gathers everything held about a parent and their
	// children, secrets left out, as JSON-ready sections, and the parent's
	// photos.
	ParentExportData(ctx context.Context, parentID string) (map[string]any, []ExportPhoto, error)
	// SchoolExportData gathers a school's roster, classes, staff (no
	// secrets), children, parent contacts, assignments, submissions and
	// engagement counts, and the school's photos.
	SchoolExportData(ctx context.Context, schoolID string) (map[string]any, []ExportPhoto, error)
	// FinishExport stores the archive (replacing any earlier attempt's) and
	// marks the export ready, expiring ExportLinkTTL after at.
	FinishExport(ctx context.Context, id string, archive []byte, at time.Time) error
	FailExport(ctx context.Context, id string) error
	ExportArchive(ctx context.Context, id string) ([]byte, error)
}

package content

import (
	"context"
	"time"
)

// Attachment is a file staff attached to something they send (a PDF or an
// image), stored like photos and served by signed URL. Announcements hold
// attachment IDs only; the attachment store owns the bytes.
type Attachment struct {
	ID          string
	SchoolID    string
	Name        string // file name as uploaded, shown to families
	ContentType string // "application/pdf", "image/jpeg", "image/png"
	Size        int64  // bytes
	CreatedBy   string // staff id
	CreatedAt   time.Time
}

// Attachments reads attachments by id (CodeNotFound when there is none), so
// what refers to one can check it exists and belongs to the same school.
type Attachments interface {
	Attachment(ctx context.Context, id string) (*Attachment, error)
}

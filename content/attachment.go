package content

import (
	"context"
	"time"
)

// Attachment is a file staff attach to an announcement: a PDF or an image,
// judged by its bytes. It is never listed publicly: it is served only
// through short-lived signed URLs handed to those who may read an
// announcement that names it.
type Attachment struct {
	ID, SchoolID, Name, ContentType string
	Size                            int64
	CreatedBy                       string
	CreatedAt                       time.Time
}

// Attachments stores attachment metadata (and, in the store, the bytes).
type Attachments interface {
	PutAttachment(ctx context.Context, a *Attachment) error
	Attachment(ctx context.Context, id string) (*Attachment, error)
}

// AttachmentFiles keeps the bytes of attachments next to their metadata.
type AttachmentFiles interface {
	Attachments
	// StoreAttachment writes the bytes, then the metadata; a retry after a
	// crash finishes the job.
	StoreAttachment(ctx context.Context, a *Attachment, data []byte) error
	AttachmentBytes(ctx context.Context, id string) ([]byte, error)
}

// Attachment content types accepted (by sniffed bytes, never by name).
const (
	AttachmentPDF  = "application/pdf"
	AttachmentJPEG = "image/jpeg"
	AttachmentPNG  = "image/png"
	AttachmentWebP = "image/webp"
)

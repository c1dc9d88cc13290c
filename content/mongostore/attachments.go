package mongostore

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Announcement attachments: the bytes in a GridFS bucket of their own
// (file id = attachment id), the metadata in a document by _id. Like
// photos, nothing lists them; they are read only by id.
const (
	colAttachments   = "attachments"
	attachmentBucket = "attachmentfiles"
)

type attachmentDoc struct {
	ID          string    `bson:"_id"`
	SchoolID    string    `bson:"schoolId"`
	Name        string    `bson:"name"`
	ContentType string    `bson:"contentType"`
	Size        int64     `bson:"size"`
	CreatedBy   string    `bson:"createdBy"`
	CreatedAt   time.Time `bson:"createdAt"`
}

func (d *attachmentDoc) toContent() *content.Attachment {
	return &content.Attachment{ID: d.ID, SchoolID: d.SchoolID, Name: d.Name, ContentType: d.ContentType, Size: d.Size,
		CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt}
}

var _ content.AttachmentFiles = (*Store)(nil)

func (s *Store) attachmentBucket() *mongo.GridFSBucket {
	return s.db.GridFSBucket(options.GridFSBucket().SetName(attachmentBucket))
}

// PutAttachment writes the metadata alone (StoreAttachment writes the
// bytes first); a second put of the same id is CodeConflict.
func (s *Store) PutAttachment(ctx context.Context, a *content.Attachment) error {
	d := attachmentDoc{ID: a.ID, SchoolID: a.SchoolID, Name: a.Name, ContentType: a.ContentType, Size: a.Size,
		CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt.UTC()}
	return s.insert(ctx, colAttachments, d, "attachment")
}

func (s *Store) Attachment(ctx context.Context, id string) (*content.Attachment, error) {
	d, err := getByID[attachmentDoc](ctx, s, colAttachments, id, "attachment")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// StoreAttachment uploads the bytes, then the metadata: an attachment
// exists only once its bytes do. A retry replaces a half-written file.
func (s *Store) StoreAttachment(ctx context.Context, a *content.Attachment, data []byte) error {
	if _, err := s.Attachment(ctx, a.ID); err == nil {
		return nil
	} else if !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	err := func() error {
		ctx, cancel := s.photoCtx(ctx)
		defer cancel()
		b := s.attachmentBucket()
		err := b.UploadFromStreamWithID(ctx, a.ID, a.ID, bytes.NewReader(data))
		if mongo.IsDuplicateKeyError(err) {
			if derr := b.Delete(ctx, a.ID); derr != nil && !errors.Is(derr, mongo.ErrFileNotFound) {
				return mapErr(derr, "attachment file")
			}
			err = b.UploadFromStreamWithID(ctx, a.ID, a.ID, bytes.NewReader(data))
		}
		return mapErr(err, "attachment file")
	}()
	if err != nil {
		return err
	}
	if err := s.PutAttachment(ctx, a); err != nil && !content.IsCode(err, content.CodeConflict) {
		return err
	}
	return nil
}

func (s *Store) AttachmentBytes(ctx context.Context, id string) ([]byte, error) {
	ctx, cancel := s.photoCtx(ctx)
	defer cancel()
	var buf bytes.Buffer
	if _, err := s.attachmentBucket().DownloadToStream(ctx, id, &buf); err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return nil, content.Errorf(content.CodeNotFound, "attachment not found")
		}
		return nil, mapErr(err, "attachment file")
	}
	return buf.Bytes(), nil
}

// eraseAttachmentsOfSchool deletes the school's attachments: each file
// (its chunks go with it), then the metadata.
func eraseAttachmentsOfSchool(ctx context.Context, s *Store, schoolID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	ids, err := distinctIDs(ctx, s, colAttachments, bson.D{{Key: "schoolId", Value: schoolID}})
	if err != nil {
		return 0, err
	}
	var n int64
	bucket := s.attachmentBucket()
	for _, id := range ids {
		if err := bucket.Delete(ctx, id); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			return n, mapErr(err, "attachment file")
		}
		if _, err := s.c(colAttachments).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return n, mapErr(err, "attachment")
		}
		n++
	}
	return n, nil
}

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

// Photos: the pictures live in a GridFS bucket under ids of our own
// (PhotoFileID: photo id + variant), and each photo has a metadata
// document by _id. Reads go metadata → one GridFS download by file id.
// The embedded store finds GridFS chunks by scanning, so nothing here
// looks chunks up other than through a download of a known file.

type photoConsentDoc struct {
	Granted bool      `bson:"granted"`
	By      string    `bson:"by,omitempty"`
	At      time.Time `bson:"at,omitempty"`
}

type photoDoc struct {
	ID           string          `bson:"_id"`
	SubmissionID string          `bson:"submissionId"`
	SchoolID     string          `bson:"schoolId"`
	ChildID      string          `bson:"childId"`
	ParentID     string          `bson:"parentId"`
	ContentType  string          `bson:"contentType"`
	SourceFormat string          `bson:"sourceFormat"`
	Width        int             `bson:"width"`
	Height       int             `bson:"height"`
	Bytes        int             `bson:"bytes"`
	ThumbBytes   int             `bson:"thumbBytes"`
	Promotion    photoConsentDoc `bson:"promotion"`
	Hidden       *hiddenDoc      `bson:"hidden,omitempty"`
	CreatedAt    time.Time       `bson:"createdAt"`
}

func (d *photoDoc) toContent() *content.Photo {
	return &content.Photo{ID: d.ID, SubmissionID: d.SubmissionID, SchoolID: d.SchoolID, ChildID: d.ChildID,
		ParentID: d.ParentID, ContentType: d.ContentType, SourceFormat: d.SourceFormat, Width: d.Width, Height: d.Height,
		Bytes: d.Bytes, ThumbBytes: d.ThumbBytes, CreatedAt: d.CreatedAt, Hidden: d.Hidden.toContent(),
		Promotion: content.PhotoConsent{Granted: d.Promotion.Granted, By: d.Promotion.By, At: d.Promotion.At}}
}

// photoTimeout bounds one photo's store calls: a few megabytes through
// GridFS take longer than a lookup.
func (s *Store) photoCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 4*s.timeout)
}

func (s *Store) photoBucket() *mongo.GridFSBucket {
	return s.db.GridFSBucket(options.GridFSBucket().SetName(photoBucket))
}

// PutPhoto writes the pictures, then the metadata, then lists the photo
// on its submission. A retry after a crash at any point finishes the job:
// a picture already uploaded in full is replaced, metadata already there
// ends the call early only once the submission lists the photo.
func (s *Store) PutPhoto(ctx context.Context, base *content.Submission, p *content.Photo, full, thumb []byte) error {
	if _, err := s.Photo(ctx, p.ID); err == nil {
		return s.listPhoto(ctx, base, p.ID, p.CreatedAt)
	} else if !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	for _, f := range []struct {
		variant string
		data    []byte
	}{{content.PhotoFull, full}, {content.PhotoThumb, thumb}} {
		if err := s.uploadPhotoFile(ctx, content.PhotoFileID(p.ID, f.variant), f.data); err != nil {
			return err
		}
	}
	d := photoDoc{ID: p.ID, SubmissionID: p.SubmissionID, SchoolID: p.SchoolID, ChildID: p.ChildID, ParentID: p.ParentID,
		ContentType: p.ContentType, SourceFormat: p.SourceFormat, Width: p.Width, Height: p.Height, Bytes: len(full),
		ThumbBytes: len(thumb), CreatedAt: p.CreatedAt.UTC()}
	if err := s.insert(ctx, colPhotos, d, "photo"); err != nil && !content.IsCode(err, content.CodeConflict) {
		return err
	}
	return s.listPhoto(ctx, base, p.ID, p.CreatedAt)
}

func (s *Store) uploadPhotoFile(ctx context.Context, fileID string, data []byte) error {
	ctx, cancel := s.photoCtx(ctx)
	defer cancel()
	b := s.photoBucket()
	err := b.UploadFromStreamWithID(ctx, fileID, fileID, bytes.NewReader(data))
	if mongo.IsDuplicateKeyError(err) {
		// A half-finished earlier attempt: start the file again.
		if derr := b.Delete(ctx, fileID); derr != nil && !errors.Is(derr, mongo.ErrFileNotFound) {
			return mapErr(derr, "photo file")
		}
		err = b.UploadFromStreamWithID(ctx, fileID, fileID, bytes.NewReader(data))
	}
	return mapErr(err, "photo file")
}

// listPhoto adds the photo to its submission, creating the submission (not
// done, unrated) if the parent sent a photo first.
func (s *Store) listPhoto(ctx context.Context, base *content.Submission, photoID string, at time.Time) error {
	if err := s.indexSubmission(ctx, base); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colSubmissions).UpdateOne(ctx, bson.D{{Key: "_id", Value: base.ID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "photoIds", Value: photoID}}},
			{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: at.UTC()}}},
			{Key: "$setOnInsert", Value: append(submissionOnInsert(base, at),
				bson.E{Key: "done", Value: false}, bson.E{Key: "rating", Value: 0}, bson.E{Key: "comment", Value: ""},
				bson.E{Key: "replies", Value: bson.A{}})}},
		options.UpdateOne().SetUpsert(true))
	return mapErr(err, "submission")
}

func (s *Store) Photo(ctx context.Context, id string) (*content.Photo, error) {
	d, err := getByID[photoDoc](ctx, s, colPhotos, id, "photo")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) PhotoBytes(ctx context.Context, photoID, variant string) ([]byte, error) {
	if !content.ValidPhotoVariant(variant) {
		return nil, content.Errorf(content.CodeNotFound, "photo not found")
	}
	ctx, cancel := s.photoCtx(ctx)
	defer cancel()
	var buf bytes.Buffer
	if _, err := s.photoBucket().DownloadToStream(ctx, content.PhotoFileID(photoID, variant), &buf); err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return nil, content.Errorf(content.CodeNotFound, "photo not found")
		}
		return nil, mapErr(err, "photo file")
	}
	return buf.Bytes(), nil
}

func (s *Store) SetPhotoConsent(ctx context.Context, photoID string, c content.PhotoConsent) (*content.Photo, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d photoDoc
	err := s.c(colPhotos).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: photoID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "promotion", Value: photoConsentDoc{Granted: c.Granted, By: c.By, At: c.At.UTC()}}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err, "photo")
	}
	return d.toContent(), nil
}

package mongostore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.Moderation = (*Store)(nil)

// Moderation: a parent withdrawing their words or photo, staff hiding them
// from the class. Each change is an update of one document by _id.

// submissionUpdate applies update to the submission and returns it as stored.
func (s *Store) submissionUpdate(ctx context.Context, id string, update bson.D) (*content.Submission, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d submissionDoc
	err := s.c(colSubmissions).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err, "submission")
	}
	return d.toContent(), nil
}

func (s *Store) DeleteReply(ctx context.Context, submissionID, replyID string) (*content.Submission, error) {
	cur, err := s.Submission(ctx, submissionID)
	if err != nil {
		return nil, err
	}
	if replyIndex(cur, replyID) < 0 {
		return nil, content.Errorf(content.CodeNotFound, "no such reply")
	}
	// The embedded store's $pull takes values, not conditions: the thread
	// is written back without the reply, and a reply appended between the
	// read and the write (seen in the document as it was) is put back.
	keep := []replyDoc{}
	for _, r := range cur.Replies {
		if r.ID != replyID {
			keep = append(keep, toReplyDoc(r))
		}
	}
	cctx, cancel := s.ctx(ctx)
	defer cancel()
	var before submissionDoc
	err = s.c(colSubmissions).FindOneAndUpdate(cctx, bson.D{{Key: "_id", Value: submissionID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "replies", Value: keep}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if err != nil {
		return nil, mapErr(err, "submission")
	}
	for _, r := range before.toContent().Replies {
		if r.ID != replyID && replyIndex(cur, r.ID) < 0 {
			if _, err := s.AddReply(ctx, submissionID, r); err != nil {
				return nil, err
			}
		}
	}
	return s.Submission(ctx, submissionID)
}

func toReplyDoc(r content.Reply) replyDoc {
	return replyDoc{ID: r.ID, AuthorKind: string(r.AuthorKind), AuthorID: r.AuthorID, AuthorName: r.AuthorName, Body: r.Body,
		At: r.At.UTC(), Hidden: toHiddenDoc(r.Hidden)}
}

func replyIndex(sub *content.Submission, replyID string) int {
	for i, r := range sub.Replies {
		if r.ID == replyID {
			return i
		}
	}
	return -1
}

func (s *Store) ClearComment(ctx context.Context, submissionID string, at time.Time) (*content.Submission, error) {
	return s.submissionUpdate(ctx, submissionID, bson.D{
		{Key: "$set", Value: bson.D{{Key: "comment", Value: ""}, {Key: "updatedAt", Value: at.UTC()}}},
		{Key: "$unset", Value: bson.D{{Key: "commentHidden", Value: ""}}},
	})
}

// DeletePhoto unlists the photo, deletes its pictures, then its metadata:
// while the metadata is there a retry redoes every step, and nothing can
// reach a picture whose metadata is gone.
func (s *Store) DeletePhoto(ctx context.Context, photoID string) error {
	ph, err := s.Photo(ctx, photoID)
	if err != nil {
		return err
	}
	if err := s.updateByID(ctx, colSubmissions, ph.SubmissionID, bson.D{{Key: "$pull", Value: bson.D{
		{Key: "photoIds", Value: photoID}, {Key: "hiddenPhotoIds", Value: photoID}}}}, "submission"); err != nil &&
		!content.IsCode(err, content.CodeNotFound) {
		return err
	}
	for _, v := range []string{content.PhotoFull, content.PhotoThumb} {
		if err := s.deletePhotoFile(ctx, content.PhotoFileID(photoID, v)); err != nil {
			return err
		}
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err = s.c(colPhotos).DeleteOne(ctx, bson.D{{Key: "_id", Value: photoID}})
	return mapErr(err, "photo")
}

func (s *Store) deletePhotoFile(ctx context.Context, fileID string) error {
	ctx, cancel := s.photoCtx(ctx)
	defer cancel()
	if err := s.photoBucket().Delete(ctx, fileID); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
		return mapErr(err, "photo file")
	}
	return nil
}

func (s *Store) HideComment(ctx context.Context, submissionID string, h content.Hidden) (*content.Submission, error) {
	cur, err := s.Submission(ctx, submissionID)
	if err != nil || cur.CommentHidden != nil {
		return cur, err
	}
	return s.submissionUpdate(ctx, submissionID, bson.D{{Key: "$set", Value: bson.D{{Key: "commentHidden", Value: toHiddenDoc(&h)}}}})
}

// HideReply sets the reply's hidden mark by its position in the thread
// (the embedded store cannot filter on an array element without a scan),
// then checks the position still held that reply: replies are only ever
// appended, or removed by their author, so at worst it tries again.
func (s *Store) HideReply(ctx context.Context, submissionID, replyID string, h content.Hidden) (*content.Submission, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.Submission(ctx, submissionID)
		if err != nil {
			return nil, err
		}
		i := replyIndex(cur, replyID)
		if i < 0 {
			return nil, content.Errorf(content.CodeNotFound, "no such reply")
		}
		if cur.Replies[i].Hidden != nil {
			return cur, nil
		}
		path := "replies." + strconv.Itoa(i) + ".hidden"
		after, err := s.submissionUpdate(ctx, submissionID, bson.D{{Key: "$set", Value: bson.D{{Key: path, Value: toHiddenDoc(&h)}}}})
		if err != nil {
			return nil, err
		}
		if i < len(after.Replies) && after.Replies[i].ID == replyID {
			return after, nil
		}
		// The thread moved under us: take the mark off whichever reply got it.
		if _, err := s.submissionUpdate(ctx, submissionID, bson.D{{Key: "$unset", Value: bson.D{{Key: path, Value: ""}}}}); err != nil {
			return nil, err
		}
		if attempt >= 2 {
			return nil, content.Errorf(content.CodeConflict, "the thread changed; try again")
		}
	}
}

func (s *Store) HidePhoto(ctx context.Context, photoID string, h content.Hidden) (*content.Photo, error) {
	ph, err := s.Photo(ctx, photoID)
	if err != nil {
		return nil, err
	}
	// The submission's list first: it is what staff views read.
	if err := s.updateByID(ctx, colSubmissions, ph.SubmissionID, bson.D{{Key: "$addToSet", Value: bson.D{
		{Key: "hiddenPhotoIds", Value: photoID}}}}, "submission"); err != nil && !content.IsCode(err, content.CodeNotFound) {
		return nil, err
	}
	if ph.Hidden != nil {
		return ph, nil
	}
	cctx, cancel := s.ctx(ctx)
	defer cancel()
	var d photoDoc
	err = s.c(colPhotos).FindOneAndUpdate(cctx, bson.D{{Key: "_id", Value: photoID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "hidden", Value: toHiddenDoc(&h)}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err, "photo")
	}
	return d.toContent(), nil
}

// ClearFeedComment removes the parent's comment excerpt from the item, and
// a shared comment of an older item when it was this parent's.
func (s *Store) ClearFeedComment(ctx context.Context, itemID, parentID string) error {
	if err := validFeedParent(parentID); err != nil {
		return err
	}
	it, bid, slot, err := s.feedItem(ctx, itemID)
	if err != nil {
		return err
	}
	// The head's copy never holds a shared (older) comment: only the
	// parent's own.
	if err := s.mirrorToHead(ctx, it.ChildID, bson.D{{Key: "$unset", Value: bson.D{
		{Key: "r." + parentID + "." + strconv.FormatInt(it.Position, 10) + ".comment", Value: ""}}}}); err != nil {
		return err
	}
	unset := bson.D{{Key: "r." + parentID + "." + slot + ".comment", Value: ""}}
	b, err := getByID[feedBucketDoc](ctx, s, colFeed, bid, "feed item")
	if err != nil {
		return err
	}
	if p, ok := b.Progress[slot]; ok && p.Comment != "" && content.SubmissionParent(p.SubmitID) == parentID {
		unset = append(unset, bson.E{Key: "p." + slot + ".comment", Value: ""})
	}
	if err := s.updateByID(ctx, colFeed, bid, bson.D{{Key: "$unset", Value: unset}}, "feed item"); err != nil {
		return err
	}
	return s.feedChanged(ctx, it.ChildID)
}

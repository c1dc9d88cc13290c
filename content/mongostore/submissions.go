package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.Submissions = (*Store)(nil)

// A submission is one document by its composite _id
// (assignment.child.parent), its reply thread embedded. An assignment's
// submissions are found through an index document listing their ids, so
// a teacher's list is lookups by _id, not a scan.

type replyDoc struct {
	ID         string     `bson:"id"`
	AuthorKind string     `bson:"authorKind"`
	AuthorID   string     `bson:"authorId"`
	AuthorName string     `bson:"authorName,omitempty"`
	Body       string     `bson:"body"`
	At         time.Time  `bson:"at"`
	Hidden     *hiddenDoc `bson:"hidden,omitempty"`
}

// hiddenDoc records staff hiding a parent's content from the class.
type hiddenDoc struct {
	By string    `bson:"by"`
	At time.Time `bson:"at"`
}

func toHiddenDoc(h *content.Hidden) *hiddenDoc {
	if h == nil {
		return nil
	}
	return &hiddenDoc{By: h.By, At: h.At.UTC()}
}

func (d *hiddenDoc) toContent() *content.Hidden {
	if d == nil {
		return nil
	}
	return &content.Hidden{By: d.By, At: d.At}
}

type submissionDoc struct {
	ID           string     `bson:"_id"`
	SchoolID     string     `bson:"schoolId"`
	AssignmentID string     `bson:"assignmentId"`
	ChildID      string     `bson:"childId"`
	ParentID     string     `bson:"parentId"`
	Done         bool       `bson:"done"`
	Rating       int        `bson:"rating"`
	Comment      string     `bson:"comment"`
	PhotoIDs     []string   `bson:"photoIds"`
	Replies      []replyDoc `bson:"replies"`
	// CommentHidden and HiddenPhotoIDs: what staff hid from the class.
	CommentHidden  *hiddenDoc `bson:"commentHidden,omitempty"`
	HiddenPhotoIDs []string   `bson:"hiddenPhotoIds,omitempty"`
	CreatedAt      time.Time  `bson:"createdAt"`
	UpdatedAt      time.Time  `bson:"updatedAt"`
}

func (d *submissionDoc) toContent() *content.Submission {
	s := &content.Submission{ID: d.ID, SchoolID: d.SchoolID, AssignmentID: d.AssignmentID, ChildID: d.ChildID,
		ParentID: d.ParentID, Done: d.Done, Rating: d.Rating, Comment: d.Comment, PhotoIDs: d.PhotoIDs,
		CommentHidden: d.CommentHidden.toContent(), HiddenPhotoIDs: d.HiddenPhotoIDs,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	for _, r := range d.Replies {
		s.Replies = append(s.Replies, content.Reply{ID: r.ID, AuthorKind: content.AccountKind(r.AuthorKind), AuthorID: r.AuthorID,
			AuthorName: r.AuthorName, Body: r.Body, At: r.At, Hidden: r.Hidden.toContent()})
	}
	return s
}

// submissionIndexDoc lists an assignment's submission ids.
type submissionIndexDoc struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

func submissionIndexID(assignmentID string) string { return "asg:" + assignmentID }

// onInsert is the part of a submission only its first write sets.
func submissionOnInsert(s *content.Submission, at time.Time) bson.D {
	return bson.D{{Key: "schoolId", Value: s.SchoolID}, {Key: "assignmentId", Value: s.AssignmentID},
		{Key: "childId", Value: s.ChildID}, {Key: "parentId", Value: s.ParentID}, {Key: "createdAt", Value: at.UTC()}}
}

// PutSubmission is one upserting findOneAndUpdate by _id, then an
// $addToSet on the assignment's index; both repeat harmlessly.
func (s *Store) PutSubmission(ctx context.Context, sub *content.Submission, upd content.SubmissionUpdate, at time.Time) (*content.Submission, error) {
	if err := s.indexSubmission(ctx, sub); err != nil {
		return nil, err
	}
	set := bson.D{{Key: "updatedAt", Value: at.UTC()}}
	onInsert := append(submissionOnInsert(sub, at), bson.E{Key: "photoIds", Value: bson.A{}}, bson.E{Key: "replies", Value: bson.A{}})
	// A field the parent sent is set; one they left out keeps its value,
	// or its default on a new submission.
	field := func(name string, v, def any, given bool) {
		if given {
			set = append(set, bson.E{Key: name, Value: v})
		} else {
			onInsert = append(onInsert, bson.E{Key: name, Value: def})
		}
	}
	field("done", deref(upd.Done), false, upd.Done != nil)
	field("rating", deref(upd.Rating), 0, upd.Rating != nil)
	field("comment", deref(upd.Comment), "", upd.Comment != nil)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d submissionDoc
	err := s.c(colSubmissions).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: sub.ID}},
		bson.D{{Key: "$set", Value: set}, {Key: "$setOnInsert", Value: onInsert}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err, "submission")
	}
	return d.toContent(), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// indexSubmission lists the submission on its assignment's index first, so
// a submission that exists is always listed (a crash between the two
// writes leaves at most an id whose document is missing, skipped on read).
func (s *Store) indexSubmission(ctx context.Context, sub *content.Submission) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colSubmissionIndex).UpdateOne(ctx, bson.D{{Key: "_id", Value: submissionIndexID(sub.AssignmentID)}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "ids", Value: sub.ID}}}}, options.UpdateOne().SetUpsert(true))
	return mapErr(err, "submission index")
}

func (s *Store) Submission(ctx context.Context, id string) (*content.Submission, error) {
	d, err := getByID[submissionDoc](ctx, s, colSubmissions, id, "submission")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) SubmissionsOfAssignment(ctx context.Context, assignmentID string) ([]*content.Submission, error) {
	idx, err := getByID[submissionIndexDoc](ctx, s, colSubmissionIndex, submissionIndexID(assignmentID), "submission index")
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	out := make([]*content.Submission, 0, len(idx.IDs))
	for _, id := range idx.IDs {
		sub, err := s.Submission(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

// AddReply pushes the reply unless its id is already in the thread. The
// check and the push are one update by _id: {_id, "replies.id": {$ne: id}}
// would be a second filter the embedded store scans for, so the thread is
// read first and a racing retry of the same reply is caught by reading
// again (replies come from one author's Idempotency-Keyed request).
func (s *Store) AddReply(ctx context.Context, submissionID string, r content.Reply) (*content.Submission, error) {
	cur, err := s.Submission(ctx, submissionID)
	if err != nil {
		return nil, err
	}
	for _, have := range cur.Replies {
		if have.ID == r.ID {
			return cur, nil
		}
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d submissionDoc
	err = s.c(colSubmissions).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: submissionID}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "replies", Value: replyDoc{ID: r.ID, AuthorKind: string(r.AuthorKind),
			AuthorID: r.AuthorID, AuthorName: r.AuthorName, Body: r.Body, At: r.At.UTC()}}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err, "submission")
	}
	return d.toContent(), nil
}

type awardDoc struct {
	ID        string    `bson:"_id"`
	SchoolID  string    `bson:"schoolId"`
	ChildID   string    `bson:"childId"`
	GivenBy   string    `bson:"givenBy"`
	GiverName string    `bson:"giverName"`
	Reason    string    `bson:"reason"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (s *Store) CreateAward(ctx context.Context, a *content.Award) error {
	return s.insert(ctx, colAwards, awardDoc{ID: a.ID, SchoolID: a.SchoolID, ChildID: a.ChildID, GivenBy: a.GivenBy,
		GiverName: a.GiverName, Reason: a.Reason, CreatedAt: a.CreatedAt.UTC()}, "award")
}

func (s *Store) Award(ctx context.Context, id string) (*content.Award, error) {
	d, err := getByID[awardDoc](ctx, s, colAwards, id, "award")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// FeedItemIDByKey finds the child's feed item with key (what submissions,
// replies and awards write to): one lookup by _id of the feed's key
// document. CodeNotFound if the child's feed has no such item.
func (s *Store) FeedItemIDByKey(ctx context.Context, childID, key string) (string, error) {
	pos, err := s.feedKeyPosition(ctx, feedKeyID(childID, key))
	if err != nil {
		return "", err
	}
	return content.FeedItemID(childID, pos), nil
}

func (d *awardDoc) toContent() *content.Award {
	return &content.Award{ID: d.ID, SchoolID: d.SchoolID, ChildID: d.ChildID, GivenBy: d.GivenBy, GiverName: d.GiverName,
		Reason: d.Reason, CreatedAt: d.CreatedAt}
}

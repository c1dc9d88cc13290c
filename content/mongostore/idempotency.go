package mongostore

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// colIdempotency holds one document per client Idempotency-Key, keyed by
// a hash of (school, caller, key): reserving a key is an insert by _id,
// which both MongoDB and the embedded store answer without a scan.
const colIdempotency = "idempotency_keys"

var _ content.IdempotencyKeys = (*Store)(nil)

type idempotencyDoc struct {
	ID          string    `bson:"_id"`
	Fingerprint string    `bson:"fingerprint"`
	ResourceID  string    `bson:"resourceId"`
	Holder      string    `bson:"holder"`
	HeldAt      time.Time `bson:"heldAt"`
	Status      int       `bson:"status"`
	Body        []byte    `bson:"body,omitempty"`
	CreatedAt   time.Time `bson:"createdAt"`
	SchoolID    string    `bson:"schoolId,omitempty"`
	AccountID   string    `bson:"accountId,omitempty"`
}

func toIdempotencyDoc(r *content.IdempotencyRecord) idempotencyDoc {
	return idempotencyDoc{ID: r.ID, Fingerprint: r.Fingerprint, ResourceID: r.ResourceID, Holder: r.Holder,
		HeldAt: r.HeldAt.UTC(), Status: r.Status, Body: r.Body, CreatedAt: r.CreatedAt.UTC(),
		SchoolID: r.SchoolID, AccountID: r.AccountID}
}

func (d *idempotencyDoc) toContent() *content.IdempotencyRecord {
	return &content.IdempotencyRecord{ID: d.ID, Fingerprint: d.Fingerprint, ResourceID: d.ResourceID, Holder: d.Holder,
		HeldAt: d.HeldAt, Status: d.Status, Body: d.Body, CreatedAt: d.CreatedAt,
		SchoolID: d.SchoolID, AccountID: d.AccountID}
}

func (s *Store) ReserveIdempotencyKey(ctx context.Context, r *content.IdempotencyRecord) error {
	return s.insert(ctx, colIdempotency, toIdempotencyDoc(r), "idempotency key")
}

func (s *Store) IdempotencyRecord(ctx context.Context, id string) (*content.IdempotencyRecord, error) {
	d, err := getByID[idempotencyDoc](ctx, s, colIdempotency, id, "idempotency key")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// TakeOverIdempotencyKey is a compare-and-set on holder (and status 0), so
// of any number of racing retries exactly one takes the key.
func (s *Store) TakeOverIdempotencyKey(ctx context.Context, id, from, to string, at time.Time) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(colIdempotency).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "holder", Value: from}, {Key: "status", Value: 0}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "holder", Value: to}, {Key: "heldAt", Value: at.UTC()}}}})
	if err != nil {
		return false, mapErr(err, "idempotency key")
	}
	return res.ModifiedCount == 1, nil
}

func (s *Store) ReleaseIdempotencyKey(ctx context.Context, id, holder string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colIdempotency).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "holder", Value: holder}, {Key: "status", Value: 0}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "holder", Value: ""}}}})
	return mapErr(err, "idempotency key")
}

func (s *Store) CompleteIdempotencyKey(ctx context.Context, id string, status int, body []byte) error {
	return s.updateByID(ctx, colIdempotency, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: status}, {Key: "body", Value: body}, {Key: "holder", Value: ""}}}}, "idempotency key")
}

func (s *Store) DeleteIdempotencyKey(ctx context.Context, id, resourceID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colIdempotency).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "resourceId", Value: resourceID}})
	return mapErr(err, "idempotency key")
}

// eraseIdempotencyAnswersOfParent deletes the stored answers that may hold
// the parent's data: every key the parent used (their replies, photos,
// submissions), and the keys of the parent's schools whose answer names
// the parent (a teacher's reply answers with the parent's submission,
// comment included). The parent can no longer retry their own requests;
// a staff request whose key is deleted here and is retried within
// content.IdempotencyTTL runs again, which is the price of not keeping a
// copy of an erased parent's words. Runs while the parent's links are
// still there to name the schools.
func eraseIdempotencyAnswersOfParent(ctx context.Context, s *Store, parentID string) (int64, error) {
	filter := bson.A{bson.D{{Key: "accountId", Value: parentID}}}
	p, err := getByID[parentDoc](ctx, s, colParents, parentID, "parent")
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return 0, err
	}
	var schools bson.A
	if p != nil {
		for _, l := range p.Children {
			if l.SchoolID != "" && !slices.Contains(schools, any(l.SchoolID)) {
				schools = append(schools, l.SchoolID)
			}
		}
	}
	if len(schools) > 0 {
		filter = append(filter, bson.D{{Key: "schoolId", Value: bson.D{{Key: "$in", Value: schools}}}})
	}
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	ds, err := findAll[idempotencyDoc](ctx, s, colIdempotency, bson.D{{Key: "$or", Value: filter}}, "idempotency keys")
	if err != nil {
		return 0, err
	}
	var n int64
	for _, d := range ds {
		if d.AccountID != parentID && !bytes.Contains(d.Body, []byte(parentID)) {
			continue
		}
		if _, err := s.c(colIdempotency).DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
			return n, mapErr(err, "idempotency key")
		}
		n++
	}
	return n, nil
}

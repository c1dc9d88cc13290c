package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.Retention = (*Store)(nil)

// retentionBulkStatements is how many updates one bulk write carries (see
// bulkByID).
const retentionBulkStatements = 32

// parentClockDoc is the projection the parent sweep reads: a few dates per
// parent, so 200,000 parents stream in a few megabytes.
type parentClockDoc struct {
	ID           string              `bson:"_id"`
	State        content.ParentState `bson:"state"`
	LastActiveAt time.Time           `bson:"lastActiveAt"`
	WarnedAt     time.Time           `bson:"warnedAt"`
	ClosedAt     time.Time           `bson:"closedAt"`
	CreatedAt    time.Time           `bson:"createdAt"`
	Children     []struct {
		SchoolID string            `bson:"schoolId"`
		State    content.LinkState `bson:"state"`
	} `bson:"children"`
}

func (s *Store) EachParentClock(ctx context.Context, fn func(content.ParentClock) error) error {
	return s.eachParentClock(ctx, bson.D{}, fn)
}

// EachSweepParentClock filters in the store: the embedded one still reads
// every parent, but projects, encodes and sends only the few not skipped,
// and MongoDB can serve it from an index. The filter is one $nor of one
// flat document: FerretDB evaluates filters in Go and pays for every
// sub-document it walks (measured: a $or of four branches cost ~6 s of
// its CPU over 200,000 parents).
func (s *Store) EachSweepParentClock(ctx context.Context, f content.ParentSweepFilter, fn func(content.ParentClock) error) error {
	filter := bson.D{{Key: "$nor", Value: bson.A{
		bson.D{{Key: "state", Value: content.ParentActive}, {Key: "lastActiveAt", Value: bson.D{{Key: "$gt", Value: f.IdleBefore}}}},
	}}}
	return s.eachParentClock(ctx, filter, fn)
}

func (s *Store) eachParentClock(ctx context.Context, filter bson.D, fn func(content.ParentClock) error) error {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	proj := bson.D{{Key: "state", Value: 1}, {Key: "lastActiveAt", Value: 1}, {Key: "warnedAt", Value: 1},
		{Key: "closedAt", Value: 1}, {Key: "createdAt", Value: 1},
		{Key: "children.schoolId", Value: 1}, {Key: "children.state", Value: 1}}
	cur, err := s.r(colParents).Find(ctx, filter, options.Find().SetProjection(proj).SetBatchSize(parentStreamBatch))
	if err != nil {
		return mapErr(err, "parents")
	}
	defer cur.Close(context.Background())
	var d parentClockDoc
	for cur.Next(ctx) {
		d = parentClockDoc{}
		if err := cur.Decode(&d); err != nil {
			return mapErr(err, "parents")
		}
		pc := content.ParentClock{ID: d.ID, State: d.State, LastActiveAt: d.LastActiveAt, WarnedAt: d.WarnedAt,
			ClosedAt: d.ClosedAt, CreatedAt: d.CreatedAt}
		for _, c := range d.Children {
			if c.State == content.LinkLinked {
				pc.SchoolID = c.SchoolID
				break
			}
		}
		if err := fn(pc); err != nil {
			return err
		}
	}
	return mapErr(cur.Err(), "parents")
}

// bulkByID applies the same update to each _id, as unordered bulk writes
// of single-_id updates. The embedded store serves each statement's lone
// _id filter from its index; a bulk write spares it a wire round trip, a
// pass through the write relay and a command's set-up per document
// (measured: ~0.85 ms a parent instead of ~1.3–1.9 ms). An $in or
// UpdateMany would scan the collection there.
//
// retentionBulkStatements stays well under 100: FerretDB 1.24 keeps each
// statement's SQLite cursor open until the whole command ends, and its
// pool holds 100 connections, so a bulk write of ~100 updates waits on
// itself until it times out (measured at 100; 50 is fine).
func (s *Store) bulkByID(ctx context.Context, coll string, ids []string, update bson.D, what string) error {
	for len(ids) > 0 {
		n := min(len(ids), retentionBulkStatements)
		models := make([]mongo.WriteModel, 0, n)
		for _, id := range ids[:n] {
			models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetUpdate(update))
		}
		bctx, cancel := s.ctx(ctx)
		// A parent gone since the stream (erased) matches nothing: fine.
		_, err := s.c(coll).BulkWrite(bctx, models, options.BulkWrite().SetOrdered(false))
		cancel()
		if err != nil {
			return mapErr(err, what)
		}
		ids = ids[n:]
	}
	return nil
}

func (s *Store) WarnParents(ctx context.Context, ids []string, at time.Time) error {
	return s.bulkByID(ctx, colParents, ids, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: content.ParentWarned}, {Key: "warnedAt", Value: at}}}}, "parents")
}

func (s *Store) CancelWarnings(ctx context.Context, ids []string) error {
	return s.bulkByID(ctx, colParents, ids, bson.D{
		{Key: "$set", Value: bson.D{{Key: "state", Value: content.ParentActive}}},
		{Key: "$unset", Value: bson.D{{Key: "warnedAt", Value: ""}}}}, "parents")
}

// parentStateDoc is the projection of a parent's life-cycle fields.
type parentStateDoc struct {
	ID       string              `bson:"_id"`
	State    content.ParentState `bson:"state"`
	Sessions []string            `bson:"sessions"`
	Links    parentSchoolsDoc    `bson:",inline"` // the schools, for change marks
}

func (s *Store) CloseParent(ctx context.Context, id string, at time.Time) error {
	d, err := getByID[parentStateDoc](ctx, s, colParents, id, "parent")
	if err != nil {
		return err
	}
	if d.State == content.ParentClosed || d.State == content.ParentErased {
		return nil
	}
	if err := s.markParentsChanged(ctx, d.Links.schools(), []string{id}); err != nil {
		return err
	}
	// One update: the state (which every request checks), the session
	// list (which every token must be on) and the device tokens go together.
	if err := s.updateByID(ctx, colParents, id, bson.D{
		{Key: "$set", Value: bson.D{{Key: "state", Value: content.ParentClosed}, {Key: "closedAt", Value: at},
			{Key: "sessions", Value: []string{}}}},
		{Key: "$unset", Value: bson.D{{Key: "devices", Value: ""}, {Key: "warnedAt", Value: ""}}},
	}, "parent"); err != nil {
		return err
	}
	// Re-read, not d's links: a link made since d was read is ended too.
	if err := s.parentFeedAccessChanged(ctx, id, d.Links.childIDs()...); err != nil {
		return err
	}
	// The session documents too, so a refresh token of a session finds it
	// revoked even if the account were somehow reopened.
	for _, sid := range d.Sessions {
		if err := s.RevokeSession(ctx, sid, at); err != nil && !content.IsCode(err, content.CodeNotFound) {
			return err
		}
	}
	return nil
}

func (s *Store) ParentSignedIn(ctx context.Context, id string, at time.Time) error {
	d, err := getByID[parentStateDoc](ctx, s, colParents, id, "parent")
	if err != nil {
		return err
	}
	set := bson.D{{Key: "lastActiveAt", Value: at}}
	update := bson.D{{Key: "$set", Value: set}}
	if d.State == content.ParentWarned {
		update = bson.D{{Key: "$set", Value: append(set, bson.E{Key: "state", Value: content.ParentActive})},
			{Key: "$unset", Value: bson.D{{Key: "warnedAt", Value: ""}}}}
	}
	return s.updateByID(ctx, colParents, id, update, "parent")
}

func (s *Store) EachChildPurgeClock(ctx context.Context, fn func(*content.Child) error) error {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	proj := bson.D{{Key: "schoolId", Value: 1}, {Key: "schoolLink", Value: 1}, {Key: "parents", Value: 1}}
	cur, err := s.r(colChildren).Find(ctx, bson.D{}, options.Find().SetProjection(proj).SetBatchSize(parentStreamBatch))
	if err != nil {
		return mapErr(err, "children")
	}
	defer cur.Close(context.Background())
	for cur.Next(ctx) {
		var d childDoc
		if err := cur.Decode(&d); err != nil {
			return mapErr(err, "children")
		}
		if err := fn(d.toContent()); err != nil {
			return err
		}
	}
	return mapErr(cur.Err(), "children")
}

func (s *Store) EndedSchools(ctx context.Context) ([]*content.School, error) {
	ds, err := findAll[schoolDoc](ctx, s, colSchools, bson.D{{Key: "subscription.state", Value: content.SubscriptionEnded}}, "schools")
	if err != nil {
		return nil, err
	}
	out := make([]*content.School, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.toContent())
	}
	return out, nil
}

func (s *Store) EachStaffClock(ctx context.Context, fn func(id string, lastActive, created time.Time) error) error {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	proj := bson.D{{Key: "lastActiveAt", Value: 1}, {Key: "createdAt", Value: 1}}
	cur, err := s.r(colStaff).Find(ctx, bson.D{}, options.Find().SetProjection(proj))
	if err != nil {
		return mapErr(err, "staff")
	}
	defer cur.Close(context.Background())
	for cur.Next(ctx) {
		var d struct {
			ID           string    `bson:"_id"`
			LastActiveAt time.Time `bson:"lastActiveAt"`
			CreatedAt    time.Time `bson:"createdAt"`
		}
		if err := cur.Decode(&d); err != nil {
			return mapErr(err, "staff")
		}
		if err := fn(d.ID, d.LastActiveAt, d.CreatedAt); err != nil {
			return err
		}
	}
	return mapErr(cur.Err(), "staff")
}

func (s *Store) DeleteAuditBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	res, err := s.c(colAudit).DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: cutoff}}}})
	if err != nil {
		return 0, mapErr(err, "audit events")
	}
	return res.DeletedCount, nil
}

// CountAudit counts audit events of an action about a subject (tests and
// operators checking that a step happened once; the embedded store scans).
func (s *Store) CountAudit(ctx context.Context, action, subject string) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := s.r(colAudit).CountDocuments(ctx, bson.D{{Key: "action", Value: action}, {Key: "subject", Value: subject}})
	return n, mapErr(err, "audit events")
}

// parentStreamBatch is the cursor batch of the parent streams. Measured on
// the embedded store at 200,000 parents: a getMore costs in proportion to
// its batch, not to the cursor's position (FerretDB keeps its SQLite
// cursor open between batches), and batches of 1,000, 5,000 and 50,000
// stream in about the same time. A few thousand let the parent sweep
// start writing the steps it finds while the stream goes on, where one
// huge batch would arrive only when the store has read every parent.
const parentStreamBatch = 2_000

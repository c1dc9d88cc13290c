// Package mongostore keeps Hometime's documents in MongoDB (or the embedded
// FerretDB in dev and tests). Hot paths are lookups and single-document
// updates by string _id — the one shape both stores serve fast. Driver
// errors are mapped to content codes here and nowhere else.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection names. Every collection is created at start-up (Init) so the
// embedded store's _id index fix can run once, after all of them exist.
const (
	colTrusts        = "trusts"
	colSchools       = "schools"
	colStaff         = "staff"
	colClasses       = "classes"
	colChildren      = "children"
	colParents       = "parents"
	colLogins        = "logins"
	colSessions      = "sessions"
	colRefreshTokens = "refresh_tokens"
	colResetRequests = "reset_requests"
	colResetTokens   = "reset_tokens"
	colInvitations   = "invitations"
	colInviteCodes   = "invite_codes"
	colAudit         = "audit"
	colBroadcasts    = "broadcasts"
	colLedger        = "ledger"
	colSMSSpend      = "sms_spend"

	colSubmissions     = "submissions"
	colSubmissionIndex = "submission_index"
	colPhotos          = "photos"
	colAwards          = "awards"
	colEngagement      = "engagement"
	// photoBucket is the GridFS bucket of photo pictures (its .files and
	// .chunks collections are listed in Collections for erasure sweeps).
	photoBucket = "photofiles"
)

// Collections lists every collection the store owns, for Init and for
// completeness sweeps (erasure tests scan them all).
var Collections = []string{
	colTrusts, colSchools, colStaff, colClasses, colChildren, colParents,
	colLogins, colSessions, colRefreshTokens, colResetRequests, colResetTokens, colStaffInvitations,
	colInvitations, colInviteCodes, colAudit,
	colBroadcasts, colBroadcastAudience, colLedger, colSMSSpend, colAnnouncements,
	colSuppressions, colSuppressionFilter, colParentChanges,
	colWebhookEvents,
	colIdempotency,
	colFeed, colAssignments, colActivities, colDeviceOwners,
	colImports, colImportRows, colFamilyInvites,
	colSubmissions, colSubmissionIndex, colPhotos, colAwards, colEngagement,
	colStaffPushes,
	photoBucket + ".files", photoBucket + ".chunks",
	colErasures,
	colExports, exportBucket + ".files", exportBucket + ".chunks",
	colInboxItems, colInboxIndex, colInboxSources,
	colAttachments, attachmentBucket + ".files", attachmentBucket + ".chunks",
}

// DefaultTimeout bounds every store call unless the caller's context is shorter.
const DefaultTimeout = 5 * time.Second

// Store is the MongoDB-backed implementation of the content store interfaces.
type Store struct {
	db      *mongo.Database
	reads   *mongo.Database // where finds go; db unless ReadFrom says otherwise
	timeout time.Duration
	filter  *suppressionFilter // this process's copy (suppression_filter.go)
}

var (
	_ content.Identity = (*Store)(nil)
	_ content.Roster   = (*Store)(nil)
	_ content.Audit    = (*Store)(nil)
	_ content.Ledger   = (*Store)(nil)
)

// New wraps a database handle. timeout bounds each call (0 = DefaultTimeout).
func New(db *mongo.Database, timeout time.Duration) *Store {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Store{db: db, reads: db, timeout: timeout, filter: &suppressionFilter{}}
}

// ReadFrom sends the store's finds to reads, a handle on the same database
// through another connection, and returns s. The embedded store uses it:
// its writes pass a serializing relay (embedded/serialize.go) that reads
// need not wait for, and skipping the relay's extra hop makes every lookup
// by _id cheaper. Writes still go to the handle given to New.
func (s *Store) ReadFrom(reads *mongo.Database) *Store {
	s.reads = reads
	return s
}

// Connect opens a client for uri; mon, if not nil, sees every command it
// sends. The caller disconnects it.
func Connect(ctx context.Context, uri string, mon *event.CommandMonitor) (*mongo.Client, error) {
	o := options.Client().ApplyURI(uri).SetTimeout(DefaultTimeout)
	if mon != nil {
		o.SetMonitor(mon)
	}
	cl, err := mongo.Connect(o)
	if err != nil {
		return nil, fmt.Errorf("connect mongo: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Ping(pctx, nil); err != nil {
		_ = cl.Disconnect(context.Background())
		return nil, fmt.Errorf("ping mongo: %w", err)
	}
	return cl, nil
}

// Database is the handle the store works on.
func (s *Store) Database() *mongo.Database { return s.db }

// Init creates every collection and secondary index. It is idempotent.
// Secondary indexes serve real MongoDB; the embedded store scans anyway.
func (s *Store) Init(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	existing, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n] = true
	}
	for _, name := range Collections {
		if have[name] {
			continue
		}
		if err := s.db.CreateCollection(ctx, name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("create collection %s: %w", name, err)
		}
	}
	indexes := map[string][]mongo.IndexModel{
		colSchools:     {{Keys: bson.D{{Key: "trustId", Value: 1}}}},
		colStaff:       {{Keys: bson.D{{Key: "schools.schoolId", Value: 1}}}},
		colClasses:     {{Keys: bson.D{{Key: "schoolId", Value: 1}}}},
		colChildren:    {{Keys: bson.D{{Key: "schoolId", Value: 1}}}, {Keys: bson.D{{Key: "classIds", Value: 1}}}},
		colParents:     {{Keys: bson.D{{Key: "children.schoolId", Value: 1}}}},
		colAudit:       {{Keys: bson.D{{Key: "at", Value: 1}}}},
		colAssignments: {{Keys: bson.D{{Key: "classId", Value: 1}}}, {Keys: bson.D{{Key: "dueAt", Value: 1}}}},
		colActivities:  {{Keys: bson.D{{Key: "schoolId", Value: 1}}}},
		// Erasure sweeps only: every read of an inbox is by _id.
		colInboxItems:   {{Keys: bson.D{{Key: "parentId", Value: 1}}}, {Keys: bson.D{{Key: "schoolId", Value: 1}}}},
		colInboxSources: {{Keys: bson.D{{Key: "schoolId", Value: 1}}}},
		colAttachments:  {{Keys: bson.D{{Key: "schoolId", Value: 1}}}},
		// Roster imports: a school's invite records (funnel, reminders).
		colFamilyInvites: {{Keys: bson.D{{Key: "schoolId", Value: 1}}}},
		// The message log: a school's broadcasts newest first, and a
		// teacher's own among them.
		colAnnouncements: {
			{Keys: bson.D{{Key: "schoolId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: bson.D{{Key: "state", Value: 1}, {Key: "sendAt", Value: 1}}},
		},
		colBroadcasts: {
			{Keys: bson.D{{Key: "schoolId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: bson.D{{Key: "schoolId", Value: 1}, {Key: "createdBy", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		},
	}
	for name, models := range indexes {
		// One createIndexes per index, skipping those already there:
		// FerretDB 1.24 drops the connection when one createIndexes
		// names several indexes that all exist (a restart of dev mode).
		have, err := s.indexNames(ctx, name)
		if err != nil {
			return err
		}
		for _, m := range models {
			if have[indexName(m.Keys.(bson.D))] {
				continue
			}
			if _, err := s.db.Collection(name).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("create index on %s: %w", name, err)
			}
		}
	}
	return s.buildSuppressionFilter(ctx)
}

// indexNames lists a collection's index names.
func (s *Store) indexNames(ctx context.Context, coll string) (map[string]bool, error) {
	cur, err := s.db.Collection(coll).Indexes().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", coll, err)
	}
	var specs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", coll, err)
	}
	out := map[string]bool{}
	for _, sp := range specs {
		out[sp.Name] = true
	}
	return out, nil
}

// indexName is the default name MongoDB gives an index: field_1_field_-1.
func indexName(keys bson.D) string {
	name := ""
	for i, k := range keys {
		if i > 0 {
			name += "_"
		}
		name += fmt.Sprintf("%s_%v", k.Key, k.Value)
	}
	return name
}

// Ping checks the store answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return s.db.Client().Ping(ctx, nil)
}

func (s *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

func (s *Store) c(name string) *mongo.Collection { return s.db.Collection(name) }

// r is a collection to read from (see ReadFrom).
func (s *Store) r(name string) *mongo.Collection { return s.reads.Collection(name) }

// mapErr turns driver errors into content codes, keeping the cause.
func mapErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return &content.Error{Code: content.CodeNotFound, Message: what + " not found", Err: err}
	case mongo.IsDuplicateKeyError(err):
		return &content.Error{Code: content.CodeConflict, Message: what + " already exists", Err: err}
	case errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err) || mongo.IsNetworkError(err):
		return &content.Error{Code: content.CodeUnavailable, Message: "the store is not answering", Err: err}
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 48
}

// getByID decodes the document with the given string _id into D.
func getByID[D any](ctx context.Context, s *Store, coll, id, what string) (*D, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d D
	if err := s.r(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, mapErr(err, what)
	}
	return &d, nil
}

// insert adds one document; a duplicate _id is CodeConflict.
func (s *Store) insert(ctx context.Context, coll string, doc any, what string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(coll).InsertOne(ctx, doc)
	return mapErr(err, what)
}

// updateByID applies update to the document with _id; missing is CodeNotFound.
func (s *Store) updateByID(ctx context.Context, coll, id string, update any, what string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(coll).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return mapErr(err, what)
	}
	if res.MatchedCount == 0 {
		return mapErr(mongo.ErrNoDocuments, what)
	}
	return nil
}

// replaceByID replaces the document with _id; missing is CodeNotFound.
func (s *Store) replaceByID(ctx context.Context, coll, id string, doc any, what string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(coll).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc)
	if err != nil {
		return mapErr(err, what)
	}
	if res.MatchedCount == 0 {
		return mapErr(mongo.ErrNoDocuments, what)
	}
	return nil
}

// incUse atomically increments "uses" on the document with _id and decodes
// the document as it was before: a lone-_id findOneAndUpdate, the one atomic
// test-and-set both MongoDB and the embedded store serve without a scan.
func incUse[D any](ctx context.Context, s *Store, coll, id, what string) (*D, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var d D
	err := s.c(coll).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "uses", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&d)
	if err != nil {
		return nil, mapErr(err, what)
	}
	return &d, nil
}

// findAll decodes every document matching filter (small collections or
// admin lists only: the embedded store scans).
func findAll[D any](ctx context.Context, s *Store, coll string, filter any, what string) ([]*D, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	cur, err := s.r(coll).Find(ctx, filter)
	if err != nil {
		return nil, mapErr(err, what)
	}
	var out []*D
	if err := cur.All(ctx, &out); err != nil {
		return nil, mapErr(err, what)
	}
	return out, nil
}

func (s *Store) deleteByID(ctx context.Context, coll, id, what string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(coll).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return mapErr(err, what)
}

package mongostore

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colErasures holds erasure records: progress while a chain runs, the
// certificate once it is complete. IDs and counts only.
const colErasures = "erasures"

// Store areas whose code is being written alongside the erasure pipeline,
// named here by their stored names so the registry below reaches them
// (the same names their stores use).
const (
	eraseColPhotos        = "photos"
	eraseColSubmissions   = "submissions"
	eraseColAwards        = "awards"
	eraseColImports       = "imports"
	eraseColFamilyInvites = "family_invites"
	eraseColDeviceOwners  = "device_owners"
	eraseColImportRows    = "import_rows"
	eraseColAssignments   = "assignments"
	eraseColActivities    = "activities"
	erasePhotoBucket      = "photofiles" // GridFS bucket: picture and thumbnail files per photo
)

var _ content.Erasures = (*Store)(nil)

type erasureDoc struct {
	ID          string               `bson:"_id"`
	Kind        string               `bson:"kind"`
	SubjectID   string               `bson:"subjectId"`
	SchoolIDs   []string             `bson:"schoolIds"`
	Reason      string               `bson:"reason"`
	RequestedBy string               `bson:"requestedBy,omitempty"`
	RequestedAt time.Time            `bson:"requestedAt"`
	Stage       int                  `bson:"stage"`
	StagesDone  []string             `bson:"stagesDone"`
	Counts      map[string]int64     `bson:"counts"`
	StageAt     map[string]time.Time `bson:"stageAt"`
	CompletedAt time.Time            `bson:"completedAt,omitempty"`
}

func (d *erasureDoc) toContent() *content.ErasureRecord {
	return &content.ErasureRecord{ID: d.ID, Subject: content.ErasureSubject{Kind: d.Kind, ID: d.SubjectID},
		SchoolIDs: d.SchoolIDs, Reason: d.Reason, RequestedBy: d.RequestedBy, RequestedAt: d.RequestedAt,
		Stage: d.Stage, StagesDone: d.StagesDone, Counts: d.Counts, StageAt: d.StageAt, CompletedAt: d.CompletedAt}
}

func (s *Store) StartErasure(ctx context.Context, r *content.ErasureRecord) (*content.ErasureRecord, bool, error) {
	d := erasureDoc{ID: r.Subject.Key(), Kind: r.Subject.Kind, SubjectID: r.Subject.ID, SchoolIDs: nonNil(r.SchoolIDs),
		Reason: r.Reason, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt, StagesDone: []string{},
		Counts: map[string]int64{}, StageAt: map[string]time.Time{}}
	err := s.insert(ctx, colErasures, d, "erasure")
	if content.IsCode(err, content.CodeConflict) {
		got, err := s.Erasure(ctx, d.ID)
		return got, false, err
	} else if err != nil {
		return nil, false, err
	}
	return d.toContent(), true, nil
}

func (s *Store) Erasure(ctx context.Context, id string) (*content.ErasureRecord, error) {
	d, err := getByID[erasureDoc](ctx, s, colErasures, id, "erasure")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) FinishErasureStage(ctx context.Context, id string, stage int, name string, counts map[string]int64, at time.Time) error {
	cur, err := s.Erasure(ctx, id)
	if err != nil {
		return err
	}
	if cur.Stage > stage {
		return nil
	}
	set := bson.D{{Key: "stage", Value: stage + 1}, {Key: "stageAt." + name, Value: at}}
	inc := bson.D{}
	for area, n := range counts {
		inc = append(inc, bson.E{Key: "counts." + area, Value: n})
	}
	update := bson.D{{Key: "$set", Value: set}, {Key: "$push", Value: bson.D{{Key: "stagesDone", Value: name}}}}
	if len(inc) > 0 {
		update = append(update, bson.E{Key: "$inc", Value: inc})
	}
	return s.updateByID(ctx, colErasures, id, update, "erasure")
}

func (s *Store) CompleteErasure(ctx context.Context, id string, at time.Time) error {
	return s.updateByID(ctx, colErasures, id, bson.D{{Key: "$set", Value: bson.D{{Key: "completedAt", Value: at}}}}, "erasure")
}

// Erasers lists, in the order they must run, what each store area erases
// for a subject of kind. The tables below are the registry: a store area
// added later adds its rule (a collection and the field naming the
// subject) or its func, and every erasure reaches it. The area that
// removes the subject's own document comes last, since earlier ones may
// read it.
func (s *Store) Erasers(kind string) []content.AreaEraser {
	var out []content.AreaEraser
	for _, r := range eraseRules {
		if r.kind == kind {
			out = append(out, &ruleEraser{s: s, r: r})
		}
	}
	return out
}

// eraseRule erases one collection's documents about a subject: those whose
// field equals the subject id are deleted, or, with unset/pull, kept
// anonymised (anonymous usage counts survive erasure).
type eraseRule struct {
	kind  string // subject kind
	area  string // certificate line
	coll  string
	field string
	unset []string // anonymise instead of deleting: remove these fields
	set   bson.D   // … and set these
	pull  bson.D   // … or pull these array elements (filter on field)
	fn    func(ctx context.Context, s *Store, id string) (int64, error)
}

var eraseRules = []eraseRule{
	// A parent: sign-in data, invitations, their comments and photos, the
	// ip in audit events they made; their links on children; then the
	// parent document becomes a tombstone (state erased, no personal data).
	{kind: content.SubjectParent, area: "mongo:logins", coll: colLogins, field: "accountId"},
	{kind: content.SubjectParent, area: "mongo:sessions+refresh_tokens", fn: eraseSessions},
	{kind: content.SubjectParent, area: "mongo:reset_requests", coll: colResetRequests, field: "accountId"},
	{kind: content.SubjectParent, area: "mongo:reset_tokens", coll: colResetTokens, field: "accountId"},
	{kind: content.SubjectParent, area: "mongo:invitations", coll: colInvitations, field: "parentId"},
	{kind: content.SubjectParent, area: "mongo:invite_codes", coll: colInviteCodes, field: "parentId"},
	{kind: content.SubjectParent, area: "mongo:device_owners", coll: eraseColDeviceOwners, field: "parentId"},
	{kind: content.SubjectParent, area: "mongo:family_invites", coll: eraseColFamilyInvites, field: "parentId"},
	{kind: content.SubjectParent, area: "gridfs:photos+thumbnails", fn: erasePhotosOfParent},
	{kind: content.SubjectParent, area: "gridfs:exports", fn: eraseExportsHolding},
	{kind: content.SubjectParent, area: "mongo:submissions", coll: eraseColSubmissions, field: "parentId",
		set: bson.D{{Key: "comment", Value: ""}, {Key: "photoIds", Value: bson.A{}}}},
	{kind: content.SubjectParent, area: "mongo:submission_replies", coll: eraseColSubmissions, field: "replies.authorId",
		pull: bson.D{{Key: "replies", Value: bson.D{{Key: "authorId", Value: "$id"}}}}},
	{kind: content.SubjectParent, area: "mongo:conversations", fn: eraseConversationsOfParent},
	{kind: content.SubjectParent, area: "mongo:feed_responses", fn: eraseFeedResponsesOfParent},
	{kind: content.SubjectParent, area: "mongo:feed_comments", fn: eraseFeedCommentsOfParent},
	{kind: content.SubjectParent, area: "mongo:idempotency_answers", fn: eraseIdempotencyAnswersOfParent},
	{kind: content.SubjectParent, area: "mongo:inbox", fn: eraseInboxOfParent},
	{kind: content.SubjectParent, area: "mongo:audit_ip", coll: colAudit, field: "actorId", unset: []string{"ip"}},
	{kind: content.SubjectParent, area: "mongo:broadcast_audiences", coll: colBroadcasts, field: "audience.parentIds",
		pull: bson.D{{Key: "audience.parentIds", Value: "$id"}}},
	{kind: content.SubjectParent, area: "mongo:announcement_audiences", coll: colAnnouncements, field: "audience.parentIds",
		pull: bson.D{{Key: "audience.parentIds", Value: "$id"}}},
	{kind: content.SubjectParent, area: "mongo:broadcast_audience_chunks", coll: colBroadcastAudience, field: "ids",
		pull: bson.D{{Key: "ids", Value: "$id"}}},
	{kind: content.SubjectParent, area: "mongo:children_links", coll: colChildren, field: "parents.parentId",
		pull: bson.D{{Key: "parents", Value: bson.D{{Key: "parentId", Value: "$id"}}}}},
	{kind: content.SubjectParent, area: "mongo:ledger_snapshots", fn: eraseLedgerSnapshotsOfParent},
	{kind: content.SubjectParent, area: "mongo:parents", fn: tombstoneParent},

	// A staff member: sign-in data, then the account itself.
	{kind: content.SubjectStaff, area: "mongo:logins", coll: colLogins, field: "accountId"},
	{kind: content.SubjectStaff, area: "mongo:sessions+refresh_tokens", fn: eraseSessions},
	{kind: content.SubjectStaff, area: "mongo:reset_requests", coll: colResetRequests, field: "accountId"},
	{kind: content.SubjectStaff, area: "mongo:reset_tokens", coll: colResetTokens, field: "accountId"},
	{kind: content.SubjectStaff, area: "mongo:staff_invitations", coll: colStaffInvitations, field: "staffId"},
	{kind: content.SubjectStaff, area: "mongo:audit_ip", coll: colAudit, field: "actorId", unset: []string{"ip"}},
	{kind: content.SubjectStaff, area: "mongo:device_owners", coll: eraseColDeviceOwners, field: "staffId"},
	{kind: content.SubjectStaff, area: "mongo:conversation_staff", coll: colConversationStaff, field: "staffId"},
	{kind: content.SubjectStaff, area: "mongo:staff", coll: colStaff, field: "_id"},

	// A child: their photos and submissions, feed and awards, their links
	// on parents, then the child document.
	{kind: content.SubjectChild, area: "gridfs:photos+thumbnails", fn: erasePhotosOfChild},
	{kind: content.SubjectChild, area: "mongo:broadcast_params", fn: eraseChildNameInBroadcasts},
	{kind: content.SubjectChild, area: "mongo:submissions", coll: eraseColSubmissions, field: "childId"},
	{kind: content.SubjectChild, area: "mongo:conversations", fn: eraseConversationsOfChild},
	{kind: content.SubjectChild, area: "mongo:awards", coll: eraseColAwards, field: "childId"},
	{kind: content.SubjectChild, area: "mongo:feed", coll: colFeed, field: "c"},
	{kind: content.SubjectChild, area: "mongo:engagement", coll: colEngagement, field: "ref"},
	{kind: content.SubjectChild, area: "mongo:parents_links", coll: colParents, field: "children.childId",
		pull: bson.D{{Key: "children", Value: bson.D{{Key: "childId", Value: "$id"}}}}},
	{kind: content.SubjectChild, area: "mongo:children", coll: colChildren, field: "_id"},

	// A school (its parents are erased as subjects of their own first):
	// every document that names the school, then the school.
	{kind: content.SubjectSchool, area: "gridfs:photos+thumbnails", fn: erasePhotosOfSchool},
	{kind: content.SubjectSchool, area: "gridfs:exports", fn: eraseExportsOfSchool},
	{kind: content.SubjectSchool, area: "mongo:submissions", coll: eraseColSubmissions, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:awards", coll: eraseColAwards, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:engagement", fn: eraseEngagementOfSchool},
	{kind: content.SubjectSchool, area: "mongo:inbox", fn: eraseInboxOfSchool},
	{kind: content.SubjectSchool, area: "gridfs:attachments", fn: eraseAttachmentsOfSchool},
	{kind: content.SubjectSchool, area: "mongo:classes", coll: colClasses, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:children", coll: colChildren, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:invitations", coll: colInvitations, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:invite_codes", coll: colInviteCodes, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:staff_invitations", coll: colStaffInvitations, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:import_rows", fn: eraseImportRowsOfSchool},
	{kind: content.SubjectSchool, area: "mongo:imports", coll: eraseColImports, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:assignments", coll: eraseColAssignments, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:activities", coll: eraseColActivities, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:family_invites", coll: eraseColFamilyInvites, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:announcements", coll: colAnnouncements, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:conversations", fn: eraseConversationsOfSchool},
	{kind: content.SubjectSchool, area: "mongo:broadcasts", coll: colBroadcasts, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:broadcast_audience_chunks", coll: colBroadcastAudience, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:ledger", coll: colLedger, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:staff_pushes", coll: colStaffPushes, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:sms_spend", coll: colSMSSpend, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:parent_changes", coll: colParentChanges, field: "schoolId"},
	{kind: content.SubjectSchool, area: "mongo:staff_roles", coll: colStaff, field: "schools.schoolId",
		pull: bson.D{{Key: "schools", Value: bson.D{{Key: "schoolId", Value: "$id"}}}}},
	{kind: content.SubjectSchool, area: "mongo:schools", coll: colSchools, field: "_id"},
}

type ruleEraser struct {
	s *Store
	r eraseRule
}

func (e *ruleEraser) Area() string { return e.r.area }

func (e *ruleEraser) Erase(ctx context.Context, subj content.ErasureSubject) (int64, error) {
	if e.r.fn != nil {
		return e.r.fn(ctx, e.s, subj.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	filter := bson.D{{Key: e.r.field, Value: subj.ID}}
	coll := e.s.c(e.r.coll)
	switch {
	case e.r.pull != nil:
		return pullMatching(ctx, e.s, e.r.coll, filter, e.r.pull[0].Key, e.r.pull[0].Value, subj.ID, e.r.area)
	case e.r.unset != nil || e.r.set != nil:
		update := bson.D{}
		if e.r.set != nil {
			update = append(update, bson.E{Key: "$set", Value: e.r.set})
		}
		if e.r.unset != nil {
			un := bson.D{}
			for _, f := range e.r.unset {
				un = append(un, bson.E{Key: f, Value: ""})
			}
			update = append(update, bson.E{Key: "$unset", Value: un})
			// Only documents still holding a field count as changed.
			filter = append(filter, bson.E{Key: e.r.unset[0], Value: bson.D{{Key: "$exists", Value: true}}})
		}
		res, err := coll.UpdateMany(ctx, filter, update)
		if err != nil {
			return 0, mapErr(err, e.r.area)
		}
		return res.ModifiedCount, nil
	default:
		res, err := coll.DeleteMany(ctx, filter)
		if err != nil {
			return 0, mapErr(err, e.r.area)
		}
		return res.DeletedCount, nil
	}
}

// withID replaces the "$id" placeholder in a $pull spec with the subject id.
func withID(spec bson.D, id string) bson.D {
	out := make(bson.D, 0, len(spec))
	for _, e := range spec {
		switch v := e.Value.(type) {
		case string:
			if v == "$id" {
				e.Value = id
			}
		case bson.D:
			e.Value = withID(v, id)
		}
		out = append(out, e)
	}
	return out
}

// eraseSessions deletes an account's refresh tokens, then its sessions (in
// that order, so a rerun after a crash still finds the tokens' sessions).
func eraseSessions(ctx context.Context, s *Store, accountID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	ids, err := distinctIDs(ctx, s, colSessions, bson.D{{Key: "accountId", Value: accountID}})
	if err != nil {
		return 0, err
	}
	var n int64
	if len(ids) > 0 {
		res, err := s.c(colRefreshTokens).DeleteMany(ctx, bson.D{{Key: "sessionId", Value: bson.D{{Key: "$in", Value: ids}}}})
		if err != nil {
			return 0, mapErr(err, "refresh tokens")
		}
		n += res.DeletedCount
	}
	res, err := s.c(colSessions).DeleteMany(ctx, bson.D{{Key: "accountId", Value: accountID}})
	if err != nil {
		return n, mapErr(err, "sessions")
	}
	return n + res.DeletedCount, nil
}

// erasePhotos deletes the photos matching filter: both GridFS files
// (picture and thumbnail: their chunks go with them), then the metadata.
func erasePhotos(ctx context.Context, s *Store, filter bson.D) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	ids, err := distinctIDs(ctx, s, eraseColPhotos, filter)
	if err != nil {
		return 0, err
	}
	var n int64
	bucket := s.db.GridFSBucket(options.GridFSBucket().SetName(erasePhotoBucket))
	for _, id := range ids {
		// Every file of the photo (picture, thumbnail, any later variant):
		// file ids are "photoID/variant"; their chunks go with them.
		files, err := distinctIDs(ctx, s, erasePhotoBucket+".files",
			bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(id) + "/"}}}})
		if err != nil {
			return n, err
		}
		for _, f := range files {
			if err := bucket.Delete(ctx, f); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
				return n, mapErr(err, "photo file")
			}
			n++
		}
		if _, err := s.c(eraseColPhotos).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return n, mapErr(err, "photo")
		}
		n++
	}
	return n, nil
}

// eraseExports deletes the export archives (GridFS, id = the export's id)
// and records matching filter: an archive is a copy of everything held
// about its subject, so it goes with them.
func eraseExports(ctx context.Context, s *Store, filter bson.D) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	ids, err := distinctIDs(ctx, s, colExports, filter)
	if err != nil {
		return 0, err
	}
	var n int64
	bucket := s.exportBucket()
	for _, id := range ids {
		if err := bucket.Delete(ctx, id); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			return n, mapErr(err, "export file")
		}
		if _, err := s.c(colExports).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return n, mapErr(err, "export")
		}
		n++
	}
	return n, nil
}

func eraseExportsOfParent(ctx context.Context, s *Store, id string) (int64, error) {
	return eraseExports(ctx, s, bson.D{{Key: "parentId", Value: id}})
}

func eraseExportsOfSchool(ctx context.Context, s *Store, id string) (int64, error) {
	return eraseExports(ctx, s, bson.D{{Key: "schoolId", Value: id}})
}

func erasePhotosOfParent(ctx context.Context, s *Store, id string) (int64, error) {
	return erasePhotos(ctx, s, bson.D{{Key: "parentId", Value: id}})
}

// eraseFeedResponsesOfParent removes the parent's own responses (rating,
// comment excerpt, replies to them) from every feed bucket that holds one.
func eraseFeedResponsesOfParent(ctx context.Context, s *Store, id string) (int64, error) {
	if err := validFeedParent(id); err != nil {
		return 0, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	field := "r." + id
	res, err := s.c(colFeed).UpdateMany(ctx, bson.D{{Key: field, Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}})
	if err != nil {
		return 0, mapErr(err, "feed responses")
	}
	// The kept newest pages holding the parent's responses go too.
	if err := s.dropFeedPagesOf(ctx, id); err != nil {
		return res.ModifiedCount, err
	}
	return res.ModifiedCount, nil
}

func erasePhotosOfChild(ctx context.Context, s *Store, id string) (int64, error) {
	return erasePhotos(ctx, s, bson.D{{Key: "childId", Value: id}})
}

func erasePhotosOfSchool(ctx context.Context, s *Store, id string) (int64, error) {
	return erasePhotos(ctx, s, bson.D{{Key: "schoolId", Value: id}})
}

// tombstoneParent keeps the parent's _id (ledger entries and counters still
// point at it) and nothing personal: names, contacts, password, consents,
// sessions, devices and the copies of children's names are gone.
func tombstoneParent(ctx context.Context, s *Store, id string) (int64, error) {
	d, err := getByID[parentStateDoc](ctx, s, colParents, id, "parent")
	if content.IsCode(err, content.CodeNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if d.State == content.ParentErased {
		return 0, nil
	}
	if err := s.markParentsChanged(ctx, d.Links.schools(), []string{id}); err != nil {
		return 0, err
	}
	rctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err = s.c(colParents).ReplaceOne(rctx, bson.D{{Key: "_id", Value: id}}, bson.D{
		{Key: "_id", Value: id}, {Key: "firstName", Value: ""}, {Key: "lastName", Value: ""},
		{Key: "language", Value: ""}, {Key: "state", Value: content.ParentErased},
		{Key: "sessions", Value: bson.A{}}, {Key: "children", Value: bson.A{}}, {Key: "consents", Value: bson.A{}},
		{Key: "createdAt", Value: time.Time{}},
	}, options.Replace())
	if err != nil {
		return 0, mapErr(err, "parent")
	}
	if err := s.feedAccessChanged(ctx, id, d.Links.childIDs()); err != nil {
		return 0, err
	}
	return 1, nil
}

// distinctIDs lists the string _ids of the documents matching filter.
func distinctIDs(ctx context.Context, s *Store, coll string, filter bson.D) ([]string, error) {
	cur, err := s.c(coll).Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, coll)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, coll)
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out, nil
}

// eraseChildNameInBroadcasts blanks the child's first name where a
// broadcast of the child's school carried it as a parameter (awards,
// replies): broadcasts name children only there, and a message already
// sent needs it no more.
func eraseChildNameInBroadcasts(ctx context.Context, s *Store, childID string) (int64, error) {
	c, err := getByID[childDoc](ctx, s, colChildren, childID, "child")
	if content.IsCode(err, content.CodeNotFound) || (err == nil && c.FirstName == "") {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	res, err := s.c(colBroadcasts).UpdateMany(ctx,
		bson.D{{Key: "schoolId", Value: c.SchoolID}, {Key: "params.child_first_name", Value: c.FirstName}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "params.child_first_name", Value: ""}}}})
	if err != nil {
		return 0, mapErr(err, "broadcasts")
	}
	return res.ModifiedCount, nil
}

// pullMatching removes array elements about the subject from the documents
// matching filter: elements equal to id (spec "$id") or sub-documents
// whose key equals id (spec bson.D{{key, "$id"}}). The embedded store
// takes $pull of plain values only, so sub-documents are filtered here and
// the array written back with a $set by _id.
func pullMatching(ctx context.Context, s *Store, coll string, filter bson.D, field string, spec any, id, what string) (int64, error) {
	if v, ok := spec.(string); ok && v == "$id" {
		res, err := s.c(coll).UpdateMany(ctx, filter, bson.D{{Key: "$pull", Value: bson.D{{Key: field, Value: id}}}})
		if err != nil {
			return 0, mapErr(err, what)
		}
		return res.ModifiedCount, nil
	}
	key := spec.(bson.D)[0].Key
	cur, err := s.c(coll).Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: field, Value: 1}}))
	if err != nil {
		return 0, mapErr(err, what)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return 0, mapErr(err, what)
	}
	var n int64
	for _, d := range docs {
		arr, _ := d[field].(bson.A)
		keep := bson.A{}
		for _, el := range arr {
			if m, ok := el.(bson.M); ok && m[key] == id {
				continue
			}
			if dd, ok := el.(bson.D); ok {
				drop := false
				for _, e := range dd {
					drop = drop || (e.Key == key && e.Value == id)
				}
				if drop {
					continue
				}
			}
			keep = append(keep, el)
		}
		if len(keep) == len(arr) {
			continue
		}
		if _, err := s.c(coll).UpdateOne(ctx, bson.D{{Key: "_id", Value: d["_id"]}},
			bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: keep}}}}); err != nil {
			return n, mapErr(err, what)
		}
		n++
	}
	return n, nil
}

// eraseEngagementOfSchool deletes the engagement counters of the school,
// of its classes and of its children (each counter document names its
// scope's id in ref and in its _id). It runs before the classes and
// children are deleted, which it reads; a child already purged by its own
// chain took its counters with it.
func eraseEngagementOfSchool(ctx context.Context, s *Store, schoolID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	refs := bson.A{schoolID}
	for _, coll := range []string{colClasses, colChildren} {
		ids, err := distinctIDs(ctx, s, coll, bson.D{{Key: "schoolId", Value: schoolID}})
		if err != nil {
			return 0, err
		}
		for _, id := range ids {
			refs = append(refs, id)
		}
	}
	res, err := s.c(colEngagement).DeleteMany(ctx, bson.D{{Key: "ref", Value: bson.D{{Key: "$in", Value: refs}}}})
	if err != nil {
		return 0, mapErr(err, "engagement")
	}
	return res.DeletedCount, nil
}

// eraseImportRowsOfSchool deletes the row outcomes of a school's imports
// (they name the import, not the school).
func eraseImportRowsOfSchool(ctx context.Context, s *Store, schoolID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	ids, err := distinctIDs(ctx, s, eraseColImports, bson.D{{Key: "schoolId", Value: schoolID}})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	res, err := s.c(eraseColImportRows).DeleteMany(ctx, bson.D{{Key: "importId", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return 0, mapErr(err, "import rows")
	}
	return res.DeletedCount, nil
}

// eraseLedgerSnapshotsOfParent drops the snapshots (number, address,
// language, children's names) of the parent's entries still owed: a
// settled entry's went when it settled. The ledger keeps the entries (ids
// and states, for the school's message log). It scans the ledger for the
// parent's id, which erasure, a rare background step, can afford.
func eraseLedgerSnapshotsOfParent(ctx context.Context, s *Store, parentID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	cur, err := s.r(colLedger).Find(ctx, bson.D{{Key: "e.rid", Value: parentID}})
	if err != nil {
		return 0, mapErr(err, "ledger pages")
	}
	defer cur.Close(context.Background())
	var n int64
	for cur.Next(ctx) {
		var d ledgerPageDoc
		if err := cur.Decode(&d); err != nil {
			return n, mapErr(err, "ledger pages")
		}
		unset := bson.D{}
		for i, e := range d.Entries {
			if e.RecipientID == parentID && e.Accepted != nil && e.Accepted.Snapshot != "" {
				unset = append(unset, bson.E{Key: entryPath(i, "x") + ".s", Value: ""})
			}
		}
		if len(unset) == 0 {
			continue
		}
		if err := s.updateByID(ctx, colLedger, d.ID, bson.D{{Key: "$unset", Value: unset}}, "ledger page"); err != nil {
			return n, err
		}
		n += int64(len(unset))
	}
	return n, mapErr(cur.Err(), "ledger pages")
}

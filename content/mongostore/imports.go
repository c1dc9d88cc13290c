package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Roster imports. A batch is one document in "imports"; its per-row
// outcomes are chunk documents in "import_rows" keyed "importId:NNNN" (a
// 50,000-row file is 50 chunks, each read by _id); "family_invites" holds
// one record per parent and school invited. A commit's roster writes go
// out as unordered bulk writes: inserts that meet an existing _id (a
// resumed commit) are ignored, updates are by _id and idempotent.
const (
	colImports       = "imports"
	colImportRows    = "import_rows"
	colFamilyInvites = "family_invites"
)

var _ content.Imports = (*Store)(nil)

// bulkTimeout bounds one bulk call: thousands of documents on the
// embedded store take seconds.
const bulkTimeout = 2 * time.Minute

// bulkBatch is how many documents one bulk call carries.
const bulkBatch = 1000

type importDoc struct {
	ID                string         `bson:"_id"`
	SchoolID          string         `bson:"schoolId"`
	CreatedBy         string         `bson:"createdBy"`
	FileName          string         `bson:"fileName,omitempty"`
	FileSHA256        string         `bson:"fileSha256"`
	Status            string         `bson:"status"`
	Counts            map[string]int `bson:"counts"`
	RowChunks         int            `bson:"rowChunks"`
	InviteBroadcastID string         `bson:"inviteBroadcastId,omitempty"`
	Invited           int            `bson:"invited"`
	ErrorCode         string         `bson:"errorCode,omitempty"`
	PRMissing         string         `bson:"prMissing,omitempty"`
	PRRelationships   []string       `bson:"prRelationships,omitempty"`
	CreatedAt         time.Time      `bson:"createdAt"`
	UpdatedAt         time.Time      `bson:"updatedAt"`
}

type importRowDoc struct {
	Row      int      `bson:"r"`
	Outcome  string   `bson:"o"`
	ChildID  string   `bson:"c,omitempty"`
	Problems []string `bson:"p,omitempty"`
}

type importRowsDoc struct {
	ID       string         `bson:"_id"`
	ImportID string         `bson:"importId"`
	Rows     []importRowDoc `bson:"rows"`
}

type familyInviteDoc struct {
	ID          string    `bson:"_id"`
	SchoolID    string    `bson:"schoolId"`
	ParentID    string    `bson:"parentId"`
	ImportID    string    `bson:"importId,omitempty"`
	BroadcastID string    `bson:"broadcastId"`
	FirstAt     time.Time `bson:"firstAt"`
	LastAt      time.Time `bson:"lastAt"`
	Reminders   int       `bson:"reminders"`
}

// ImportRowsID is the _id of chunk n of an import's row outcomes.
func ImportRowsID(importID string, n int) string { return fmt.Sprintf("%s:%04d", importID, n) }

func (s *Store) PutImport(ctx context.Context, b *content.ImportBatch) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	d := importDoc{ID: b.ID, SchoolID: b.SchoolID, CreatedBy: b.CreatedBy, FileName: b.FileName, FileSHA256: b.FileSHA256,
		Status: string(b.Status), Counts: b.Counts, RowChunks: b.RowChunks, InviteBroadcastID: b.InviteBroadcastID,
		Invited: b.Invited, ErrorCode: b.ErrorCode, PRMissing: b.PRMissing, PRRelationships: b.PRRelationships,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
	if d.Counts == nil {
		d.Counts = map[string]int{}
	}
	_, err := s.c(colImports).ReplaceOne(ctx, bson.D{{Key: "_id", Value: b.ID}}, d, upsert())
	return mapErr(err, "import")
}

func (s *Store) Import(ctx context.Context, id string) (*content.ImportBatch, error) {
	d, err := getByID[importDoc](ctx, s, colImports, id, "import")
	if err != nil {
		return nil, err
	}
	return &content.ImportBatch{ID: d.ID, SchoolID: d.SchoolID, CreatedBy: d.CreatedBy, FileName: d.FileName,
		FileSHA256: d.FileSHA256, Status: content.ImportStatus(d.Status), Counts: d.Counts, RowChunks: d.RowChunks,
		InviteBroadcastID: d.InviteBroadcastID, Invited: d.Invited, ErrorCode: d.ErrorCode,
		PRMissing: d.PRMissing, PRRelationships: d.PRRelationships, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}, nil
}

func (s *Store) PutImportRows(ctx context.Context, importID string, rows []content.ImportRowOutcome) (int, error) {
	n := 0
	for start := 0; start < len(rows); start += content.ImportRowChunk {
		end := min(start+content.ImportRowChunk, len(rows))
		d := importRowsDoc{ID: ImportRowsID(importID, n), ImportID: importID, Rows: make([]importRowDoc, 0, end-start)}
		for _, r := range rows[start:end] {
			d.Rows = append(d.Rows, importRowDoc{Row: r.Row, Outcome: r.Outcome, ChildID: r.ChildID, Problems: r.Problems})
		}
		if err := s.replaceUpsert(ctx, colImportRows, d.ID, d, "import rows"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Store) ImportRows(ctx context.Context, importID string, chunk int) ([]content.ImportRowOutcome, error) {
	d, err := getByID[importRowsDoc](ctx, s, colImportRows, ImportRowsID(importID, chunk), "import rows")
	if err != nil {
		return nil, err
	}
	out := make([]content.ImportRowOutcome, 0, len(d.Rows))
	for _, r := range d.Rows {
		out = append(out, content.ImportRowOutcome{Row: r.Row, Outcome: r.Outcome, ChildID: r.ChildID, Problems: r.Problems})
	}
	return out, nil
}

func (s *Store) replaceUpsert(ctx context.Context, coll, id string, doc any, what string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(coll).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, upsert())
	return mapErr(err, what)
}

// RosterSnapshot reads the school's children, classes, linked parents and
// invite records: one query each (the embedded store scans each
// collection once, which an import can afford; no per-document reads).
func (s *Store) RosterSnapshot(ctx context.Context, schoolID string) (*content.RosterSnapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	snap := &content.RosterSnapshot{Invited: map[string]bool{}}
	// Each document is converted as it is read, so a 50,000-child school
	// is in memory once (content values), not twice (storage documents
	// too).
	err := streamEach(ctx, s, colChildren, bson.D{{Key: "schoolId", Value: schoolID}}, "children", func(d *childDoc) {
		snap.Children = append(snap.Children, d.toContent())
	})
	if err != nil {
		return nil, err
	}
	err = streamEach(ctx, s, colClasses, bson.D{{Key: "schoolId", Value: schoolID}}, "classes", func(d *classDoc) {
		snap.Classes = append(snap.Classes, d.toContent())
	})
	if err != nil {
		return nil, err
	}
	err = streamEach(ctx, s, colParents, bson.D{{Key: "children.schoolId", Value: schoolID}}, "parents", func(d *parentDoc) {
		p := d.toContent()
		p.PasswordHash, p.Sessions = "", nil // never needed here
		snap.Parents = append(snap.Parents, p)
	})
	if err != nil {
		return nil, err
	}
	err = streamEach(ctx, s, colFamilyInvites, bson.D{{Key: "schoolId", Value: schoolID}}, "family invites", func(d *familyInviteDoc) {
		snap.Invited[d.ParentID] = true
	})
	if err != nil {
		return nil, err
	}
	err = streamEach(ctx, s, colInvitations, bson.D{{Key: "schoolId", Value: schoolID}}, "invitations", func(d *invitationDoc) {
		snap.Invited[d.ParentID] = true
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// streamEach decodes every match with a cursor in batches, under the
// caller's (long) deadline, handing each document to fn as it is read.
func streamEach[D any](ctx context.Context, s *Store, coll string, filter any, what string, fn func(*D)) error {
	cur, err := s.r(coll).Find(ctx, filter, options.Find().SetBatchSize(1000))
	if err != nil {
		return mapErr(err, what)
	}
	defer cur.Close(context.Background())
	for cur.Next(ctx) {
		d := new(D)
		if err := cur.Decode(d); err != nil {
			return mapErr(err, what)
		}
		fn(d)
	}
	return mapErr(cur.Err(), what)
}

// streamAll decodes every match with a cursor in batches, under the
// caller's (long) deadline.
func streamAll[D any](ctx context.Context, s *Store, coll string, filter any, what string) ([]*D, error) {
	cur, err := s.r(coll).Find(ctx, filter, options.Find().SetBatchSize(1000))
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer cur.Close(context.Background())
	var out []*D
	for cur.Next(ctx) {
		d := new(D)
		if err := cur.Decode(d); err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, d)
	}
	return out, mapErr(cur.Err(), what)
}

// ApplyImport writes classes, then children (the source of truth of every
// link), then parents (their copies), so a commit that stops part-way and
// runs again converges on the same documents.
func (s *Store) ApplyImport(ctx context.Context, w *content.ImportWrites) error {
	if err := insertEach(ctx, s, colClasses, w.NewClasses, toClassDoc, "classes"); err != nil {
		return err
	}
	if err := insertEach(ctx, s, colChildren, w.NewChildren, toChildDoc, "children"); err != nil {
		return err
	}
	repl := make([]mongo.WriteModel, 0, min(len(w.Children), bulkBatch))
	for i, c := range w.Children {
		repl = append(repl, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: c.ID}}).SetReplacement(toChildDoc(c)))
		if len(repl) == bulkBatch || i == len(w.Children)-1 {
			if err := s.bulk(ctx, colChildren, repl, "children"); err != nil {
				return err
			}
			repl = repl[:0]
		}
	}
	if err := insertEach(ctx, s, colParents, w.NewParents, toParentDoc, "parents"); err != nil {
		return err
	}
	// Links, names and contacts of the school's parents change: senders
	// holding snapshots at the school read their parents again.
	schools := map[string]bool{}
	for _, u := range w.ParentUpdates {
		for _, l := range u.Children {
			schools[l.SchoolID] = true
		}
	}
	for school := range schools {
		if err := s.markSchoolChanged(ctx, school); err != nil {
			return err
		}
	}
	ups := make([]mongo.WriteModel, 0, len(w.ParentUpdates))
	for _, u := range w.ParentUpdates {
		set := bson.D{{Key: "children", Value: toChildLinkDocs(u.Children)}}
		var unset bson.D
		if u.SetContact {
			set = append(set, bson.E{Key: "firstName", Value: u.FirstName}, bson.E{Key: "lastName", Value: u.LastName},
				bson.E{Key: "language", Value: u.Language})
			// Empty contacts are unset, as toParentDoc omits them.
			for _, f := range []struct{ k, v string }{{"phone", u.Phone}, {"email", u.Email}} {
				if f.v == "" {
					unset = append(unset, bson.E{Key: f.k, Value: ""})
				} else {
					set = append(set, bson.E{Key: f.k, Value: f.v})
				}
			}
		}
		update := bson.D{{Key: "$set", Value: set}}
		if len(unset) > 0 {
			update = append(update, bson.E{Key: "$unset", Value: unset})
		}
		ups = append(ups, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: u.ID}}).SetUpdate(update))
	}
	if err := s.bulk(ctx, colParents, ups, "parents"); err != nil {
		return err
	}
	// A link the import ended or dropped no longer reads the child's feed
	// from a kept access.
	for _, u := range w.ParentUpdates {
		readable := map[string]bool{}
		for _, l := range u.Children {
			readable[l.ChildID] = readable[l.ChildID] || l.Readable()
		}
		var ended []string
		for _, id := range u.Before {
			if !readable[id] {
				ended = append(ended, id)
			}
		}
		for _, l := range u.Children {
			if !readable[l.ChildID] {
				ended = append(ended, l.ChildID)
			}
		}
		if err := s.feedAccessChanged(ctx, u.ID, ended); err != nil {
			return err
		}
	}
	return nil
}

// insertEach converts and inserts items a batch at a time, so only one
// batch of storage documents exists at once.
func insertEach[T, D any](ctx context.Context, s *Store, coll string, items []*T, conv func(*T) D, what string) error {
	docs := make([]any, 0, min(len(items), bulkBatch))
	for start := 0; start < len(items); start += bulkBatch {
		docs = docs[:0]
		for _, it := range items[start:min(start+bulkBatch, len(items))] {
			docs = append(docs, conv(it))
		}
		if err := s.insertMany(ctx, coll, docs, what); err != nil {
			return err
		}
	}
	return nil
}

// insertMany inserts docs unordered in batches; documents whose _id exists
// already are left as they are.
func (s *Store) insertMany(ctx context.Context, coll string, docs []any, what string) error {
	for start := 0; start < len(docs); start += bulkBatch {
		end := min(start+bulkBatch, len(docs))
		err := func() error {
			ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
			defer cancel()
			_, err := s.c(coll).InsertMany(ctx, docs[start:end], options.InsertMany().SetOrdered(false))
			return err
		}()
		if err != nil && !onlyDuplicates(err) {
			return mapErr(err, what)
		}
	}
	return nil
}

// bulk runs write models unordered in batches.
func (s *Store) bulk(ctx context.Context, coll string, models []mongo.WriteModel, what string) error {
	for start := 0; start < len(models); start += bulkBatch {
		end := min(start+bulkBatch, len(models))
		err := func() error {
			ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
			defer cancel()
			_, err := s.c(coll).BulkWrite(ctx, models[start:end], options.BulkWrite().SetOrdered(false))
			return err
		}()
		if err != nil && !onlyDuplicates(err) {
			return mapErr(err, what)
		}
	}
	return nil
}

// PutFamilyInvites inserts the records in bulk (an import's invitees are
// new: upserts, which look each _id up first, cost ten times as much on
// the embedded store) and moves the ones that already exist on to the new
// broadcast with one $set each.
func (s *Store) PutFamilyInvites(ctx context.Context, invs []*content.FamilyInvite) error {
	for start := 0; start < len(invs); start += bulkBatch {
		batch := invs[start:min(start+bulkBatch, len(invs))]
		docs := make([]any, 0, len(batch))
		for _, inv := range batch {
			docs = append(docs, familyInviteDoc{ID: inv.ID, SchoolID: inv.SchoolID, ParentID: inv.ParentID, ImportID: inv.ImportID,
				BroadcastID: inv.BroadcastID, FirstAt: inv.FirstAt, LastAt: inv.LastAt})
		}
		var err error
		func() {
			ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
			defer cancel()
			_, err = s.c(colFamilyInvites).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		}()
		if err == nil {
			continue
		}
		if !onlyDuplicates(err) {
			return mapErr(err, "family invites")
		}
		var bwe mongo.BulkWriteException
		errors.As(err, &bwe)
		models := make([]mongo.WriteModel, 0, len(bwe.WriteErrors))
		for _, we := range bwe.WriteErrors {
			inv := batch[we.Index]
			models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: inv.ID}}).
				SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "broadcastId", Value: inv.BroadcastID}, {Key: "lastAt", Value: inv.LastAt}}}}))
		}
		if err := s.bulk(ctx, colFamilyInvites, models, "family invites"); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) FamilyInvitesOfSchool(ctx context.Context, schoolID string) ([]*content.FamilyInvite, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	docs, err := streamAll[familyInviteDoc](ctx, s, colFamilyInvites, bson.D{{Key: "schoolId", Value: schoolID}}, "family invites")
	if err != nil {
		return nil, err
	}
	out := make([]*content.FamilyInvite, 0, len(docs))
	for _, d := range docs {
		out = append(out, &content.FamilyInvite{ID: d.ID, SchoolID: d.SchoolID, ParentID: d.ParentID, ImportID: d.ImportID,
			BroadcastID: d.BroadcastID, FirstAt: d.FirstAt, LastAt: d.LastAt, Reminders: d.Reminders})
	}
	return out, nil
}

// CountReminder is one updateMany per batch of ids: the embedded store
// stalls on a bulkWrite of plain (non-upsert) $inc updates.
func (s *Store) CountReminder(ctx context.Context, schoolID string, parentIDs []string) error {
	for start := 0; start < len(parentIDs); start += bulkBatch {
		end := min(start+bulkBatch, len(parentIDs))
		ids := make([]string, 0, end-start)
		for _, id := range parentIDs[start:end] {
			ids = append(ids, content.InvitationID(schoolID, id))
		}
		err := func() error {
			ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
			defer cancel()
			_, err := s.c(colFamilyInvites).UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "reminders", Value: 1}}}})
			return err
		}()
		if err != nil {
			return mapErr(err, "family invites")
		}
	}
	return nil
}

// SuppressedKeys is SuppressedAmong: one suppression check rules out
// nearly every contact through the filter, where $in batches scanned the
// whole list on the embedded store for every 5,000 keys.
func (s *Store) SuppressedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	return s.SuppressedAmong(ctx, keys)
}

package mongostore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Exports: a record per request (colExports, by _id) and the archive in
// its own GridFS bucket under the export's id.
const (
	colExports   = "exports"
	exportBucket = "exportfiles"
)

var _ content.Exports = (*Store)(nil)

type exportDoc struct {
	ID        string    `bson:"_id"`
	ParentID  string    `bson:"parentId,omitempty"`
	SchoolID  string    `bson:"schoolId,omitempty"`
	State     string    `bson:"state"`
	CreatedAt time.Time `bson:"createdAt"`
	ReadyAt   time.Time `bson:"readyAt,omitempty"`
	ExpiresAt time.Time `bson:"expiresAt,omitempty"`
	// ArchiveGoneAt: the archive was deleted (link expired, or erasure).
	ArchiveGoneAt time.Time `bson:"archiveGoneAt,omitempty"`
}

func (d *exportDoc) toContent() *content.Export {
	return &content.Export{ID: d.ID, ParentID: d.ParentID, SchoolID: d.SchoolID, State: d.State, CreatedAt: d.CreatedAt,
		ReadyAt: d.ReadyAt, ExpiresAt: d.ExpiresAt}
}

func (s *Store) StartExport(ctx context.Context, e *content.Export) (*content.Export, bool, error) {
	owner := bson.E{Key: "parentId", Value: e.ParentID}
	if e.SchoolID != "" {
		owner = bson.E{Key: "schoolId", Value: e.SchoolID}
	}
	ds, err := findAll[exportDoc](ctx, s, colExports, bson.D{owner, {Key: "state", Value: content.ExportQueued}}, "exports")
	if err != nil {
		return nil, false, err
	}
	if len(ds) > 0 {
		return ds[0].toContent(), false, nil
	}
	d := exportDoc{ID: e.ID, ParentID: e.ParentID, SchoolID: e.SchoolID, State: content.ExportQueued, CreatedAt: e.CreatedAt.UTC()}
	if err := s.insert(ctx, colExports, d, "export"); err != nil {
		return nil, false, err
	}
	return d.toContent(), true, nil
}

func (s *Store) Export(ctx context.Context, id string) (*content.Export, error) {
	d, err := getByID[exportDoc](ctx, s, colExports, id, "export")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) exportBucket() *mongo.GridFSBucket {
	return s.db.GridFSBucket(options.GridFSBucket().SetName(exportBucket))
}

func (s *Store) FinishExport(ctx context.Context, id string, archive []byte, at time.Time) error {
	cur, err := s.Export(ctx, id)
	if err != nil {
		return err
	}
	if cur.State == content.ExportReady {
		return nil
	}
	pctx, cancel := s.photoCtx(ctx)
	defer cancel()
	b := s.exportBucket()
	if err := b.Delete(pctx, id); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
		return mapErr(err, "export file")
	}
	if err := b.UploadFromStreamWithID(pctx, id, id, bytes.NewReader(archive)); err != nil {
		return mapErr(err, "export file")
	}
	return s.updateByID(ctx, colExports, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: content.ExportReady}, {Key: "readyAt", Value: at.UTC()},
		{Key: "expiresAt", Value: at.Add(content.ExportLinkTTL).UTC()}}}}, "export")
}

func (s *Store) FailExport(ctx context.Context, id string) error {
	return s.updateByID(ctx, colExports, id, bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: content.ExportFailed}}}}, "export")
}

func (s *Store) ExportArchive(ctx context.Context, id string) ([]byte, error) {
	ctx, cancel := s.photoCtx(ctx)
	defer cancel()
	var buf bytes.Buffer
	if _, err := s.exportBucket().DownloadToStream(ctx, id, &buf); err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return nil, content.Errorf(content.CodeNotFound, "export not found")
		}
		return nil, mapErr(err, "export file")
	}
	return buf.Bytes(), nil
}

// exportSection is one part of a parent's export: a collection and the
// field naming the parent ("parent") or one of their children ("child"),
// as the erasure registry names them; drop lists fields never exported
// (secrets and tokens).
type exportSection struct {
	name  string
	coll  string
	field string
	by    string // "parent" | "child"
	drop  []string
}

var parentExportSections = []exportSection{
	{name: "invitations", coll: colInvitations, field: "parentId", by: "parent", drop: []string{"code", "codeHash", "tokenHash"}},
	{name: "family_invites", coll: colFamilyInvites, field: "parentId", by: "parent", drop: []string{"code", "codeHash", "tokenHash"}},
	{name: "devices", coll: colDeviceOwners, field: "parentId", by: "parent"},
	{name: "submissions", coll: colSubmissions, field: "childId", by: "child"},
	{name: "photos", coll: colPhotos, field: "parentId", by: "parent"},
	{name: "awards", coll: colAwards, field: "childId", by: "child"},
	{name: "feed", coll: colFeed, field: "c", by: "child"},
}

// rawJSON turns a stored document into relaxed extended JSON.
func rawJSON(d bson.Raw) (json.RawMessage, error) {
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

func findRaw(ctx context.Context, s *Store, coll string, filter bson.D, drop []string) ([]json.RawMessage, error) {
	cur, err := s.c(coll).Find(ctx, filter)
	if err != nil {
		return nil, mapErr(err, coll)
	}
	defer cur.Close(ctx)
	out := []json.RawMessage{}
	for cur.Next(ctx) {
		var m bson.D
		if err := cur.Decode(&m); err != nil {
			return nil, mapErr(err, coll)
		}
		kept := bson.D{}
		for _, e := range m {
			skip := false
			for _, f := range drop {
				skip = skip || e.Key == f
			}
			if !skip {
				kept = append(kept, e)
			}
		}
		raw, err := bson.Marshal(kept)
		if err != nil {
			return nil, err
		}
		j, err := rawJSON(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, mapErr(cur.Err(), coll)
}

func (s *Store) ParentExportData(ctx context.Context, parentID string) (map[string]any, []content.ExportPhoto, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	p, err := getByID[parentDoc](ctx, s, colParents, parentID, "parent")
	if err != nil {
		return nil, nil, err
	}
	type device struct {
		Platform string    `json:"platform"`
		LastSeen time.Time `json:"last_seen"`
		Created  time.Time `json:"created"`
	}
	devices := []device{}
	for _, d := range p.Devices {
		devices = append(devices, device{Platform: d.Platform, LastSeen: d.LastSeen, Created: d.Created})
	}
	parent, err := findRaw(ctx, s, colParents, bson.D{{Key: "_id", Value: parentID}},
		[]string{"passwordHash", "sessions", "devices"})
	if err != nil {
		return nil, nil, err
	}
	out := map[string]any{"parent": parent, "parent_devices": devices}
	children, err := findRaw(ctx, s, colChildren, bson.D{{Key: "parents.parentId", Value: parentID}}, nil)
	if err != nil {
		return nil, nil, err
	}
	out["children"] = children
	childIDs := bson.A{}
	for _, l := range p.Children {
		childIDs = append(childIDs, l.ChildID)
	}
	for _, sec := range parentExportSections {
		var filter bson.D
		if sec.by == "parent" {
			filter = bson.D{{Key: sec.field, Value: parentID}}
		} else {
			filter = bson.D{{Key: sec.field, Value: bson.D{{Key: "$in", Value: childIDs}}}}
		}
		docs, err := findRaw(ctx, s, sec.coll, filter, sec.drop)
		if err != nil {
			return nil, nil, err
		}
		out[sec.name] = docs
	}
	files, err := s.exportPhotos(ctx, bson.D{{Key: "parentId", Value: parentID}})
	if err != nil {
		return nil, nil, err
	}
	return out, files, nil
}

// exportPhotos reads the originals of the photos matching filter.
func (s *Store) exportPhotos(ctx context.Context, filter bson.D) ([]content.ExportPhoto, error) {
	photos, err := findAll[photoDoc](ctx, s, colPhotos, filter, "photos")
	if err != nil {
		return nil, err
	}
	var files []content.ExportPhoto
	for _, ph := range photos {
		b, err := s.PhotoBytes(ctx, ph.ID, content.PhotoFull)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		files = append(files, content.ExportPhoto{ID: ph.ID, ContentType: ph.ContentType, Data: b})
	}
	return files, nil
}

// accountSecrets are never exported.
var accountSecrets = []string{"passwordHash", "sessions", "devices"}

func (s *Store) SchoolExportData(ctx context.Context, schoolID string) (map[string]any, []content.ExportPhoto, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	out := map[string]any{}
	for _, sec := range []struct {
		name, coll string
		filter     bson.D
		drop       []string
	}{
		{"school", colSchools, bson.D{{Key: "_id", Value: schoolID}}, nil},
		{"classes", colClasses, bson.D{{Key: "schoolId", Value: schoolID}}, nil},
		{"staff", colStaff, bson.D{{Key: "schools.schoolId", Value: schoolID}}, accountSecrets},
		{"children", colChildren, bson.D{{Key: "schoolId", Value: schoolID}}, nil},
		{"parents", colParents, bson.D{{Key: "children.schoolId", Value: schoolID}},
			append([]string{"consents", "prefs"}, accountSecrets...)},
		{"assignments", colAssignments, bson.D{{Key: "schoolId", Value: schoolID}}, nil},
		{"submissions", colSubmissions, bson.D{{Key: "schoolId", Value: schoolID}}, nil},
		{"awards", colAwards, bson.D{{Key: "schoolId", Value: schoolID}}, nil},
		{"photos", colPhotos, bson.D{{Key: "schoolId", Value: schoolID}}, nil},
		{"engagement", colEngagement, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex",
			Value: "^" + regexp.QuoteMeta(content.EngagementDocID("school", schoolID, ""))}}}}, nil},
	} {
		docs, err := findRaw(ctx, s, sec.coll, sec.filter, sec.drop)
		if err != nil {
			return nil, nil, err
		}
		out[sec.name] = docs
	}
	files, err := s.exportPhotos(ctx, bson.D{{Key: "schoolId", Value: schoolID}})
	if err != nil {
		return nil, nil, err
	}
	return out, files, nil
}

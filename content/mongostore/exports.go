package mongostore

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
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

// ParentExportData builds the parent's view: their record, and for each
// child whose data they may read now (content.Parent.ReadableChildren, the
// view every request checks: linked, or the child left the school; never a
// severed or removed link) what the app shows them of that child from the
// link's start, with their own submissions and photos of those children. Nothing
// is read by another parent's id, and no raw document is copied out.
func (s *Store) ParentExportData(ctx context.Context, parentID string) (*content.ParentExport, []content.ExportPhoto, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	p, err := s.Parent(ctx, parentID)
	if err != nil {
		return nil, nil, err
	}
	out := &content.ParentExport{Parent: content.ExportParent{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName,
		Phone: p.Phone, Email: p.Email, Language: p.Language, State: p.State, Consents: p.Consents,
		Devices: []content.ExportDevice{}, Preferences: p.Preferences, Digest: p.Digest, LastActive: p.LastActiveAt, CreatedAt: p.CreatedAt},
		Children: []content.ExportLinkedChild{}, Submissions: []content.Submission{}, Photos: []content.Photo{}}
	for _, d := range p.Devices {
		out.Parent.Devices = append(out.Parent.Devices, content.ExportDevice{Platform: d.Platform, LastSeen: d.LastSeen, Created: d.Created})
	}
	schools := map[string]*content.School{}
	linked := map[string]bool{}
	for _, link := range p.ReadableChildren() {
		if linked[link.ChildID] {
			continue
		}
		k, err := s.Child(ctx, link.ChildID)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		linked[k.ID] = true
		sc, ok := schools[k.SchoolID]
		if !ok {
			if sc, err = s.School(ctx, k.SchoolID); err != nil && !content.IsCode(err, content.CodeNotFound) {
				return nil, nil, err
			}
			schools[k.SchoolID] = sc
		}
		schoolName := ""
		if sc != nil {
			schoolName = sc.Name
		}
		classNames := []string{}
		for _, id := range k.ClassIDs {
			cl, err := s.Class(ctx, id)
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return nil, nil, err
			}
			classNames = append(classNames, cl.Name)
		}
		feed, err := s.wholeFeed(ctx, k.ID)
		if err != nil {
			return nil, nil, err
		}
		awards, err := findAll[awardDoc](ctx, s, colAwards, bson.D{{Key: "childId", Value: k.ID}}, "awards")
		if err != nil {
			return nil, nil, err
		}
		as := make([]content.Award, 0, len(awards))
		for _, a := range awards {
			as = append(as, *a.toContent())
		}
		out.Children = append(out.Children, content.ParentExportChild(p.ID, link, k, schoolName, classNames, feed, as))
	}
	subs, err := findAll[submissionDoc](ctx, s, colSubmissions, bson.D{{Key: "parentId", Value: p.ID}}, "submissions")
	if err != nil {
		return nil, nil, err
	}
	for _, d := range subs {
		if linked[d.ChildID] && d.ParentID == p.ID {
			out.Submissions = append(out.Submissions, *d.toContent())
		}
	}
	photos, err := findAll[photoDoc](ctx, s, colPhotos, bson.D{{Key: "parentId", Value: p.ID}}, "photos")
	if err != nil {
		return nil, nil, err
	}
	var mine []*photoDoc
	for _, d := range photos {
		if linked[d.ChildID] && d.ParentID == p.ID {
			out.Photos = append(out.Photos, *d.toContent())
			mine = append(mine, d)
		}
	}
	files, err := s.photoFiles(ctx, mine)
	if err != nil {
		return nil, nil, err
	}
	if out.Inbox, err = s.inboxOfParent(ctx, p.ID); err != nil {
		return nil, nil, err
	}
	return out, files, nil
}

// wholeFeed reads a child's whole feed, newest first, page by page.
func (s *Store) wholeFeed(ctx context.Context, childID string) ([]*content.FeedItem, error) {
	var all []*content.FeedItem
	before := int64(-1)
	for {
		items, next, err := s.FeedPage(ctx, childID, before, content.FeedPageMax)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next <= 0 {
			return all, nil
		}
		before = next
	}
}

// photoFiles reads the originals of photos.
func (s *Store) photoFiles(ctx context.Context, photos []*photoDoc) ([]content.ExportPhoto, error) {
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

// SchoolExportData builds the school's view: its record, classes, staff
// with their roles here only, its children, their parents' contacts with
// links to this school's children only, and its assignments, submissions,
// awards, photos and engagement counts.
func (s *Store) SchoolExportData(ctx context.Context, schoolID string) (*content.SchoolExport, []content.ExportPhoto, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	sc, err := s.School(ctx, schoolID)
	if err != nil {
		return nil, nil, err
	}
	out := &content.SchoolExport{School: *sc}
	bySchool := bson.D{{Key: "schoolId", Value: schoolID}}

	classes, err := findAll[classDoc](ctx, s, colClasses, bySchool, "classes")
	if err != nil {
		return nil, nil, err
	}
	out.Classes = make([]content.Class, 0, len(classes))
	for _, d := range classes {
		out.Classes = append(out.Classes, *d.toContent())
	}

	staffFilter := bson.D{{Key: "schools.schoolId", Value: schoolID}}
	if sc.TrustID != "" {
		staffFilter = bson.D{{Key: "$or", Value: bson.A{staffFilter, bson.D{{Key: "trustAdmin", Value: sc.TrustID}}}}}
	}
	staff, err := findAll[staffDoc](ctx, s, colStaff, staffFilter, "staff")
	if err != nil {
		return nil, nil, err
	}
	out.Staff = make([]content.ExportStaff, 0, len(staff))
	for _, d := range staff {
		if e := content.SchoolExportStaff(d.toContent(), sc); len(e.Roles) > 0 || e.TrustAdmin {
			out.Staff = append(out.Staff, e)
		}
	}

	children, err := findAll[childDoc](ctx, s, colChildren, bySchool, "children")
	if err != nil {
		return nil, nil, err
	}
	ofSchool := map[string]bool{}
	out.Children = make([]content.Child, 0, len(children))
	for _, d := range children {
		k := d.toContent()
		ofSchool[k.ID] = true
		out.Children = append(out.Children, *k)
	}

	ids := bson.A{}
	for id := range ofSchool {
		ids = append(ids, id)
	}
	parents, err := findAll[parentDoc](ctx, s, colParents, bson.D{{Key: "children.childId", Value: bson.D{{Key: "$in", Value: ids}}}}, "parents")
	if err != nil {
		return nil, nil, err
	}
	out.Parents = make([]content.ExportSchoolParent, 0, len(parents))
	for _, d := range parents {
		if e := content.SchoolExportParent(d.toContent(), ofSchool); len(e.Children) > 0 {
			out.Parents = append(out.Parents, e)
		}
	}

	asgs, err := findAll[assignmentDoc](ctx, s, colAssignments, bySchool, "assignments")
	if err != nil {
		return nil, nil, err
	}
	out.Assignments = make([]content.Assignment, 0, len(asgs))
	for _, d := range asgs {
		out.Assignments = append(out.Assignments, *d.toContent())
	}
	anns, err := findAll[announcementDoc](ctx, s, colAnnouncements, bySchool, "announcements")
	if err != nil {
		return nil, nil, err
	}
	out.Announcements = make([]content.Announcement, 0, len(anns))
	for _, d := range anns {
		out.Announcements = append(out.Announcements, *d.toContent())
	}
	subs, err := findAll[submissionDoc](ctx, s, colSubmissions, bySchool, "submissions")
	if err != nil {
		return nil, nil, err
	}
	out.Submissions = make([]content.Submission, 0, len(subs))
	// What staff hid from the class is the author's alone: it stays in
	// their own export, not in the school's.
	for _, d := range subs {
		out.Submissions = append(out.Submissions, *d.toContent().ForOthers())
	}
	awards, err := findAll[awardDoc](ctx, s, colAwards, bySchool, "awards")
	if err != nil {
		return nil, nil, err
	}
	out.Awards = make([]content.Award, 0, len(awards))
	for _, d := range awards {
		out.Awards = append(out.Awards, *d.toContent())
	}
	photos, err := findAll[photoDoc](ctx, s, colPhotos, bySchool, "photos")
	if err != nil {
		return nil, nil, err
	}
	out.Photos = make([]content.Photo, 0, len(photos))
	photos = slices.DeleteFunc(photos, func(d *photoDoc) bool { return d.Hidden != nil })
	for _, d := range photos {
		out.Photos = append(out.Photos, *d.toContent())
	}
	if out.Engagement, err = s.schoolEngagement(ctx, schoolID); err != nil {
		return nil, nil, err
	}
	atts, err := findAll[attachmentDoc](ctx, s, colAttachments, bySchool, "attachments")
	if err != nil {
		return nil, nil, err
	}
	out.Attachments = make([]content.Attachment, 0, len(atts))
	for _, d := range atts {
		out.Attachments = append(out.Attachments, *d.toContent())
	}
	items, err := findAll[inboxItemDoc](ctx, s, colInboxItems, bySchool, "inbox items")
	if err != nil {
		return nil, nil, err
	}
	out.InboxReads = make([]content.InboxItem, 0, len(items))
	for _, d := range items {
		out.InboxReads = append(out.InboxReads, *d.toContent())
	}
	files, err := s.photoFiles(ctx, photos)
	if err != nil {
		return nil, nil, err
	}
	return out, files, nil
}

// schoolEngagement reads the school's weekly counters (every scope the
// school's documents are named under).
func (s *Store) schoolEngagement(ctx context.Context, schoolID string) ([]content.ExportEngagement, error) {
	docs, err := findAll[bson.M](ctx, s, colEngagement, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex",
		Value: "^" + regexp.QuoteMeta(content.EngagementDocID("school", schoolID, ""))}}}}, "engagement")
	if err != nil {
		return nil, err
	}
	out := make([]content.ExportEngagement, 0, len(docs))
	for _, d := range docs {
		m := *d
		e := content.ExportEngagement{Counts: content.EngagementCounts{}}
		e.Scope, _ = m["scope"].(string)
		e.Ref, _ = m["ref"].(string)
		e.Week, _ = m["week"].(string)
		for _, k := range content.EngagementKinds {
			switch v := m[string(k)].(type) {
			case int64:
				e.Counts[k] = v
			case int32:
				e.Counts[k] = int64(v)
			case float64:
				e.Counts[k] = int64(v)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

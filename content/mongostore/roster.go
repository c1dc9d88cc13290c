package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func (s *Store) CreateTrust(ctx context.Context, t *content.Trust) error {
	return s.insert(ctx, colTrusts, toTrustDoc(t), "trust")
}

func (s *Store) Trust(ctx context.Context, id string) (*content.Trust, error) {
	d, err := getByID[trustDoc](ctx, s, colTrusts, id, "trust")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) CreateSchool(ctx context.Context, sc *content.School) error {
	return s.insert(ctx, colSchools, toSchoolDoc(sc), "school")
}

func (s *Store) School(ctx context.Context, id string) (*content.School, error) {
	d, err := getByID[schoolDoc](ctx, s, colSchools, id, "school")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) UpdateSchool(ctx context.Context, sc *content.School) error {
	return s.replaceByID(ctx, colSchools, sc.ID, toSchoolDoc(sc), "school")
}

func (s *Store) SchoolsOfTrust(ctx context.Context, trustID string) ([]*content.School, error) {
	docs, err := findAll[schoolDoc](ctx, s, colSchools, bson.D{{Key: "trustId", Value: trustID}}, "schools")
	if err != nil {
		return nil, err
	}
	out := make([]*content.School, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toContent())
	}
	return out, nil
}

func (s *Store) CreateStaff(ctx context.Context, st *content.Staff) error {
	return s.insert(ctx, colStaff, toStaffDoc(st), "staff member")
}

func (s *Store) Staff(ctx context.Context, id string) (*content.Staff, error) {
	d, err := getByID[staffDoc](ctx, s, colStaff, id, "staff member")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) StaffOfSchool(ctx context.Context, schoolID string) ([]*content.Staff, error) {
	docs, err := findAll[staffDoc](ctx, s, colStaff, bson.D{{Key: "schools.schoolId", Value: schoolID}}, "staff")
	if err != nil {
		return nil, err
	}
	out := make([]*content.Staff, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toContent())
	}
	return out, nil
}

// SetStaffSchoolRoles replaces the roles at one school; no roles removes the
// school from the staff member. It rewrites the small schools array from a
// fresh read; concurrent edits of one person's roles are rare admin actions.
func (s *Store) SetStaffSchoolRoles(ctx context.Context, staffID, schoolID string, roles []content.Role) error {
	d, err := getByID[staffDoc](ctx, s, colStaff, staffID, "staff member")
	if err != nil {
		return err
	}
	next := []schoolRolesDoc{}
	for _, sr := range d.Schools {
		if sr.SchoolID != schoolID {
			next = append(next, sr)
		}
	}
	if len(roles) > 0 {
		next = append(next, schoolRolesDoc{SchoolID: schoolID, Roles: roles})
	}
	return s.updateByID(ctx, colStaff, staffID, bson.D{{Key: "$set", Value: bson.D{{Key: "schools", Value: next}}}}, "staff member")
}

func (s *Store) CreateClass(ctx context.Context, c *content.Class) error {
	return s.insert(ctx, colClasses, toClassDoc(c), "class")
}

func (s *Store) Class(ctx context.Context, id string) (*content.Class, error) {
	d, err := getByID[classDoc](ctx, s, colClasses, id, "class")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) ClassesOfSchool(ctx context.Context, schoolID string) ([]*content.Class, error) {
	docs, err := findAll[classDoc](ctx, s, colClasses, bson.D{{Key: "schoolId", Value: schoolID}}, "classes")
	if err != nil {
		return nil, err
	}
	out := make([]*content.Class, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toContent())
	}
	return out, nil
}

func (s *Store) UpdateClass(ctx context.Context, c *content.Class) error {
	return s.replaceByID(ctx, colClasses, c.ID, toClassDoc(c), "class")
}

func (s *Store) DeleteClass(ctx context.Context, id string) error {
	return s.deleteByID(ctx, colClasses, id, "class")
}

func (s *Store) CreateChild(ctx context.Context, c *content.Child) error {
	return s.insert(ctx, colChildren, toChildDoc(c), "child")
}

func (s *Store) Child(ctx context.Context, id string) (*content.Child, error) {
	d, err := getByID[childDoc](ctx, s, colChildren, id, "child")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) children(ctx context.Context, filter bson.D) ([]*content.Child, error) {
	docs, err := findAll[childDoc](ctx, s, colChildren, filter, "children")
	if err != nil {
		return nil, err
	}
	out := make([]*content.Child, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toContent())
	}
	return out, nil
}

func (s *Store) ChildrenOfSchool(ctx context.Context, schoolID string) ([]*content.Child, error) {
	return s.children(ctx, bson.D{{Key: "schoolId", Value: schoolID}})
}

func (s *Store) ChildrenOfClass(ctx context.Context, classID string) ([]*content.Child, error) {
	return s.children(ctx, bson.D{{Key: "classIds", Value: classID}})
}

func (s *Store) UpdateChild(ctx context.Context, c *content.Child) error {
	return s.replaceByID(ctx, colChildren, c.ID, toChildDoc(c), "child")
}

func (s *Store) CreateParent(ctx context.Context, p *content.Parent) error {
	return s.insert(ctx, colParents, toParentDoc(p), "parent")
}

func (s *Store) Parent(ctx context.Context, id string) (*content.Parent, error) {
	d, err := getByID[parentDoc](ctx, s, colParents, id, "parent")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// streamTimeout bounds a streamed read: a whole school's parents on the
// embedded store, which scans, take seconds per 100,000.
const streamTimeout = 10 * time.Minute

// parentContactDoc is the projection EachParentOfSchool reads.
type parentContactDoc struct {
	ID       string              `bson:"_id"`
	Phone    string              `bson:"phone"`
	Email    string              `bson:"email"`
	Language string              `bson:"language"`
	State    content.ParentState `bson:"state"`
	Devices  map[string]struct{} `bson:"devices"` // only how many
	Prefs    map[string]prefDoc  `bson:"prefs"`
	Digest   bool                `bson:"digest"`
	Children []struct {
		ChildID   string            `bson:"childId"`
		SchoolID  string            `bson:"schoolId"`
		FirstName string            `bson:"firstName"`
		State     content.LinkState `bson:"state"`
	} `bson:"children"`
}

func (s *Store) EachParentOfSchool(ctx context.Context, schoolID string, fn func(content.ParentContact) error) error {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	// The link's state is checked here rather than with $elemMatch, which
	// the embedded store does not take with field conditions.
	filter := bson.D{{Key: "children.schoolId", Value: schoolID}}
	proj := bson.D{{Key: "phone", Value: 1}, {Key: "email", Value: 1}, {Key: "language", Value: 1},
		{Key: "state", Value: 1}, {Key: "children.schoolId", Value: 1}, {Key: "children.state", Value: 1},
		{Key: "children.childId", Value: 1}, {Key: "children.firstName", Value: 1}, {Key: "devices", Value: 1}, {Key: "prefs", Value: 1},
		{Key: "digest", Value: 1}}
	cur, err := s.r(colParents).Find(ctx, filter, options.Find().SetProjection(proj).SetBatchSize(1000))
	if err != nil {
		return mapErr(err, "parents")
	}
	defer cur.Close(context.Background())
	for cur.Next(ctx) {
		var d parentContactDoc
		if err := cur.Decode(&d); err != nil {
			return mapErr(err, "parents")
		}
		linked := false
		for _, c := range d.Children {
			linked = linked || (c.SchoolID == schoolID && c.State == content.LinkLinked)
		}
		if !linked {
			continue
		}
		links := make([]content.ChildLink, 0, len(d.Children))
		for _, c := range d.Children {
			links = append(links, content.ChildLink{ChildID: c.ChildID, SchoolID: c.SchoolID, FirstName: c.FirstName, State: c.State})
		}
		if err := fn(content.ParentContact{ID: d.ID, Phone: d.Phone, Email: d.Email, Language: d.Language, State: d.State,
			Devices: len(d.Devices), Prefs: prefsOf(d.Prefs), Digest: d.Digest, Children: links}); err != nil {
			return err
		}
	}
	return mapErr(cur.Err(), "parents")
}

// UpdateParent and SetParentChildLinks mark the parent changed, under the
// schools of its links before and after, before writing: a sender holding
// a snapshot of the parent reads the record again (a mark without its
// write, after a crash, costs one read).
func (s *Store) UpdateParent(ctx context.Context, p *content.Parent) error {
	if err := s.markParentChange(ctx, p.ID, parentSchools(p.Children)); err != nil {
		return err
	}
	before, err := s.parentChildIDs(ctx, p.ID)
	if err != nil {
		return err
	}
	if err := s.replaceByID(ctx, colParents, p.ID, toParentDoc(p), "parent"); err != nil {
		return err
	}
	return s.parentFeedAccessChanged(ctx, p.ID, before...)
}

// markParentChange marks one parent changed under the schools it is linked
// at in the store and the schools it will be linked at.
func (s *Store) markParentChange(ctx context.Context, id string, schools []string) error {
	old, err := s.schoolsOfParent(ctx, id)
	if err != nil {
		return err
	}
	return s.markParentsChanged(ctx, append(old, schools...), []string{id})
}

func (s *Store) SetParentChildLinks(ctx context.Context, parentID string, links []content.ChildLink) error {
	if err := s.markParentChange(ctx, parentID, parentSchools(links)); err != nil {
		return err
	}
	before, err := s.parentChildIDs(ctx, parentID)
	if err != nil {
		return err
	}
	if err := s.updateByID(ctx, colParents, parentID,
		bson.D{{Key: "$set", Value: bson.D{{Key: "children", Value: toChildLinkDocs(links)}}}}, "parent"); err != nil {
		return err
	}
	return s.parentFeedAccessChanged(ctx, parentID, before...)
}

func (s *Store) SetChildParentLinks(ctx context.Context, childID string, links []content.ParentLink) error {
	return s.updateByID(ctx, colChildren, childID,
		bson.D{{Key: "$set", Value: bson.D{{Key: "parents", Value: toParentLinkDocs(links)}}}}, "child")
}

func (s *Store) SetChildParentLinksAndSeverances(ctx context.Context, childID string, links []content.ParentLink, severed []content.Severance) error {
	return s.updateByID(ctx, colChildren, childID, bson.D{{Key: "$set", Value: bson.D{
		{Key: "parents", Value: toParentLinkDocs(links)}, {Key: "severed", Value: toSeveranceDocs(severed)}}}}, "child")
}

// PutInvitation upserts the one invitation per parent and school.
func (s *Store) PutInvitation(ctx context.Context, inv *content.Invitation) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	d := invitationDoc{ID: inv.ID, SchoolID: inv.SchoolID, ParentID: inv.ParentID, CodeHash: inv.CodeHash,
		IssuedAt: inv.IssuedAt, ExpiresAt: inv.ExpiresAt, Redeemed: inv.Redeemed, RedeemedBy: inv.RedeemedBy}
	_, err := s.c(colInvitations).ReplaceOne(ctx, bson.D{{Key: "_id", Value: inv.ID}}, d, upsert())
	return mapErr(err, "invitation")
}

func (s *Store) Invitation(ctx context.Context, id string) (*content.Invitation, error) {
	d, err := getByID[invitationDoc](ctx, s, colInvitations, id, "invitation")
	if err != nil {
		return nil, err
	}
	return &content.Invitation{ID: d.ID, SchoolID: d.SchoolID, ParentID: d.ParentID, CodeHash: d.CodeHash,
		IssuedAt: d.IssuedAt, ExpiresAt: d.ExpiresAt, Redeemed: d.Redeemed, RedeemedBy: d.RedeemedBy}, nil
}

func (s *Store) PutInviteCode(ctx context.Context, c *content.InviteCode) error {
	return s.insert(ctx, colInviteCodes, inviteCodeDoc{Hash: c.Hash, SchoolID: c.SchoolID,
		ParentID: c.ParentID, ExpiresAt: c.ExpiresAt, Uses: c.Uses}, "invite code")
}

func (s *Store) InviteCode(ctx context.Context, hash string) (*content.InviteCode, error) {
	d, err := getByID[inviteCodeDoc](ctx, s, colInviteCodes, hash, "invite code")
	if err != nil {
		return nil, err
	}
	return &content.InviteCode{Hash: d.Hash, SchoolID: d.SchoolID, ParentID: d.ParentID,
		ExpiresAt: d.ExpiresAt, Uses: d.Uses}, nil
}

func (s *Store) UseInviteCode(ctx context.Context, hash string) (*content.InviteCode, error) {
	d, err := incUse[inviteCodeDoc](ctx, s, colInviteCodes, hash, "invite code")
	if err != nil {
		return nil, err
	}
	return &content.InviteCode{Hash: d.Hash, SchoolID: d.SchoolID, ParentID: d.ParentID,
		ExpiresAt: d.ExpiresAt, Uses: d.Uses}, nil
}

func (s *Store) DeleteInviteCode(ctx context.Context, hash string) error {
	return s.deleteByID(ctx, colInviteCodes, hash, "invite code")
}

func (s *Store) ReleaseInviteCode(ctx context.Context, hash string) error {
	return s.updateByID(ctx, colInviteCodes, hash, bson.D{{Key: "$inc", Value: bson.D{{Key: "uses", Value: -1}}}}, "invite code")
}

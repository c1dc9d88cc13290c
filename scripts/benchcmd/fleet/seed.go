package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// benchPassword signs every seeded account in. Benchmark data only.
const benchPassword = "hometime-fleet-bench-1"

const (
	schoolID  = "sch_fleet"
	bulkClass = "cls_fleet_bulk"
	adminID   = "stf_fleet_admin"
	adminMail = "admin@fleet.hometime.test"
)

func classID(i int) string       { return fmt.Sprintf("cls_fleet_%02d", i) }
func teacherID(i int) string     { return fmt.Sprintf("stf_fleet_t%02d", i) }
func teacherMail(i int) string   { return fmt.Sprintf("teacher%02d@fleet.hometime.test", i) }
func appParentID(i int) string   { return fmt.Sprintf("par_fleet_app_%04d", i) }
func appChildID(i int) string    { return fmt.Sprintf("chd_fleet_app_%04d", i) }
func appParentMail(i int) string { return fmt.Sprintf("parent%04d@fleet.hometime.test", i) }

// bulkPhone is bulk family i's mobile: +447400000000 upwards, valid UK
// mobiles for i below a million. Only bulk families have a number the
// Twilio fake sees: app families are reached by push.
func bulkPhone(i int) string { return fmt.Sprintf("+4474%08d", i) }

// seedSchool writes a school open for messages all day with a budget
// nothing here exhausts, its admin, the teachers and their classes, and the
// app families (signed in by the load, one child each, spread over the
// teachers' classes). seedBulk adds the bulk families later (a class no
// teacher of the load sets work for; they only receive the broadcast, by
// SMS).
func seedSchool(ctx context.Context, s *mongostore.Store, teachers, appFamilies int) error {
	now := time.Now().UTC()
	pw, err := api.NewPasswords(api.DefaultArgon2, 2)
	if err != nil {
		return err
	}
	hash, err := pw.Hash(ctx, benchPassword)
	if err != nil {
		return err
	}
	if err := s.CreateSchool(ctx, &content.School{ID: schoolID, Name: "Fleet Bench Primary", Country: "GB",
		TimeZone: "Europe/London", Language: "en", QuietStart: "00:00", QuietEnd: "00:00", SMSBudgetPence: 1 << 50,
		Subscription: content.Subscription{State: "active"}, CreatedAt: now}); err != nil {
		return err
	}
	staff := func(id, email, last string, role content.Role) error {
		if err := s.CreateStaff(ctx, &content.Staff{ID: id, Email: email, PasswordHash: hash, Title: "Ms", FirstName: "S",
			LastName: last, Schools: []content.SchoolRoles{{SchoolID: schoolID, Roles: []content.Role{role}}}, CreatedAt: now}); err != nil {
			return err
		}
		return s.PutLogin(ctx, &content.Login{Key: "staff:email:" + email, Kind: content.KindStaff, AccountID: id})
	}
	if err := staff(adminID, adminMail, "Admin", content.RoleAdmin); err != nil {
		return err
	}
	for i := range teachers {
		if err := staff(teacherID(i), teacherMail(i), fmt.Sprintf("Teacher%02d", i), content.RoleTeacher); err != nil {
			return err
		}
		if err := s.CreateClass(ctx, &content.Class{ID: classID(i), SchoolID: schoolID, Name: fmt.Sprintf("Class %02d", i),
			YearGroup: "Y2", TeacherIDs: []string{teacherID(i)}, CreatedAt: now}); err != nil {
			return err
		}
	}
	if err := s.CreateClass(ctx, &content.Class{ID: bulkClass, SchoolID: schoolID, Name: "Whole school",
		YearGroup: "Y3", TeacherIDs: []string{}, CreatedAt: now}); err != nil {
		return err
	}
	for i := range appFamilies {
		cl := classID(i % teachers)
		k := &content.Child{ID: appChildID(i), SchoolID: schoolID, FirstName: "Child", LastName: fmt.Sprintf("App%04d", i),
			YearGroup: "Y2", ClassIDs: []string{cl}, SchoolLink: content.SchoolLink{State: content.LinkLinked},
			Parents:   []content.ParentLink{{ParentID: appParentID(i), Relationship: "Parent", State: content.LinkLinked, LinkedAt: now}},
			CreatedAt: now}
		p := &content.Parent{ID: appParentID(i), FirstName: "Parent", LastName: k.LastName, Email: appParentMail(i),
			Language: "en", State: content.ParentActive, PasswordHash: hash, Sessions: []string{},
			Consents:     []content.Consent{{Kind: "privacy_notice", Version: "2026-09", Accepted: true, At: now}},
			LastActiveAt: now, CreatedAt: now,
			Children: []content.ChildLink{{ChildID: k.ID, SchoolID: schoolID, FirstName: k.FirstName, YearGroup: "Y2",
				State: content.LinkLinked, LinkedAt: now}}}
		if err := s.CreateChild(ctx, k); err != nil {
			return err
		}
		if err := s.CreateParent(ctx, p); err != nil {
			return err
		}
		if err := s.PutLogin(ctx, &content.Login{Key: "parent:email:" + p.Email, Kind: content.KindParent, AccountID: p.ID}); err != nil {
			return err
		}
	}
	return nil
}

// The store has no bulk insert for parents and children, and one insert
// per document makes 20,000 families take minutes on the embedded store,
// so bulk families are written with InsertMany in the bson shapes of
// content/mongostore (docs_roster.go). The broadcast reads them back
// through the store, so a shape that drifted fails the run.
type parentLinkDoc struct {
	ParentID string            `bson:"parentId"`
	State    content.LinkState `bson:"state"`
	LinkedAt time.Time         `bson:"linkedAt"`
}

type schoolLinkDoc struct {
	State content.LinkState `bson:"state"`
}

type childDoc struct {
	ID         string          `bson:"_id"`
	SchoolID   string          `bson:"schoolId"`
	FirstName  string          `bson:"firstName"`
	LastName   string          `bson:"lastName"`
	YearGroup  string          `bson:"yearGroup"`
	ClassIDs   []string        `bson:"classIds"`
	Parents    []parentLinkDoc `bson:"parents"`
	SchoolLink schoolLinkDoc   `bson:"schoolLink"`
	CreatedAt  time.Time       `bson:"createdAt"`
}

type childLinkDoc struct {
	ChildID   string            `bson:"childId"`
	SchoolID  string            `bson:"schoolId"`
	FirstName string            `bson:"firstName"`
	YearGroup string            `bson:"yearGroup"`
	State     content.LinkState `bson:"state"`
	LinkedAt  time.Time         `bson:"linkedAt"`
}

type parentDoc struct {
	ID        string              `bson:"_id"`
	FirstName string              `bson:"firstName"`
	LastName  string              `bson:"lastName"`
	Phone     string              `bson:"phone"`
	Language  string              `bson:"language"`
	State     content.ParentState `bson:"state"`
	Sessions  []string            `bson:"sessions"`
	Children  []childLinkDoc      `bson:"children"`
	Consents  []struct{}          `bson:"consents"`
	CreatedAt time.Time           `bson:"createdAt"`
}

func seedBulk(ctx context.Context, s *mongostore.Store, n int) error {
	now := time.Now().UTC()
	db := s.Database()
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		parents := make([]any, 0, hi-lo)
		children := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			pid, cid := fmt.Sprintf("par_fleet_%06d", i), fmt.Sprintf("chd_fleet_%06d", i)
			last := fmt.Sprintf("Bulk%06d", i)
			parents = append(parents, parentDoc{ID: pid, FirstName: "Parent", LastName: last, Phone: bulkPhone(i), Language: "en",
				State: content.ParentActive, Sessions: []string{}, Consents: []struct{}{}, CreatedAt: now,
				Children: []childLinkDoc{{ChildID: cid, SchoolID: schoolID, FirstName: "Child", YearGroup: "Y3",
					State: content.LinkLinked, LinkedAt: now}}})
			children = append(children, childDoc{ID: cid, SchoolID: schoolID, FirstName: "Child", LastName: last,
				YearGroup: "Y3", ClassIDs: []string{bulkClass},
				Parents:    []parentLinkDoc{{ParentID: pid, State: content.LinkLinked, LinkedAt: now}},
				SchoolLink: schoolLinkDoc{State: content.LinkLinked}, CreatedAt: now})
		}
		for _, c := range []struct {
			name string
			docs []any
		}{{"parents", parents}, {"children", children}} {
			ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			_, err := db.Collection(c.name).InsertMany(ictx, c.docs, options.InsertMany().SetOrdered(true))
			cancel()
			if err != nil {
				return fmt.Errorf("insert %s: %w", c.name, err)
			}
		}
	}
	if n == 0 {
		return nil
	}
	p, err := s.Parent(ctx, fmt.Sprintf("par_fleet_%06d", n-1))
	if err != nil {
		return fmt.Errorf("read back a bulk parent: %w", err)
	}
	if len(p.Children) != 1 || p.Phone != bulkPhone(n-1) {
		return fmt.Errorf("a bulk parent reads back as %+v", p)
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// Demo sign-ins (README). The password is public: demo data only.
const (
	demoPassword = "hometime-demo-1"
	demoAdmin    = "admin@demo.hometime.test"
	demoTeacher  = "teacher@demo.hometime.test"
	demoTeacher2 = "teacher2@demo.hometime.test"
	demoParent   = "parent@demo.hometime.test"
	demoSchoolID = "sch_demo"
	demoTrustID  = "trs_demo"
)

var demoFirstNames = []string{"Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Freya", "Leo",
	"Lily", "Oscar", "Ivy", "Harry", "Florence", "Muhammad", "Willow", "Jack", "Rosie", "Theo"}

var demoLastNames = []string{"Smith", "Jones", "Williams", "Taylor", "Davies", "Evans", "Khan", "Nowak", "Hughes", "Patel"}

// seedDemo writes the demo trust's people idempotently: every document has
// a fixed id, existing ones are left as they are, so a restart with --demo
// changes nothing and keeps whatever was done in the demo since. What they
// do (liveDemo) goes through the API once it and the worker are running.
func seedDemo(ctx context.Context, st *stack.Stack) error {
	s := st.Store
	now := time.Now().UTC()
	pw, err := api.NewPasswords(api.DefaultArgon2, 2)
	if err != nil {
		return err
	}
	hash, err := pw.Hash(ctx, demoPassword)
	if err != nil {
		return err
	}
	ignoreDup := func(err error) error {
		if content.IsCode(err, content.CodeConflict) {
			return nil
		}
		return err
	}
	if err := ignoreDup(s.CreateTrust(ctx, &content.Trust{ID: demoTrustID, Name: "Demo Learning Trust", CreatedAt: now})); err != nil {
		return err
	}
	school := api.NewSchoolDefaults(demoTrustID, now)
	school.ID, school.Name = demoSchoolID, "Hometime Demo Primary"
	if err := ignoreDup(s.CreateSchool(ctx, school)); err != nil {
		return err
	}
	staff := []*content.Staff{
		{ID: "stf_demo_admin", Email: demoAdmin, Title: "Mrs", FirstName: "Helen", LastName: "Head",
			Schools: []content.SchoolRoles{{SchoolID: demoSchoolID, Roles: []content.Role{content.RoleAdmin}}}},
		{ID: "stf_demo_teacher", Email: demoTeacher, Title: "Mr", FirstName: "Tom", LastName: "Robins",
			Schools: []content.SchoolRoles{{SchoolID: demoSchoolID, Roles: []content.Role{content.RoleTeacher}}}},
		{ID: "stf_demo_teacher2", Email: demoTeacher2, Title: "Ms", FirstName: "Olu", LastName: "Owens",
			Schools: []content.SchoolRoles{{SchoolID: demoSchoolID, Roles: []content.Role{content.RoleTeacher}}}},
	}
	for _, m := range staff {
		m.PasswordHash, m.CreatedAt = hash, now
		if err := ignoreDup(s.CreateStaff(ctx, m)); err != nil {
			return err
		}
		if err := ignoreDup(s.PutLogin(ctx, &content.Login{Key: "staff:email:" + m.Email, Kind: content.KindStaff, AccountID: m.ID})); err != nil {
			return err
		}
	}
	classes := []*content.Class{
		{ID: "cls_demo_robins", SchoolID: demoSchoolID, Name: "Robins", YearGroup: "Y1", TeacherIDs: []string{"stf_demo_teacher"}, CreatedAt: now},
		{ID: "cls_demo_owls", SchoolID: demoSchoolID, Name: "Owls", YearGroup: "Y3", TeacherIDs: []string{"stf_demo_teacher2"}, CreatedAt: now},
	}
	for _, c := range classes {
		if err := ignoreDup(s.CreateClass(ctx, c)); err != nil {
			return err
		}
	}
	// 20 children, 10 per class; every fourth is pupil premium. Children 1
	// and 11 are siblings: the demo parent's two children, one per class.
	for i := 0; i < 20; i++ {
		cl := classes[i/10]
		k := &content.Child{ID: fmt.Sprintf("chd_demo_%02d", i+1), SchoolID: demoSchoolID, FirstName: demoFirstNames[i],
			LastName: demoLastNames[i%10], YearGroup: cl.YearGroup, ClassIDs: []string{cl.ID}, PupilPremium: i%4 == 3,
			UPN: fmt.Sprintf("A8010%07d%d", 2000+i, i%10), SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}
		if err := ignoreDup(s.CreateChild(ctx, k)); err != nil {
			return err
		}
	}
	// Families: parent i (0..9) has children i+1 and i+11 (siblings across
	// the two classes). Parent 0 is the demo parent, already joined; the
	// others are invited and can be sent invites.
	for i := 0; i < 10; i++ {
		p := &content.Parent{ID: fmt.Sprintf("par_demo_%02d", i+1), FirstName: "Parent", LastName: demoLastNames[i],
			Phone: fmt.Sprintf("+4477009001%02d", i), Email: fmt.Sprintf("family%02d@demo.hometime.test", i+1),
			Language: []string{"en", "en", "cy", "pl", "en", "ur", "en", "es", "ro", "ar"}[i],
			State:    content.ParentInvited, Sessions: []string{}, CreatedAt: now}
		if i == 0 {
			p.FirstName, p.Email, p.State, p.PasswordHash, p.LastActiveAt = "Sam", demoParent, content.ParentActive, hash, now
			p.Consents = []content.Consent{{Kind: "privacy_notice", Version: "2026-09", Accepted: true, At: now}}
		}
		kids := []string{fmt.Sprintf("chd_demo_%02d", i+1), fmt.Sprintf("chd_demo_%02d", i+11)}
		for _, kid := range kids {
			k, err := s.Child(ctx, kid)
			if err != nil {
				return err
			}
			p.Children = append(p.Children, content.ChildLink{ChildID: k.ID, SchoolID: demoSchoolID, FirstName: k.FirstName,
				YearGroup: k.YearGroup, State: content.LinkLinked, LinkedAt: now})
		}
		created := s.CreateParent(ctx, p)
		if err := ignoreDup(created); err != nil {
			return err
		}
		if created == nil {
			for _, kid := range kids {
				if err := s.SetChildParentLinks(ctx, kid, []content.ParentLink{{ParentID: p.ID, Relationship: "Parent",
					State: content.LinkLinked, LinkedAt: now}}); err != nil {
					return err
				}
			}
		}
		if i == 0 {
			if err := ignoreDup(s.PutLogin(ctx, &content.Login{Key: "parent:email:" + demoParent, Kind: content.KindParent, AccountID: p.ID})); err != nil {
				return err
			}
		}
	}
	return nil
}

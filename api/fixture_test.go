package api

import (
	"context"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

const fixturePassword = "Correct-Horse-Battery-9"

// actor names of the authorization matrix (authz_matrix_test.go): who calls
// each route.
const (
	actParentA      = "parent A"
	actParentB      = "parent B (same class)"
	actParentOther  = "parent, other school"
	actTeacher      = "teacher of the class"
	actTeacherOther = "teacher of another class"
	actAdmin        = "admin of the school"
	actAdminOther   = "admin of another school"
	actClosed       = "closed account"
	actAnonymous    = "anonymous"
)

var allActors = []string{actParentA, actParentB, actParentOther, actTeacher, actTeacherOther, actAdmin, actAdminOther, actClosed, actAnonymous}

// world is a small two-school tenancy with one of each actor.
//
//	trust T1 → school S1: class C1 (teacher), class C2 (teacher other)
//	  K1 in C1 (parent A), K2 in C1 (parent B), K3 in C2 (no parents)
//	trust T2 → school S2: class CO, KO (parent other); admin other
//	admin of S1 is also the trust admin of T1.
type world struct {
	h                     *harness
	T1, T2                *content.Trust
	S1, S2                *content.School
	C1, C2, CO            *content.Class
	K1, K2, K3, KO        *content.Child
	ParentA, ParentB      *content.Parent
	ParentOther, ParentX  *content.Parent
	Admin, AdminOther     *content.Staff
	Teacher, TeacherOther *content.Staff
	tokens                map[string]string
	pii                   []string // every personal value seeded, for leak checks
}

func newWorld(t testing.TB) *world {
	t.Helper()
	h := newHarness(t)
	w := &world{h: h, tokens: map[string]string{}}
	ctx := context.Background()
	s := h.store
	now := h.clock.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	hash, err := h.deps.Passwords.Hash(ctx, fixturePassword)
	must(err)

	w.T1, w.T2 = &content.Trust{ID: "trs_1", Name: "Trust One"}, &content.Trust{ID: "trs_2", Name: "Trust Two"}
	must(s.CreateTrust(ctx, w.T1))
	must(s.CreateTrust(ctx, w.T2))
	w.S1, w.S2 = NewSchoolDefaults(w.T1.ID, now), NewSchoolDefaults(w.T2.ID, now)
	w.S1.ID, w.S1.Name, w.S2.ID, w.S2.Name = "sch_1", "Riverside Primary", "sch_2", "Hilltop Primary"
	must(s.CreateSchool(ctx, w.S1))
	must(s.CreateSchool(ctx, w.S2))

	staff := func(id, email, first, last, school string, role content.Role, trusts ...string) *content.Staff {
		st := &content.Staff{ID: id, Email: email, FirstName: first, LastName: last, PasswordHash: hash, CreatedAt: now,
			Schools: []content.SchoolRoles{{SchoolID: school, Roles: []content.Role{role}}}, TrustAdmin: trusts}
		must(s.CreateStaff(ctx, st))
		must(s.PutLogin(ctx, &content.Login{Key: loginKey(content.KindStaff, "email", email), Kind: content.KindStaff, AccountID: id}))
		w.pii = append(w.pii, email, first, last)
		return st
	}
	w.Admin = staff("stf_admin", "ada.admin@riverside.test", "Adaeze", "Okonkwo", "sch_1", content.RoleAdmin, w.T1.ID)
	w.AdminOther = staff("stf_admin2", "bo.admin@hilltop.test", "Bogdan", "Wiśniewski", "sch_2", content.RoleAdmin)
	w.Teacher = staff("stf_teacher", "tess.teacher@riverside.test", "Tesni", "Llewellyn", "sch_1", content.RoleTeacher)
	w.TeacherOther = staff("stf_teacher2", "tom.teacher@riverside.test", "Tomasz", "Zieliński", "sch_1", content.RoleTeacher)

	class := func(id, school, name, year string, teachers ...string) *content.Class {
		c := &content.Class{ID: id, SchoolID: school, Name: name, YearGroup: year, TeacherIDs: teachers, CreatedAt: now}
		must(s.CreateClass(ctx, c))
		return c
	}
	w.C1 = class("cls_1", "sch_1", "Kingfishers", "Y2", w.Teacher.ID)
	w.C2 = class("cls_2", "sch_1", "Herons", "Y4", w.TeacherOther.ID)
	w.CO = class("cls_o", "sch_2", "Badgers", "Y2")

	child := func(id, school, class, first, last, upn string, pp bool) *content.Child {
		k := &content.Child{ID: id, SchoolID: school, FirstName: first, LastName: last, UPN: upn, YearGroup: "Y2",
			ClassIDs: []string{class}, PupilPremium: pp, SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}
		must(s.CreateChild(ctx, k))
		w.pii = append(w.pii, first, last, upn)
		return k
	}
	w.K1 = child("chd_1", "sch_1", "cls_1", "Eirlys", "Pritchard", "H801200001001", true)
	w.K2 = child("chd_2", "sch_1", "cls_1", "Zofia", "Kowalczyk", "H801200001002", false)
	w.K3 = child("chd_3", "sch_1", "cls_2", "Idris", "Vaughan", "H801200001003", false)
	w.KO = child("chd_o", "sch_2", "cls_o", "Maryam", "Siddiqui", "H801200001004", false)

	parent := func(id, first, last, email, phone string, state content.ParentState, kids ...*content.Child) *content.Parent {
		p := &content.Parent{ID: id, FirstName: first, LastName: last, Email: email, Phone: phone, Language: "en",
			State: state, PasswordHash: hash, Sessions: []string{}, LastActiveAt: now, CreatedAt: now}
		must(s.CreateParent(ctx, p))
		must(s.PutLogin(ctx, &content.Login{Key: loginKey(content.KindParent, "email", email), Kind: content.KindParent, AccountID: id}))
		for _, k := range kids {
			must(h.linkForTest(ctx, p, k))
		}
		w.pii = append(w.pii, first, last, email, phone)
		p, err := s.Parent(ctx, id)
		must(err)
		return p
	}
	w.ParentA = parent("par_a", "Gwenllian", "Pritchard", "gwen.p@example.test", "+447911123501", content.ParentActive, w.K1)
	w.ParentB = parent("par_b", "Katarzyna", "Kowalczyk", "kasia.k@example.test", "+447911123502", content.ParentActive, w.K2)
	w.ParentOther = parent("par_o", "Ayesha", "Siddiqui", "ayesha.s@example.test", "+447911123503", content.ParentActive, w.KO)
	w.ParentX = parent("par_x", "Closed", "Account", "closed.x@example.test", "+447911123504", content.ParentActive, w.K2)

	for actor, email := range map[string]string{
		actParentA: w.ParentA.Email, actParentB: w.ParentB.Email, actParentOther: w.ParentOther.Email,
		actTeacher: w.Teacher.Email, actTeacherOther: w.TeacherOther.Email, actAdmin: w.Admin.Email,
		actAdminOther: w.AdminOther.Email, actClosed: w.ParentX.Email,
	} {
		w.tokens[actor] = h.login(email, fixturePassword).AccessToken
	}
	// Close parent X the way closure does: state closed, sessions revoked.
	x, err := s.Parent(ctx, w.ParentX.ID)
	must(err)
	x.State, x.ClosedAt, x.Sessions = content.ParentClosed, now, []string{}
	must(s.UpdateParent(ctx, x))
	w.tokens[actAnonymous] = ""
	return w
}

// linkForTest links a parent and child through the same code path the API uses.
func (h *harness) linkForTest(ctx context.Context, p *content.Parent, k *content.Child) error {
	srv := &server{Deps: h.deps}
	k, err := h.store.Child(ctx, k.ID)
	if err != nil {
		return err
	}
	return srv.linkParentChild(ctx, p, k, "Parent")
}

package api

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

func checkName(fe content.FieldErrors, field, v string, required bool) {
	n := utf8.RuneCountInString(strings.TrimSpace(v))
	switch {
	case n == 0 && required:
		fe.Add(field, "required")
	case n > 80:
		fe.Add(field, "must be at most 80 characters")
	}
}

func (s *server) listStaff() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		all, err := s.Roster.StaffOfSchool(c.UserContext(), sc.ID)
		if err != nil {
			return err
		}
		out := make([]staffDTO, 0, len(all))
		for _, st := range all {
			out = append(out, toStaffDTO(st, sc.ID))
		}
		return c.JSON(listDTO[staffDTO]{Items: out})
	}
}

type newStaffRequest struct {
	Email     string   `json:"email"`
	Title     string   `json:"title"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Roles     []string `json:"roles"`
}

func parseRoles(in []string, fe content.FieldErrors, allowEmpty bool) []content.Role {
	if len(in) == 0 && !allowEmpty {
		fe.Add("roles", "give at least one of teacher, admin")
	}
	out := []content.Role{}
	for _, r := range in {
		role := content.Role(r)
		if role != content.RoleTeacher && role != content.RoleAdmin {
			fe.Add("roles", "each role must be teacher or admin")
			continue
		}
		if !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	return out
}

// createStaff invites someone to the school's staff. Nobody is attached
// without agreeing: a new email gets an account with no school yet and a
// welcome email to set a password; an email that already has a staff
// account (someone who works at another school too) gets nothing but an
// invitation. Either way the person joins by accepting the invitation
// after signing in, and the answer is the same 202, so the admin learns
// neither whether the address has an account nor whose it is.
func (s *server) createStaff() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		var req newStaffRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		email := normalizeEmail(req.Email)
		if email == "" {
			fe.Add("email", "must be an email address")
		}
		checkName(fe, "first_name", req.FirstName, true)
		checkName(fe, "last_name", req.LastName, true)
		checkName(fe, "title", req.Title, false)
		roles := parseRoles(req.Roles, fe, false)
		if err := fe.Err(); err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		staffID, err := s.staffAccountFor(ctx, email, req)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		inv := &content.StaffInvitation{ID: content.StaffInvitationID(s.HashKey, sc.ID, email), SchoolID: sc.ID,
			StaffID: staffID, Roles: roles, InvitedBy: p.ID(), CreatedAt: now, ExpiresAt: now.Add(content.StaffInvitationTTL)}
		if err := s.Roster.PutStaffInvitation(ctx, inv); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "staff.invite", sc.ID, "staff_invitation:"+inv.ID)
		return c.Status(fiber.StatusAccepted).JSON(staffInvitedDTO{Status: "invited"})
	}
}

type staffInvitedDTO struct {
	Status string `json:"status"`
}

// staffAccountFor returns the staff account of email, creating it (and
// queueing its welcome email) if there is none. An existing account is
// left exactly as it is.
func (s *server) staffAccountFor(ctx context.Context, email string, req newStaffRequest) (string, error) {
	key := loginKey(content.KindStaff, "email", email)
	l, err := s.Identity.Login(ctx, key)
	if err == nil {
		return l.AccountID, nil
	} else if !content.IsCode(err, content.CodeNotFound) {
		return "", err
	}
	st := &content.Staff{ID: content.NewID("stf"), Email: email, Title: strings.TrimSpace(req.Title),
		FirstName: strings.TrimSpace(req.FirstName), LastName: strings.TrimSpace(req.LastName),
		Schools: []content.SchoolRoles{}, CreatedAt: s.Clock.Now()}
	if err := s.Roster.CreateStaff(ctx, st); err != nil {
		return "", err
	}
	if err := s.Identity.PutLogin(ctx, &content.Login{Key: key, Kind: content.KindStaff, AccountID: st.ID}); err != nil {
		if content.IsCode(err, content.CodeConflict) {
			// Another request created the account first: invite that one.
			l, err := s.Identity.Login(ctx, key)
			if err != nil {
				return "", err
			}
			return l.AccountID, nil
		}
		return "", err
	}
	if err := s.queueAccountEmail(ctx, content.KindStaff, st.ID, "welcome"); err != nil {
		return "", err
	}
	return st.ID, nil
}

type staffInvitationDTO struct {
	ID         string    `json:"id"`
	SchoolID   string    `json:"school_id"`
	SchoolName string    `json:"school_name"`
	Roles      []string  `json:"roles"`
	InvitedAt  time.Time `json:"invited_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// myStaffInvitations lists the caller's open invitations to join schools.
func (s *server) myStaffInvitations() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		p := principal(c)
		invs, err := s.Roster.StaffInvitationsOf(ctx, p.ID())
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		out := []staffInvitationDTO{}
		for _, inv := range invs {
			if !now.Before(inv.ExpiresAt) {
				continue
			}
			sc, err := s.Roster.School(ctx, inv.SchoolID)
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return err
			}
			out = append(out, staffInvitationDTO{ID: inv.ID, SchoolID: sc.ID, SchoolName: sc.Name,
				Roles: rolesToStrings(inv.Roles), InvitedAt: inv.CreatedAt.UTC(), ExpiresAt: inv.ExpiresAt.UTC()})
		}
		slices.SortFunc(out, func(a, b staffInvitationDTO) int { return a.InvitedAt.Compare(b.InvitedAt) })
		return c.JSON(listDTO[staffInvitationDTO]{Items: out})
	}
}

// acceptStaffInvitation is the invited person agreeing to join: the roles
// are set at the school and the invitation is spent. Someone else's,
// expired or unknown invitations are all 404.
func (s *server) acceptStaffInvitation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		p := principal(c)
		missing := content.Errorf(content.CodeNotFound, "no such invitation")
		inv, err := s.Roster.StaffInvitation(ctx, c.Params("invitationId"))
		if content.IsCode(err, content.CodeNotFound) {
			return missing
		} else if err != nil {
			return err
		}
		if inv.StaffID != p.ID() || !s.Clock.Now().Before(inv.ExpiresAt) {
			return missing
		}
		sc, err := s.Roster.School(ctx, inv.SchoolID)
		if content.IsCode(err, content.CodeNotFound) {
			return missing
		} else if err != nil {
			return err
		}
		if err := s.Roster.SetStaffSchoolRoles(ctx, p.ID(), sc.ID, inv.Roles); err != nil {
			return err
		}
		if err := s.Roster.DeleteStaffInvitation(ctx, inv.ID); err != nil {
			return err
		}
		st, err := s.Roster.Staff(ctx, p.ID())
		if err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "staff.invitation_accepted", sc.ID, "staff:"+p.ID())
		joined := &content.Principal{Kind: content.KindStaff, Staff: st}
		return c.JSON(toSchoolDTO(sc, joined.RolesAt(sc), joined.IsSchoolAdmin(sc)))
	}
}

type rolesRequest struct {
	Roles []string `json:"roles"`
}

// setStaffRoles replaces a staff member's roles at the school; an empty
// list removes them from the school. Admins cannot demote themselves, so a
// school is never left without the admin who was managing it.
func (s *server) setStaffRoles() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		var req rolesRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		roles := parseRoles(req.Roles, fe, true)
		if err := fe.Err(); err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		id := c.Params("staffId")
		st, err := s.Roster.Staff(ctx, id)
		if err != nil || !st.WorksAt(sc.ID) {
			return content.Errorf(content.CodeNotFound, "no such staff member at this school")
		}
		if id == p.ID() && !slices.Contains(roles, content.RoleAdmin) {
			return content.Errorf(content.CodeConflict, "you cannot remove your own admin role")
		}
		if err := s.Roster.SetStaffSchoolRoles(ctx, id, sc.ID, roles); err != nil {
			return err
		}
		st, err = s.Roster.Staff(ctx, id)
		if err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "staff.roles", sc.ID, "staff:"+id)
		return c.JSON(toStaffDTO(st, sc.ID))
	}
}

// classFor loads :classId of the school if the caller may see it.
func (s *server) classFor(c *fiber.Ctx, sc *content.School) (*content.Class, error) {
	cl, err := s.Roster.Class(c.UserContext(), c.Params("classId"))
	if err != nil || !principal(c).CanSeeClass(sc, cl) {
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return nil, err
		}
		return nil, content.Errorf(content.CodeNotFound, "no such class")
	}
	return cl, nil
}

// schoolClass loads :schoolId (with the access it needs) and :classId.
func (s *server) schoolClass(c *fiber.Ctx, need access) (*content.School, *content.Class, error) {
	sc, err := s.schoolFor(c, need)
	if err != nil {
		return nil, nil, err
	}
	cl, err := s.classFor(c, sc)
	return sc, cl, err
}

func (s *server) listClasses() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		all, err := s.Roster.ClassesOfSchool(c.UserContext(), sc.ID)
		if err != nil {
			return err
		}
		p := principal(c)
		out := []classDTO{}
		for _, cl := range all {
			if p.CanSeeClass(sc, cl) {
				out = append(out, toClassDTO(cl))
			}
		}
		return c.JSON(listDTO[classDTO]{Items: out})
	}
}

type classRequest struct {
	Name       *string   `json:"name"`
	YearGroup  *string   `json:"year_group"`
	TeacherIDs *[]string `json:"teacher_ids"`
}

func (s *server) applyClass(c *fiber.Ctx, sc *content.School, cl *content.Class, req classRequest, create bool) error {
	fe := content.FieldErrors{}
	if req.Name != nil || create {
		v := ""
		if req.Name != nil {
			v = strings.TrimSpace(*req.Name)
		}
		checkName(fe, "name", v, true)
		cl.Name = v
	}
	if req.YearGroup != nil || create {
		v := ""
		if req.YearGroup != nil {
			v = *req.YearGroup
		}
		if !content.ValidYearGroup(v) {
			fe.Add("year_group", "must be one of "+strings.Join(content.YearGroups, ", "))
		}
		cl.YearGroup = v
	}
	if req.TeacherIDs != nil {
		s.staffAtSchool(c.UserContext(), sc, *req.TeacherIDs, "teacher_ids", fe)
		cl.TeacherIDs = slices.Compact(slices.Sorted(slices.Values(*req.TeacherIDs)))
	}
	return fe.Err()
}

func (s *server) createClass() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		var req classRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		cl := &content.Class{ID: content.NewID("cls"), SchoolID: sc.ID, TeacherIDs: []string{}, CreatedAt: s.Clock.Now()}
		if err := s.applyClass(c, sc, cl, req, true); err != nil {
			return err
		}
		if err := s.Roster.CreateClass(c.UserContext(), cl); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "class.create", sc.ID, "class:"+cl.ID)
		return c.Status(fiber.StatusCreated).JSON(toClassDTO(cl))
	}
}

func (s *server) getClass() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, cl, err := s.schoolClass(c, anyStaff)
		if err != nil {
			return err
		}
		return c.JSON(toClassDTO(cl))
	}
}

func (s *server) patchClass() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, cl, err := s.schoolClass(c, adminOnly)
		if err != nil {
			return err
		}
		var req classRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := s.applyClass(c, sc, cl, req, false); err != nil {
			return err
		}
		if err := s.Roster.UpdateClass(c.UserContext(), cl); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "class.update", sc.ID, "class:"+cl.ID)
		return c.JSON(toClassDTO(cl))
	}
}

// deleteClass refuses while children are still in the class, so no child
// is left pointing at a class that no longer exists.
func (s *server) deleteClass() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, cl, err := s.schoolClass(c, adminOnly)
		if err != nil {
			return err
		}
		kids, err := s.Roster.ChildrenOfClass(c.UserContext(), cl.ID)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if k.SchoolLink.State == content.LinkLinked {
				return content.Errorf(content.CodeConflict, "move the children out of this class first")
			}
		}
		if err := s.Roster.DeleteClass(c.UserContext(), cl.ID); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "class.delete", sc.ID, "class:"+cl.ID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

func (s *server) classChildren() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, cl, err := s.schoolClass(c, anyStaff)
		if err != nil {
			return err
		}
		kids, err := s.Roster.ChildrenOfClass(c.UserContext(), cl.ID)
		if err != nil {
			return err
		}
		view := viewTeacher
		if principal(c).IsSchoolAdmin(sc) {
			view = viewAdmin
		}
		out := []childDTO{}
		for _, k := range kids {
			if k.SchoolID == sc.ID && k.SchoolLink.State == content.LinkLinked {
				out = append(out, toChildDTO(k, view))
			}
		}
		return c.JSON(listDTO[childDTO]{Items: out})
	}
}

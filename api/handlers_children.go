package api

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
)

// upnPattern is the DfE unique pupil number: a check letter and 12 digits
// (the last may be a letter for temporary UPNs).
var upnPattern = regexp.MustCompile(`^[A-Z][0-9]{11}[0-9A-Z]$`)

// childFor loads :childId of the school as staff: admins, and teachers of
// one of the child's classes. Others get 404.
func (s *server) childFor(c *fiber.Ctx, sc *content.School) (*content.Child, childView, error) {
	ctx := c.UserContext()
	p := principal(c)
	notFound := content.Errorf(content.CodeNotFound, "no such child")
	child, err := s.Roster.Child(ctx, c.Params("childId"))
	if content.IsCode(err, content.CodeNotFound) {
		return nil, 0, notFound
	} else if err != nil {
		return nil, 0, err
	}
	if child.SchoolID != sc.ID {
		return nil, 0, notFound
	}
	if p.IsSchoolAdmin(sc) {
		return child, viewAdmin, nil
	}
	var classes []*content.Class
	for _, id := range child.ClassIDs {
		cl, err := s.Roster.Class(ctx, id)
		if err == nil {
			classes = append(classes, cl)
		}
	}
	if !p.CanSeeChildAsStaff(sc, child, classes) {
		return nil, 0, notFound
	}
	return child, viewTeacher, nil
}

// schoolChild loads :schoolId (with the access it needs) and :childId.
func (s *server) schoolChild(c *fiber.Ctx, need access) (*content.School, *content.Child, childView, error) {
	sc, err := s.schoolFor(c, need)
	if err != nil {
		return nil, nil, 0, err
	}
	k, view, err := s.childFor(c, sc)
	return sc, k, view, err
}

func (s *server) listChildren() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		kids, err := s.Roster.ChildrenOfSchool(c.UserContext(), sc.ID)
		if err != nil {
			return err
		}
		out := []childDTO{}
		for _, k := range kids {
			if k.SchoolLink.State == content.LinkLinked {
				out = append(out, toChildDTO(k, viewAdmin))
			}
		}
		return c.JSON(listDTO[childDTO]{Items: out})
	}
}

type childRequest struct {
	FirstName    *string   `json:"first_name"`
	LastName     *string   `json:"last_name"`
	UPN          *string   `json:"upn"`
	YearGroup    *string   `json:"year_group"`
	ClassIDs     *[]string `json:"class_ids"`
	PupilPremium *bool     `json:"pupil_premium"`
}

// classesOfSchool checks every class id belongs to the school.
func (s *server) classesOfSchool(ctx context.Context, sc *content.School, ids []string, fe content.FieldErrors) {
	for _, id := range ids {
		cl, err := s.Roster.Class(ctx, id)
		if err != nil || cl.SchoolID != sc.ID {
			fe.Add("class_ids", "must list classes of this school")
			return
		}
	}
}

func (s *server) applyChild(ctx context.Context, sc *content.School, k *content.Child, req childRequest, create bool) error {
	fe := content.FieldErrors{}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	if req.FirstName != nil || create {
		checkName(fe, "first_name", str(req.FirstName), true)
		k.FirstName = str(req.FirstName)
	}
	if req.LastName != nil || create {
		checkName(fe, "last_name", str(req.LastName), true)
		k.LastName = str(req.LastName)
	}
	if req.UPN != nil {
		u := strings.ToUpper(str(req.UPN))
		if u != "" && !upnPattern.MatchString(u) {
			fe.Add("upn", "must be a 13-character unique pupil number")
		}
		k.UPN = u
	}
	if req.YearGroup != nil || create {
		if !content.ValidYearGroup(str(req.YearGroup)) {
			fe.Add("year_group", "must be one of "+strings.Join(content.YearGroups, ", "))
		}
		k.YearGroup = str(req.YearGroup)
	}
	if req.ClassIDs != nil {
		s.classesOfSchool(ctx, sc, *req.ClassIDs, fe)
		k.ClassIDs = slices.Compact(slices.Sorted(slices.Values(*req.ClassIDs)))
	}
	if req.PupilPremium != nil {
		k.PupilPremium = *req.PupilPremium
	}
	return fe.Err()
}

func (s *server) createChild() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		var req childRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		k := &content.Child{ID: content.NewID("chd"), SchoolID: sc.ID, ClassIDs: []string{},
			SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: s.Clock.Now()}
		if err := s.applyChild(c.UserContext(), sc, k, req, true); err != nil {
			return err
		}
		if err := s.Roster.CreateChild(c.UserContext(), k); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "child.create", sc.ID, "child:"+k.ID)
		return c.Status(fiber.StatusCreated).JSON(toChildDTO(k, viewAdmin))
	}
}

func (s *server) getChild() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, k, view, err := s.schoolChild(c, anyStaff)
		if err != nil {
			return err
		}
		return c.JSON(toChildDTO(k, view))
	}
}

// patchChild edits a child; first name and year group changes are copied
// to the linked parents' documents, which carry them for /v1/me.
func (s *server) patchChild() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, k, _, err := s.schoolChild(c, adminOnly)
		if err != nil {
			return err
		}
		var req childRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		ctx := c.UserContext()
		if err := s.applyChild(ctx, sc, k, req, false); err != nil {
			return err
		}
		if err := s.Roster.UpdateChild(ctx, k); err != nil {
			return err
		}
		if req.FirstName != nil || req.YearGroup != nil {
			for _, l := range k.Parents {
				if err := s.syncParentLink(ctx, l.ParentID, k); err != nil {
					return err
				}
			}
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "child.update", sc.ID, "child:"+k.ID)
		return c.JSON(toChildDTO(k, viewAdmin))
	}
}

// syncParentLink refreshes the parent's copy of the link to child from the
// child's own link state (the child document is the source of truth).
func (s *server) syncParentLink(ctx context.Context, parentID string, k *content.Child) error {
	pa, err := s.Roster.Parent(ctx, parentID)
	if err != nil {
		return err
	}
	var link *content.ParentLink
	for i := range k.Parents {
		if k.Parents[i].ParentID == parentID {
			link = &k.Parents[i]
		}
	}
	next := []content.ChildLink{}
	for _, cl := range pa.Children {
		if cl.ChildID != k.ID {
			next = append(next, cl)
		}
	}
	if link != nil {
		next = append(next, content.ChildLinkOf(k, *link))
	}
	return s.Roster.SetParentChildLinks(ctx, parentID, next)
}

// removeChild ends the school's link to a child (a leaver). The linked
// parents keep the child's past data, read-only (their copies of the link
// become content.LinkLeft), until the retention clock (the school and every
// parent removed + 90 days) runs out, and are told so once, with how to
// close their account. Repeating the removal changes nothing and tells
// nobody again.
func (s *server) removeChild() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, k, _, err := s.schoolChild(c, adminOnly)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		if k.SchoolLink.State != content.LinkRemoved {
			k.SchoolLink = content.SchoolLink{State: content.LinkRemoved, RemovedAt: s.Clock.Now()}
			if err := s.Roster.UpdateChild(ctx, k); err != nil {
				return err
			}
		}
		for _, l := range k.Parents {
			if err := s.syncParentLink(ctx, l.ParentID, k); err != nil {
				return err
			}
		}
		if err := s.tellParentsChildLeft(c, sc, k); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "child.remove", sc.ID, "child:"+k.ID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// tellParentsChildLeft queues the one child_left notice to the parents
// who joined and are still linked to the child. Its id is fixed by the
// child and the day the school removed them, so a repeated or retried
// removal (or two at once) queues it once.
func (s *server) tellParentsChildLeft(c *fiber.Ctx, sc *content.School, k *content.Child) error {
	ctx := c.UserContext()
	var ids []string
	for _, id := range linkedParents(k) {
		pa, err := s.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if pa.CanSignIn() {
			ids = append(ids, id)
		}
	}
	id := "brd_" + content.KeyedHash(s.HashKey, "child_left:"+k.ID+":"+content.DayKey(k.SchoolLink.RemovedAt))[:20]
	params := map[string]string{"child_first_name": k.FirstName, "child_ids": k.ID, "link": s.deepLink("children", k.ID, "feed")}
	return s.notifyParents(c, id, sc.ID, string(notify.TemplateChildLeft), content.CategoryAccount, params, ids)
}

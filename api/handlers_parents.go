package api

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

type addParentRequest struct {
	ParentID     string `json:"parent_id"` // link an existing parent of this school
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Language     string `json:"language"`
	Relationship string `json:"relationship"`
}

// addParent links a parent to a child: an existing parent of the school by
// id (a sibling's parent), or a new invited parent from contact details.
func (s *server) addParent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, k, _, err := s.schoolChild(c, adminOnly)
		if err != nil {
			return err
		}
		var req addParentRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		ctx := c.UserContext()
		fe := content.FieldErrors{}
		checkName(fe, "relationship", req.Relationship, false)
		var pa *content.Parent
		if req.ParentID != "" {
			pa, err = s.parentAtSchool(ctx, sc, req.ParentID)
			if err != nil {
				fe.Add("parent_id", "must be a parent of a child at this school")
			}
			if req.FirstName != "" || req.LastName != "" || req.Email != "" || req.Phone != "" || req.Language != "" {
				fe.Add("parent_id", "give a parent_id or contact details, not both")
			}
		} else {
			pa = &content.Parent{ID: content.NewID("par"), State: content.ParentInvited, Language: sc.Language,
				Sessions: []string{}, CreatedAt: s.Clock.Now()}
			checkName(fe, "first_name", req.FirstName, true)
			checkName(fe, "last_name", req.LastName, true)
			pa.FirstName, pa.LastName = strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName)
			if req.Email != "" {
				if pa.Email = normalizeEmail(req.Email); pa.Email == "" {
					fe.Add("email", "must be an email address")
				}
			}
			if req.Phone != "" {
				if pa.Phone = normalizePhone(req.Phone, sc.Country); pa.Phone == "" {
					fe.Add("phone", "must be a valid phone number")
				}
			}
			if req.Email == "" && req.Phone == "" {
				fe.Add("phone", "give a mobile number or an email so the family can be invited")
			}
			if req.Language != "" {
				if !supportedLanguages[req.Language] {
					fe.Add("language", "must be one of en, cy, pl, ur, es, ro, ar")
				}
				pa.Language = req.Language
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if req.ParentID == "" {
			if err := s.Roster.CreateParent(ctx, pa); err != nil {
				return err
			}
		}
		if err := s.linkParentChild(ctx, pa, k, strings.TrimSpace(req.Relationship)); err != nil {
			return err
		}
		pa, err = s.Roster.Parent(ctx, pa.ID)
		if err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "parent.link", sc.ID, "parent:"+pa.ID)
		return c.Status(fiber.StatusCreated).JSON(toParentDTO(pa, sc.ID))
	}
}

// linkParentChild writes the link on the child (source of truth), then the
// parent's copy. Both writes are idempotent, so a retry after a failure
// between them converges.
func (s *server) linkParentChild(ctx context.Context, pa *content.Parent, k *content.Child, relationship string) error {
	now := s.Clock.Now()
	links := slices.Clone(k.Parents)
	found := false
	for i := range links {
		if links[i].ParentID == pa.ID {
			found = true
			if links[i].State != content.LinkLinked {
				links[i].State, links[i].LinkedAt, links[i].RemovedAt = content.LinkLinked, now, time.Time{}
			}
			if relationship != "" {
				links[i].Relationship = relationship
			}
		}
	}
	if !found {
		links = append(links, content.ParentLink{ParentID: pa.ID, Relationship: relationship, State: content.LinkLinked, LinkedAt: now})
	}
	if err := s.Roster.SetChildParentLinks(ctx, k.ID, links); err != nil {
		return err
	}
	k.Parents = links
	return s.syncParentLink(ctx, pa.ID, k)
}

// parentAtSchool loads a parent with at least one child link at the school.
func (s *server) parentAtSchool(ctx context.Context, sc *content.School, id string) (*content.Parent, error) {
	pa, err := s.Roster.Parent(ctx, id)
	if err != nil {
		return nil, content.Errorf(content.CodeNotFound, "no such parent")
	}
	for _, cl := range pa.Children {
		if cl.SchoolID == sc.ID {
			return pa, nil
		}
	}
	return nil, content.Errorf(content.CodeNotFound, "no such parent")
}

func (s *server) getParent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		pa, err := s.parentAtSchool(c.UserContext(), sc, c.Params("parentId"))
		if err != nil {
			return err
		}
		return c.JSON(toParentDTO(pa, sc.ID))
	}
}

// unlinkParent removes one parent↔child link (a parent's access to that
// child ends on their next request).
func (s *server) unlinkParent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, k, _, err := s.schoolChild(c, adminOnly)
		if err != nil {
			return err
		}
		parentID := c.Params("parentId")
		links := slices.Clone(k.Parents)
		found := false
		for i := range links {
			if links[i].ParentID == parentID {
				found = true
				if links[i].State == content.LinkLinked {
					links[i].State, links[i].RemovedAt = content.LinkRemoved, s.Clock.Now()
				}
			}
		}
		if !found {
			return content.Errorf(content.CodeNotFound, "no such parent link")
		}
		ctx := c.UserContext()
		if err := s.Roster.SetChildParentLinks(ctx, k.ID, links); err != nil {
			return err
		}
		k.Parents = links
		if err := s.syncParentLink(ctx, parentID, k); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "parent.unlink", sc.ID, "parent:"+parentID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

type inviteCodeDTO struct {
	Code      string    `json:"code"`
	Link      string    `json:"link"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issueInviteCode creates (or re-issues) the parent's invite code for this
// school and shows it once, for a printed letter. Re-issuing kills the old
// code. Sending invites by SMS and email is the invites pipeline's job.
func (s *server) issueInviteCode() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		pa, err := s.parentAtSchool(ctx, sc, c.Params("parentId"))
		if err != nil {
			return err
		}
		if pa.State != content.ParentInvited {
			return content.Errorf(content.CodeConflict, "this parent has already joined")
		}
		code, exp, err := IssueInviteCode(ctx, s.Roster, s.HashKey, sc.ID, pa.ID, s.Clock.Now())
		if err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "invite.issue", sc.ID, "parent:"+pa.ID)
		return c.Status(fiber.StatusCreated).JSON(inviteCodeDTO{Code: code, Link: s.AppURL + "/join/" + code, ExpiresAt: exp})
	}
}

// IssueInviteCode mints a random code for a parent at a school, records its
// hash, and retires the previous code. It returns the plaintext once.
func IssueInviteCode(ctx context.Context, r content.Roster, hashKey []byte, schoolID, parentID string, now time.Time) (string, time.Time, error) {
	code := content.NewInviteCode()
	exp, err := content.IssueInviteCode(ctx, r, hashKey, schoolID, parentID, code, now)
	if err != nil {
		return "", time.Time{}, err
	}
	return code, exp, nil
}

package api

import (
	"bytes"
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
	// Reason is required to link a parent the school unlinked from this
	// child (safeguarding); it is audited and clears the severance.
	Reason string `json:"reason"`
}

// linkReasonMax bounds the reason an admin gives for unlinking or
// re-linking a parent.
const linkReasonMax = 500

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
		reason := plainText(fe, "reason", req.Reason, linkReasonMax, false)
		if err := fe.Err(); err != nil {
			return err
		}
		// A parent the school severed from this child (by id, or by a
		// contact of theirs) is linked again only explicitly, with a reason.
		keys := content.SeveranceKeys(s.HashKey, pa.Phone, pa.Email)
		relink := k.SeveredFrom(pa.ID, keys)
		if relink && reason == "" {
			return &content.Error{Code: content.CodeUnprocessable,
				Message: "this parent was unlinked from this child; give a reason to link them again",
				Fields:  map[string]string{"reason": "required to link a parent the school unlinked from this child"}}
		}
		if req.ParentID == "" {
			if err := s.Roster.CreateParent(ctx, pa); err != nil {
				return err
			}
		}
		if relink {
			k.ClearSeverance(pa.ID, keys)
			if err := s.Roster.SetChildParentLinksAndSeverances(ctx, k.ID, k.Parents, k.Severed); err != nil {
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
		action := "parent.link"
		if relink {
			action = "parent.relink"
		}
		s.auditWithReason(c, p.Kind, p.ID(), action, sc.ID, "parent:"+pa.ID, reason)
		return c.Status(fiber.StatusCreated).JSON(toParentDTO(pa, sc.ID))
	}
}

// linkParentChild writes the link on the child (source of truth), then the
// parent's copy. Both writes are idempotent, so a retry after a failure
// between them converges. Every link an admin, a redemption or a claim
// makes goes through here, and so through content.Child.LinkParent: a
// parent the school severed from the child (by id or by contact) is
// refused with content.ErrSevered.
func (s *server) linkParentChild(ctx context.Context, pa *content.Parent, k *content.Child, relationship string) error {
	next := *k
	next.Parents = slices.Clone(k.Parents)
	if err := next.LinkParent(pa.ID, content.SeveranceKeys(s.HashKey, pa.Phone, pa.Email), relationship, s.Clock.Now()); err != nil {
		return err
	}
	if err := s.Roster.SetChildParentLinks(ctx, k.ID, next.Parents); err != nil {
		return err
	}
	k.Parents = next.Parents
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

type unlinkRequest struct {
	Reason string `json:"reason"`
}

// unlinkParent cuts a parent off from a child (safeguarding), with a
// reason that is audited and never shown to the parent. From the parent's
// next request they see nothing of the child; messages about the child
// still queued for them are dropped at send time; the severance is kept
// on the child, so no import, redemption or claim links them again (only
// an admin's explicit link with a reason does); and an invitation that
// was only for this school's severed children stops working.
func (s *server) unlinkParent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, k, _, err := s.schoolChild(c, adminOnly)
		if err != nil {
			return err
		}
		var req unlinkRequest
		if len(bytes.TrimSpace(c.Request().Body())) > 0 {
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
		}
		fe := content.FieldErrors{}
		reason := plainText(fe, "reason", req.Reason, linkReasonMax, false)
		if reason == "" && fe["reason"] == "" {
			fe.Add("reason", "required: why this parent is unlinked (kept in the audit log, never shown to the parent)")
		}
		if len(fe) > 0 {
			return &content.Error{Code: content.CodeUnprocessable, Message: "give a reason for unlinking this parent", Fields: fe}
		}
		ctx := c.UserContext()
		parentID := c.Params("parentId")
		pa, err := s.Roster.Parent(ctx, parentID)
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		var keys []string
		if pa != nil {
			keys = content.SeveranceKeys(s.HashKey, pa.Phone, pa.Email)
		}
		p := principal(c)
		if !k.SeverParent(parentID, keys, p.ID(), s.Clock.Now()) {
			return content.Errorf(content.CodeNotFound, "no such parent link")
		}
		if err := s.Roster.SetChildParentLinksAndSeverances(ctx, k.ID, k.Parents, k.Severed); err != nil {
			return err
		}
		if err := s.syncParentLink(ctx, parentID, k); err != nil {
			return err
		}
		if err := s.revokeInvitation(ctx, sc.ID, parentID); err != nil {
			return err
		}
		s.auditWithReason(c, p.Kind, p.ID(), "parent.unlink", sc.ID, "parent:"+parentID, reason)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// revokeInvitation kills the parent's invite code at the school when the
// parent has not joined and no longer has a child linked there: a code
// issued before an unlink must not open an account for severed children.
// The invitation is kept, naming no code, so the school's records (and
// the roster import) still count the family as invited.
func (s *server) revokeInvitation(ctx context.Context, schoolID, parentID string) error {
	pa, err := s.Roster.Parent(ctx, parentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if pa.State != content.ParentInvited || hasLinkedChildAt(pa, schoolID) {
		return nil
	}
	inv, err := s.Roster.Invitation(ctx, content.InvitationID(schoolID, parentID))
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if inv.CodeHash == "" {
		return nil
	}
	hash := inv.CodeHash
	inv.CodeHash = ""
	if err := s.Roster.PutInvitation(ctx, inv); err != nil {
		return err
	}
	if err := s.Roster.DeleteInviteCode(ctx, hash); err != nil && !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	return nil
}

// hasLinkedChildAt reports whether the parent has a live link to a child
// at the school.
func hasLinkedChildAt(pa *content.Parent, schoolID string) bool {
	return slices.ContainsFunc(pa.Children, func(l content.ChildLink) bool {
		return l.SchoolID == schoolID && l.State == content.LinkLinked
	})
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

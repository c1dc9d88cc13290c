package api

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

type consentDTO struct {
	PrivacyNoticeVersion string `json:"privacy_notice_version"`
	Accepted             bool   `json:"accepted"`
}

type redeemRequest struct {
	Code      string      `json:"code"`
	Email     string      `json:"email"`
	Phone     string      `json:"phone"`
	Password  string      `json:"password"`
	FirstName string      `json:"first_name"`
	LastName  string      `json:"last_name"`
	Language  string      `json:"language"`
	Consent   *consentDTO `json:"consent"`
}

type redeemResponse struct {
	tokenResponse
	ParentID string `json:"parent_id"`
}

// invalidCode is the one answer for unknown, used, expired and superseded
// codes: which of these it was is not the caller's business.
var invalidCode = &content.Error{Code: content.CodeInvalid, Message: "the invite code is not valid",
	Fields: map[string]string{"code": "invalid, used or expired"}}

// redeemInvite turns an invite code into a signed-in parent: it sets the
// sign-in (email or phone) and password, records consent, activates the
// invited parent and links the children. If the email or phone already has
// a parent account (a family joining a second school), the password must be
// that account's, and the invited children are linked to it instead.
func (s *server) redeemInvite() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		if err := s.hit(ctx, s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
			return err
		}
		ipKey := s.ipKey("redeem", c)
		if err := s.over(ctx, ipKey, s.Limits.RedeemPerIP); err != nil {
			return err
		}
		var req redeemRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		code, ok := content.NormalizeInviteCode(req.Code)
		if !ok {
			fe.Add("code", "must be the 8-character code from the invitation")
		}
		var by, ident string
		switch {
		case req.Email != "" && req.Phone != "":
			fe.Add("email", "give an email or a phone number, not both")
		case req.Email != "":
			if by, ident = "email", normalizeEmail(req.Email); ident == "" {
				fe.Add("email", "must be an email address")
			}
		case req.Phone != "":
			if by, ident = "phone", normalizePhone(req.Phone, "GB"); ident == "" {
				fe.Add("phone", "must be a valid mobile number")
			}
		default:
			fe.Add("email", "give the email or mobile number you will sign in with")
		}
		if p := s.Passwords.Check(req.Password); p != "" {
			fe.Add("password", p)
		}
		checkName(fe, "first_name", req.FirstName, false)
		checkName(fe, "last_name", req.LastName, false)
		if req.Language != "" && !supportedLanguages[req.Language] {
			fe.Add("language", "must be one of en, cy, pl, ur, es, ro, ar")
		}
		switch {
		case req.Consent == nil:
			fe.Add("consent", "required")
		case !req.Consent.Accepted:
			fe.Add("consent.accepted", "the privacy notice must be accepted to join")
		case req.Consent.PrivacyNoticeVersion == "" || len(req.Consent.PrivacyNoticeVersion) > 32:
			fe.Add("consent.privacy_notice_version", "required")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		hash := content.KeyedHash(s.HashKey, "invite:"+code)
		if err := s.hit(ctx, s.idKey("redeem", hash), s.Limits.RedeemPerCode); err != nil {
			return err
		}
		fail := func() error {
			_ = s.hit(ctx, ipKey, s.Limits.RedeemPerIP)
			return invalidCode
		}
		// Spend the code atomically before writing anything: of two racing
		// redemptions exactly one sees Uses == 0.
		ic, err := s.Roster.UseInviteCode(ctx, hash)
		if content.IsCode(err, content.CodeNotFound) {
			return fail()
		} else if err != nil {
			return err
		}
		if ic.Uses > 0 || !s.Clock.Now().Before(ic.ExpiresAt) {
			return fail()
		}
		inv, err := s.Roster.Invitation(ctx, ic.SchoolID+"|"+ic.ParentID)
		if err != nil || inv.CodeHash != hash || inv.Redeemed {
			return fail()
		}
		invited, err := s.Roster.Parent(ctx, ic.ParentID)
		// A code is for children at its school: once the school has
		// unlinked the invited parent from all of them, it stops working.
		if err != nil || invited.State != content.ParentInvited || !hasLinkedChildAt(invited, ic.SchoolID) {
			return fail()
		}
		parentID, err := s.joinParent(ctx, invited, req, by, ident)
		if err != nil {
			if rerr := s.Roster.ReleaseInviteCode(ctx, hash); rerr != nil {
				s.Log.Error("release invite code failed", "request_id", requestID(c), "err", rerr)
			}
			return err
		}
		inv.Redeemed = true
		if err := s.Roster.PutInvitation(ctx, inv); err != nil {
			return err
		}
		tokens, err := s.startSession(ctx, content.KindParent, parentID)
		if err != nil {
			return err
		}
		s.audit(c, content.KindParent, parentID, "invite.redeem", ic.SchoolID, "parent:"+parentID)
		return c.Status(fiber.StatusCreated).JSON(redeemResponse{tokenResponse: *tokens, ParentID: parentID})
	}
}

// joinParent activates the invited parent, or merges its children into an
// existing account that owns the sign-in identifier. It returns the id of
// the account the family signs in to.
func (s *server) joinParent(ctx context.Context, invited *content.Parent, req redeemRequest, by, ident string) (string, error) {
	key := loginKey(content.KindParent, by, ident)
	now := s.Clock.Now()
	consent := content.Consent{Kind: "privacy_notice", Version: req.Consent.PrivacyNoticeVersion, Accepted: true, At: now}
	existing, err := s.Identity.Login(ctx, key)
	if err == nil && existing.AccountID != invited.ID {
		acct, err := s.Roster.Parent(ctx, existing.AccountID)
		if err != nil {
			return "", err
		}
		ok, err := s.Passwords.Verify(ctx, acct.PasswordHash, req.Password)
		if err != nil {
			return "", err
		}
		if !ok || !acct.CanSignIn() {
			return "", &content.Error{Code: content.CodeConflict,
				Message: "this sign-in already has an account; use its password to add these children",
				Fields:  map[string]string{"password": "must be the existing account's password"}}
		}
		acct.Consents = append(acct.Consents, consent)
		if err := s.Roster.UpdateParent(ctx, acct); err != nil {
			return "", err
		}
		for _, cl := range invited.Children {
			if !cl.Readable() {
				continue // unlinked from the invited parent: nothing to carry over
			}
			k, err := s.Roster.Child(ctx, cl.ChildID)
			if err != nil {
				return "", err
			}
			if err := s.linkParentChild(ctx, acct, k, ""); errors.Is(err, content.ErrSevered) {
				continue // the school severed this account from the child
			} else if err != nil {
				return "", err
			}
			if err := s.unlinkMerged(ctx, invited.ID, k); err != nil {
				return "", err
			}
		}
		invited.State, invited.ClosedAt = content.ParentClosed, now
		if err := s.Roster.UpdateParent(ctx, invited); err != nil {
			return "", err
		}
		return acct.ID, nil
	} else if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return "", err
	}
	hash, err := s.Passwords.Hash(ctx, req.Password)
	if err != nil {
		return "", err
	}
	if err := s.Identity.PutLogin(ctx, &content.Login{Key: key, Kind: content.KindParent, AccountID: invited.ID}); err != nil && !content.IsCode(err, content.CodeConflict) {
		return "", err
	}
	invited.PasswordHash = hash
	if by == "email" {
		invited.Email = ident
	} else {
		invited.Phone = ident
	}
	if v := strings.TrimSpace(req.FirstName); v != "" {
		invited.FirstName = v
	}
	if v := strings.TrimSpace(req.LastName); v != "" {
		invited.LastName = v
	}
	if req.Language != "" {
		invited.Language = req.Language
	}
	invited.Consents = append(invited.Consents, consent)
	invited.State, invited.LastActiveAt = content.ParentActive, now
	if err := s.Roster.UpdateParent(ctx, invited); err != nil {
		return "", err
	}
	return invited.ID, nil
}

// unlinkMerged drops the placeholder parent's link from a child after the
// family's existing account has been linked instead.
func (s *server) unlinkMerged(ctx context.Context, placeholderID string, k *content.Child) error {
	k, err := s.Roster.Child(ctx, k.ID)
	if err != nil {
		return err
	}
	links := []content.ParentLink{}
	for _, l := range k.Parents {
		if l.ParentID != placeholderID {
			links = append(links, l)
		}
	}
	return s.Roster.SetChildParentLinks(ctx, k.ID, links)
}

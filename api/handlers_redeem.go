package api

import (
	"context"
	"errors"
	"fmt"
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

// redeemAnswer is the one answer to a redemption with a valid code, whether
// the sign-in was free (the invited parent is now active with it) or
// already had an account (nothing changed): it carries no tokens and
// nothing that differs, so it tells no one which addresses have accounts.
type redeemAnswer struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

var signInNext = redeemAnswer{Status: "sign_in",
	Message: "sign in with this email or phone number and your password, then add the invite code to your account"}

type claimRequest struct {
	Code    string      `json:"code"`
	Consent *consentDTO `json:"consent"`
}

// claimResponse lists the caller's children at the invite's school after
// the claim.
type claimResponse struct {
	SchoolID string       `json:"school_id"`
	Children []meChildDTO `json:"children"`
}

// invalidCode is the one answer for unknown, used, expired, superseded and
// (for a claim) someone else's codes: which of these it was is not the
// caller's business.
var invalidCode = &content.Error{Code: content.CodeInvalid, Message: "the invite code is not valid",
	Fields: map[string]string{"code": "invalid, used or expired"}}

var badCodeField = fmt.Sprintf("must be the %d-character code from the invitation", content.InviteCodeLength)

// checkConsent validates the privacy-notice acceptance a join carries.
func checkConsent(fe content.FieldErrors, c *consentDTO) {
	switch {
	case c == nil:
		fe.Add("consent", "required")
	case !c.Accepted:
		fe.Add("consent.accepted", "the privacy notice must be accepted to join")
	case c.PrivacyNoticeVersion == "" || len(c.PrivacyNoticeVersion) > 32:
		fe.Add("consent.privacy_notice_version", "required")
	}
}

// redeemInvite sets up the invited parent's sign-in. It never verifies a
// password and never signs anyone in: the app signs in with
// POST /v1/auth/login (where the sign-in throttles apply) and then claims
// the code with POST /v1/me/invites/claim.
//
// If the email or phone is free, the code is spent and the invited parent
// becomes active with that sign-in and password. If it already belongs to
// an account (a family joining a second school), nothing is written and
// the code stays unspent for that account to claim once signed in; the
// password is hashed all the same, so the answer takes as long. Both
// answer the same status and body.
func (s *server) redeemInvite() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		if err := s.hit(ctx, s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
			return err
		}
		var req redeemRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		code, ok := content.NormalizeInviteCode(req.Code)
		if !ok {
			fe.Add("code", badCodeField)
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
		checkConsent(fe, req.Consent)
		if err := fe.Err(); err != nil {
			return err
		}
		hash := content.KeyedHash(s.HashKey, "invite:"+code)
		keys, err := s.countRedeemAttempt(c, hash)
		if err != nil {
			return err
		}
		inv, invited, err := s.liveInvite(ctx, hash)
		if err != nil {
			return s.redeemFailed(c, err)
		}
		key := loginKey(content.KindParent, by, ident)
		existing, err := s.Identity.Login(ctx, key)
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		if err == nil && existing.AccountID != invited.ID {
			// Taken: the same hashing work as a new sign-in, then nothing.
			if _, err := s.Passwords.Hash(ctx, req.Password); err != nil {
				return err
			}
			return s.redeemAnswered(c, keys)
		}
		// Free: spend the code atomically before writing anything; of two
		// racing redemptions exactly one sees Uses == 0.
		ic, err := s.Roster.UseInviteCode(ctx, hash)
		if content.IsCode(err, content.CodeNotFound) {
			return s.redeemFailed(c, invalidCode)
		} else if err != nil {
			return err
		}
		if ic.Uses > 0 {
			return s.redeemFailed(c, invalidCode)
		}
		taken, err := s.activateInvited(ctx, invited, req, key, by, ident)
		if err != nil || taken {
			// Not activated (an error, or the sign-in was taken by a
			// racing request): the code is given back.
			if rerr := s.Roster.ReleaseInviteCode(ctx, hash); rerr != nil {
				s.Log.Error("release invite code failed", "request_id", requestID(c), "err", rerr)
			}
			if err != nil {
				return err
			}
			return s.redeemAnswered(c, keys)
		}
		inv.Redeemed, inv.RedeemedBy = true, invited.ID
		if err := s.Roster.PutInvitation(ctx, inv); err != nil {
			return err
		}
		s.audit(c, content.KindParent, invited.ID, "invite.redeem", inv.SchoolID, "parent:"+invited.ID)
		return s.redeemAnswered(c, keys)
	}
}

// countRedeemAttempt counts one redemption attempt per IP and per code
// before the code is looked up: one Redis round trip per counter, so no
// burst of parallel requests gets more guesses than the limits. It returns
// the counters' keys, whose attempts a valid code gives back.
func (s *server) countRedeemAttempt(c *fiber.Ctx, codeHash string) ([]string, error) {
	ctx := c.UserContext()
	ipKey, codeKey := s.ipKey("redeem", c), s.idKey("redeem", codeHash)
	if err := s.hit(ctx, ipKey, s.Limits.RedeemPerIP); err != nil {
		return nil, err
	}
	if err := s.hit(ctx, codeKey, s.Limits.RedeemPerCode); err != nil {
		return nil, err
	}
	return []string{ipKey, codeKey}, nil
}

// giveBack returns the attempts of a request whose code was valid: it was
// no guess, and only failures should use up the limits.
func (s *server) giveBack(c *fiber.Ctx, keys []string) {
	for _, k := range keys {
		if err := s.Throttle.Undo(c.UserContext(), k); err != nil {
			s.Log.Warn("give back redemption attempt failed", "request_id", requestID(c), "err", err)
		}
	}
}

// redeemAnswered gives the attempts back and sends the one answer.
func (s *server) redeemAnswered(c *fiber.Ctx, keys []string) error {
	s.giveBack(c, keys)
	return c.Status(fiber.StatusAccepted).JSON(signInNext)
}

// redeemFailed records a failed redemption or claim (the IP's and code's
// attempts stay counted) in the failure counter and in the global
// per-window count behind the alert gauge, and returns err.
func (s *server) redeemFailed(c *fiber.Ctx, err error) error {
	if err != invalidCode {
		return err // a store failure, not a bad code
	}
	s.Metrics.redeemFailure()
	l := s.Limits.RedeemFailureAlert
	over, _, herr := s.Throttle.Hit(c.UserContext(), redeemFailuresKey, l)
	switch {
	case herr != nil:
		s.Log.Warn("count failed redemption failed", "request_id", requestID(c), "err", herr)
	case over:
		s.Log.Warn("failed invite redemptions above the alert threshold", "request_id", requestID(c),
			"threshold", l.Max, "window", l.Window.String())
	}
	return invalidCode
}

// redeemFailuresKey counts failed redemptions of every IP in the current
// alert window.
const redeemFailuresKey = "redeem:failures:all"

// redeemFailureAlert reports whether failed redemptions in the current
// window are above the alert threshold (the gauge reads it at scrape).
func (s *server) redeemFailureAlert(ctx context.Context) (bool, error) {
	n, err := s.Throttle.Count(ctx, redeemFailuresKey)
	if err != nil {
		return false, err
	}
	return n > s.Limits.RedeemFailureAlert.Max, nil
}

// liveInvite loads a code that can still be redeemed, without spending it:
// not used, not expired, the invitation's current code, for a parent who
// has not joined. Anything else is invalidCode.
func (s *server) liveInvite(ctx context.Context, hash string) (*content.Invitation, *content.Parent, error) {
	ic, err := s.Roster.InviteCode(ctx, hash)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil, invalidCode
	} else if err != nil {
		return nil, nil, err
	}
	if ic.Uses > 0 || !s.Clock.Now().Before(ic.ExpiresAt) {
		return nil, nil, invalidCode
	}
	inv, invited, err := s.invitationOf(ctx, ic)
	if err != nil {
		return nil, nil, err
	}
	// A code is for children at its school: once the school has unlinked
	// the invited parent from all of them, it stops working.
	if inv.Redeemed || invited.State != content.ParentInvited || !hasLinkedChildAt(invited, ic.SchoolID) {
		return nil, nil, invalidCode
	}
	return inv, invited, nil
}

// invitationOf loads the invitation a code belongs to and its invited
// parent; a code that is no longer the invitation's is invalidCode.
func (s *server) invitationOf(ctx context.Context, ic *content.InviteCode) (*content.Invitation, *content.Parent, error) {
	inv, err := s.Roster.Invitation(ctx, ic.SchoolID+"|"+ic.ParentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil, invalidCode
	} else if err != nil {
		return nil, nil, err
	}
	if inv.CodeHash != ic.Hash {
		return nil, nil, invalidCode
	}
	invited, err := s.Roster.Parent(ctx, ic.ParentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil, invalidCode
	} else if err != nil {
		return nil, nil, err
	}
	return inv, invited, nil
}

// activateInvited gives the invited parent the sign-in and password and
// makes it active. It reports taken (and changes nothing) when another
// account took the sign-in first.
func (s *server) activateInvited(ctx context.Context, invited *content.Parent, req redeemRequest, key, by, ident string) (bool, error) {
	now := s.Clock.Now()
	hash, err := s.Passwords.Hash(ctx, req.Password)
	if err != nil {
		return false, err
	}
	err = s.Identity.PutLogin(ctx, &content.Login{Key: key, Kind: content.KindParent, AccountID: invited.ID})
	if content.IsCode(err, content.CodeConflict) {
		// Ours already (a retry after a failure below) or someone else's.
		l, lerr := s.Identity.Login(ctx, key)
		if lerr != nil {
			return false, lerr
		}
		if l.AccountID != invited.ID {
			return true, nil
		}
	} else if err != nil {
		return false, err
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
	invited.Consents = append(invited.Consents, content.Consent{Kind: "privacy_notice",
		Version: req.Consent.PrivacyNoticeVersion, Accepted: true, At: now})
	invited.State, invited.LastActiveAt = content.ParentActive, now
	return false, s.Roster.UpdateParent(ctx, invited)
}

// claimInvite adds an invite code's children to the signed-in parent's
// account: the code is spent, each child the invited parent is still
// linked to is linked to the caller (through linkParentChild, like every
// link), the invited placeholder closes, and the consent given is
// recorded. The caller claiming a code it already redeemed or claimed gets
// the same answer again; any other used, unknown, expired or superseded
// code is invalidCode. Attempts count like redemptions.
func (s *server) claimInvite() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		p := principal(c)
		var req claimRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		code, ok := content.NormalizeInviteCode(req.Code)
		if !ok {
			fe.Add("code", badCodeField)
		}
		if req.Consent != nil {
			checkConsent(fe, req.Consent)
		}
		if err := fe.Err(); err != nil {
			return err
		}
		claimKey := s.idKey("claim", p.ID())
		if err := s.hit(ctx, claimKey, s.Limits.RedeemPerIP); err != nil {
			return err
		}
		hash := content.KeyedHash(s.HashKey, "invite:"+code)
		keys, err := s.countRedeemAttempt(c, hash)
		if err != nil {
			return err
		}
		keys = append(keys, claimKey)
		ic, err := s.Roster.UseInviteCode(ctx, hash)
		if content.IsCode(err, content.CodeNotFound) {
			return s.redeemFailed(c, invalidCode)
		} else if err != nil {
			return err
		}
		inv, invited, err := s.invitationOf(ctx, ic)
		if err != nil {
			return s.redeemFailed(c, err)
		}
		if ic.Uses > 0 {
			// Used: only its own redeemer may ask again.
			if !inv.Redeemed || inv.RedeemedBy != p.ID() {
				return s.redeemFailed(c, invalidCode)
			}
			return s.claimAnswered(c, keys, p.ID(), inv.SchoolID)
		}
		release := func(err error) error {
			if rerr := s.Roster.ReleaseInviteCode(ctx, hash); rerr != nil {
				s.Log.Error("release invite code failed", "request_id", requestID(c), "err", rerr)
			}
			return err
		}
		if !s.Clock.Now().Before(ic.ExpiresAt) || inv.Redeemed || invited.State != content.ParentInvited ||
			!hasLinkedChildAt(invited, ic.SchoolID) {
			return release(s.redeemFailed(c, invalidCode))
		}
		if err := s.mergeInvited(ctx, p.ID(), invited, req.Consent); err != nil {
			return release(err)
		}
		inv.Redeemed, inv.RedeemedBy = true, p.ID()
		if err := s.Roster.PutInvitation(ctx, inv); err != nil {
			return err
		}
		s.audit(c, content.KindParent, p.ID(), "invite.claim", inv.SchoolID, "parent:"+p.ID())
		return s.claimAnswered(c, keys, p.ID(), inv.SchoolID)
	}
}

// claimAnswered gives the attempts back and lists the caller's linked
// children at the school, read afresh.
func (s *server) claimAnswered(c *fiber.Ctx, keys []string, parentID, schoolID string) error {
	ctx := c.UserContext()
	s.giveBack(c, keys)
	pa, err := s.Roster.Parent(ctx, parentID)
	if err != nil {
		return err
	}
	out := claimResponse{SchoolID: schoolID, Children: []meChildDTO{}}
	for _, cl := range pa.Children {
		if cl.SchoolID == schoolID && cl.State == content.LinkLinked {
			out.Children = append(out.Children, meChildDTO{ID: cl.ChildID, SchoolID: cl.SchoolID, FirstName: cl.FirstName, YearGroup: cl.YearGroup})
		}
	}
	return c.JSON(out)
}

// mergeInvited moves the invited placeholder's family onto the account:
// every child the placeholder is still linked to (on the child, the source
// of truth: a link the school removed stays removed) is linked to the
// account through linkParentChild and unlinked from the placeholder, which
// then closes. consent, when given, is recorded on the account.
func (s *server) mergeInvited(ctx context.Context, accountID string, invited *content.Parent, consent *consentDTO) error {
	now := s.Clock.Now()
	acct, err := s.Roster.Parent(ctx, accountID)
	if err != nil {
		return err
	}
	if consent != nil {
		acct.Consents = append(acct.Consents, content.Consent{Kind: "privacy_notice",
			Version: consent.PrivacyNoticeVersion, Accepted: true, At: now})
		if err := s.Roster.UpdateParent(ctx, acct); err != nil {
			return err
		}
	}
	for _, cl := range invited.Children {
		k, err := s.Roster.Child(ctx, cl.ChildID)
		if err != nil {
			return err
		}
		if !linkedTo(k, invited.ID) {
			continue
		}
		if err := s.linkParentChild(ctx, acct, k, ""); errors.Is(err, content.ErrSevered) {
			continue // the school severed this account (or its contacts) from the child
		} else if err != nil {
			return err
		}
		if err := s.unlinkMerged(ctx, invited.ID, k); err != nil {
			return err
		}
	}
	invited, err = s.Roster.Parent(ctx, invited.ID)
	if err != nil {
		return err
	}
	invited.State, invited.ClosedAt = content.ParentClosed, now
	return s.Roster.UpdateParent(ctx, invited)
}

// linkedTo reports whether the child's own record holds a live link to the
// parent.
func linkedTo(k *content.Child, parentID string) bool {
	for _, l := range k.Parents {
		if l.ParentID == parentID && l.State == content.LinkLinked {
			return true
		}
	}
	return false
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

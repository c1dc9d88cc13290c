package api

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

type loginRequest struct {
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Password string `json:"password"`
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// invalidCredentials is the one answer for every failed sign-in, so a caller
// cannot tell an unknown account from a wrong password.
var invalidCredentials = content.Errorf(content.CodeInvalidCredentials, "the email or password is not right")

// ipKey and idKey are throttle keys: keyed hashes, never raw values. An
// IP key counts the client's address (clientip.go), IPv6 by its /64.
func (s *server) ipKey(scope string, c *fiber.Ctx) string {
	return scope + ":ip:" + content.KeyedHash(s.HashKey, throttleAddr(s.clientIP(c)))[:32]
}

func (s *server) idKey(scope, v string) string {
	return scope + ":id:" + content.KeyedHash(s.HashKey, v)[:32]
}

// hit counts an event and turns an exceeded limit into a 429.
func (s *server) hit(ctx context.Context, key string, l Limit) error {
	over, ttl, err := s.Throttle.Hit(ctx, key, l)
	if err != nil {
		return content.Wrap(content.CodeUnavailable, err, "try again shortly")
	}
	if over {
		return throttled(int(ttl.Seconds()) + 1)
	}
	return nil
}

func (s *server) login() fiber.Handler {
	return func(c *fiber.Ctx) error {
		resp, err := s.passwordSignIn(c, false)
		if err != nil {
			return err
		}
		return c.JSON(resp)
	}
}

// passwordSignIn checks a sign-in request under the throttles and starts a
// session. staffOnly (the staff web app) refuses a parent's account with
// 403 after its password was verified, and starts no session for it.
func (s *server) passwordSignIn(c *fiber.Ctx, staffOnly bool) (*tokenResponse, error) {
	ctx := c.UserContext()
	if err := s.hit(ctx, s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
		return nil, err
	}
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return nil, err
	}
	fe := content.FieldErrors{}
	ident, by := "", ""
	switch {
	case req.Email != "" && req.Phone != "":
		fe.Add("email", "give an email or a phone number, not both")
	case req.Email != "":
		ident, by = normalizeEmail(req.Email), "email"
		if ident == "" {
			fe.Add("email", "must be an email address")
		}
	case req.Phone != "":
		ident, by = normalizePhone(req.Phone, "GB"), "phone"
		if ident == "" {
			fe.Add("phone", "must be a phone number in international form")
		}
	default:
		fe.Add("email", "required")
	}
	if req.Password == "" {
		fe.Add("password", "required")
	} else if len(req.Password) > 4*maxPasswordLen {
		fe.Add("password", "too long")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	// Every attempt is counted before the password is verified, in one
	// Redis round trip per counter: of any burst, however parallel, at
	// most LoginPerAccount.Max attempts per account reach the (slow,
	// guessable) verification in a window. A success then clears the
	// account's counter and gives its attempt back to the IP.
	ipKey, acctKey := s.ipKey("login", c), s.idKey("login", by+":"+ident)
	if err := s.hit(ctx, ipKey, s.Limits.LoginPerIP); err != nil {
		return nil, err
	}
	if err := s.hit(ctx, acctKey, s.Limits.LoginPerAccount); err != nil {
		return nil, err
	}
	kind, id, err := s.checkCredentials(ctx, by, ident, req.Password)
	if err != nil {
		if errors.Is(err, invalidCredentials) {
			s.audit(c, "", "", "auth.login_failed", "", "")
		}
		return nil, err
	}
	if err := s.Throttle.Reset(ctx, acctKey); err != nil {
		s.Log.Warn("clear sign-in attempts failed", "request_id", requestID(c), "err", err)
	}
	if err := s.Throttle.Undo(ctx, ipKey); err != nil {
		s.Log.Warn("give back sign-in attempt failed", "request_id", requestID(c), "err", err)
	}
	if staffOnly && kind != content.KindStaff {
		return nil, content.Errorf(content.CodeForbidden, "this app is for school staff; parents use the Hometime mobile app")
	}
	resp, err := s.startSession(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	s.audit(c, kind, id, "auth.login", "", string(kind)+":"+id)
	if kind == content.KindParent {
		// A sign-in cancels a pending inactivity notice and restarts
		// the retention clock (warned → active).
		if err := s.Retention.ParentSignedIn(ctx, id, s.Clock.Now()); err != nil {
			s.Log.Warn("record sign-in for retention failed", "request_id", requestID(c), "account_id", id, "err", err)
		}
	}
	s.recordSignIn(c, kind, id)
	return resp, nil
}

// checkCredentials looks the identifier up as staff and as parent (one
// person can be both) and verifies the password. Unknown identifiers spend
// the same hashing time as known ones.
func (s *server) checkCredentials(ctx context.Context, by, ident, password string) (content.AccountKind, string, error) {
	tried := false
	for _, kind := range []content.AccountKind{content.KindStaff, content.KindParent} {
		if by == "phone" && kind == content.KindStaff {
			continue
		}
		l, err := s.Identity.Login(ctx, loginKey(kind, by, ident))
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return "", "", err
		}
		hash, canSignIn, err := s.accountHash(ctx, kind, l.AccountID)
		if err != nil {
			return "", "", err
		}
		tried = true
		ok, err := s.Passwords.Verify(ctx, hash, password)
		if err != nil {
			return "", "", err
		}
		if ok && canSignIn {
			return kind, l.AccountID, nil
		}
	}
	if !tried {
		s.Passwords.VerifyDummy(ctx, password)
	}
	return "", "", invalidCredentials
}

func (s *server) accountHash(ctx context.Context, kind content.AccountKind, id string) (string, bool, error) {
	if kind == content.KindStaff {
		st, err := s.Roster.Staff(ctx, id)
		if err != nil {
			return "", false, err
		}
		return st.PasswordHash, true, nil
	}
	p, err := s.Roster.Parent(ctx, id)
	if err != nil {
		return "", false, err
	}
	return p.PasswordHash, p.CanSignIn(), nil
}

// startSession creates a session family, lists it on the account and
// returns the first token pair.
func (s *server) startSession(ctx context.Context, kind content.AccountKind, id string) (*tokenResponse, error) {
	now := s.Clock.Now()
	sess := &content.Session{ID: content.NewID("ses"), Kind: kind, AccountID: id, CreatedAt: now, ExpiresAt: now.Add(RefreshTTL)}
	if err := s.Identity.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	if err := s.Identity.AddAccountSession(ctx, kind, id, sess.ID, maxSessionsPerAccount); err != nil {
		return nil, err
	}
	if err := s.Identity.TouchActive(ctx, kind, id, now); err != nil {
		return nil, err
	}
	return s.issuePair(ctx, sess)
}

func (s *server) issuePair(ctx context.Context, sess *content.Session) (*tokenResponse, error) {
	access, err := s.Tokens.Issue(sess.Kind, sess.AccountID, sess.ID)
	if err != nil {
		return nil, err
	}
	refresh := content.NewSecret()
	if err := s.Identity.PutRefreshToken(ctx, &content.RefreshToken{
		Hash: content.KeyedHash(s.HashKey, "refresh:"+refresh), SessionID: sess.ID, CreatedAt: s.Clock.Now(),
	}); err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(AccessTTL.Seconds())}, nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// refresh rotates a refresh token. A token used twice means it leaked: the
// whole family is revoked and every device on it must sign in again.
func (s *server) refresh() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		if err := s.hit(ctx, s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
			return err
		}
		var req refreshRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if req.RefreshToken == "" {
			return (content.FieldErrors{"refresh_token": "required"}).Err()
		}
		if len(req.RefreshToken) > 256 {
			return (content.FieldErrors{"refresh_token": "is not a refresh token"}).Err()
		}
		resp, err := s.rotateRefresh(c, req.RefreshToken, false)
		if err != nil {
			return err
		}
		return c.JSON(resp)
	}
}

// rotateRefresh spends a refresh token and issues the session's next pair.
// A replayed token revokes the session. staffOnly refuses a parent's
// session (the staff web app's cookie never holds one).
func (s *server) rotateRefresh(c *fiber.Ctx, raw string, staffOnly bool) (*tokenResponse, error) {
	ctx := c.UserContext()
	denied := content.Errorf(content.CodeUnauthenticated, "the refresh token is not valid; sign in again")
	tok, err := s.Identity.UseRefreshToken(ctx, content.KeyedHash(s.HashKey, "refresh:"+raw))
	if content.IsCode(err, content.CodeNotFound) {
		return nil, denied
	} else if err != nil {
		return nil, err
	}
	sess, err := s.Identity.Session(ctx, tok.SessionID)
	if err != nil {
		if content.IsCode(err, content.CodeNotFound) {
			return nil, denied
		}
		return nil, err
	}
	if tok.Uses > 0 {
		if err := s.revokeSession(ctx, sess); err != nil {
			return nil, err
		}
		s.Log.Warn("refresh token replayed; session revoked", "request_id", requestID(c), "session_id", sess.ID)
		s.audit(c, sess.Kind, sess.AccountID, "auth.refresh_replay", "", string(sess.Kind)+":"+sess.AccountID)
		return nil, denied
	}
	now := s.Clock.Now()
	if !sess.RevokedAt.IsZero() || !now.Before(sess.ExpiresAt) || (staffOnly && sess.Kind != content.KindStaff) {
		return nil, denied
	}
	if _, err := s.loadPrincipal(ctx, sess.Kind, sess.AccountID, sess.ID); err != nil {
		return nil, denied
	}
	return s.issuePair(ctx, sess)
}

func (s *server) revokeSession(ctx context.Context, sess *content.Session) error {
	if err := s.Identity.RevokeSession(ctx, sess.ID, s.Clock.Now()); err != nil {
		return err
	}
	err := s.Identity.RemoveAccountSession(ctx, sess.Kind, sess.AccountID, sess.ID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	}
	return err
}

// logout ends the caller's session: its access and refresh tokens stop
// working at once.
func (s *server) logout() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		sess, err := s.Identity.Session(c.UserContext(), p.SessionID)
		if err != nil {
			return err
		}
		if err := s.revokeSession(c.UserContext(), sess); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "auth.logout", "", string(p.Kind)+":"+p.ID())
		return c.SendStatus(fiber.StatusNoContent)
	}
}

type resetRequest struct {
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// ResetTokenTTL is how long an emailed password-reset link works.
const ResetTokenTTL = time.Hour

// requestPasswordReset always answers 202 with the same body for a given
// kind of identifier. For a known account it records a request the worker
// turns into an email (a link) or, for a parent's mobile number, a text
// (a short code); the worker mints both, so neither passes through Redis.
// Every request counts against the address's and the identifier's limits
// before anything is looked up.
func (s *server) requestPasswordReset() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		if err := s.hit(ctx, s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
			return err
		}
		var req resetRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		by, ident := "email", ""
		switch {
		case req.Email != "" && req.Phone != "":
			return (content.FieldErrors{"email": "give an email or a phone number, not both"}).Err()
		case req.Phone != "":
			by, ident = "phone", normalizePhone(req.Phone, "GB")
			if ident == "" {
				return (content.FieldErrors{"phone": "must be a phone number in international form"}).Err()
			}
		default:
			ident = normalizeEmail(req.Email)
			if ident == "" {
				return (content.FieldErrors{"email": "must be an email address"}).Err()
			}
		}
		if err := s.hit(ctx, s.ipKey("reset", c), s.Limits.ResetPerIP); err != nil {
			return err
		}
		accepted := fiber.Map{"status": "accepted", "message": "if an account uses this address, a reset link is on its way"}
		if by == "phone" {
			accepted["message"] = "if an account uses this number, a reset code is on its way by text"
		}
		key := s.idKey("reset", ident)
		if by == "phone" {
			key = s.idKey("reset", "phone:"+ident)
		}
		over, _, err := s.Throttle.Hit(ctx, key, s.Limits.ResetPerAccount)
		if err != nil || over {
			return c.Status(fiber.StatusAccepted).JSON(accepted) // same answer: no enumeration
		}
		if by == "phone" {
			// Only parents sign in by phone.
			l, err := s.Identity.Login(ctx, loginKey(content.KindParent, "phone", ident))
			if err == nil {
				if err := s.queueAccountEmail(ctx, content.KindParent, l.AccountID, content.PurposeResetSMS); err != nil {
					return err
				}
			} else if !content.IsCode(err, content.CodeNotFound) {
				return err
			}
			return c.Status(fiber.StatusAccepted).JSON(accepted)
		}
		for _, kind := range []content.AccountKind{content.KindStaff, content.KindParent} {
			l, err := s.Identity.Login(ctx, loginKey(kind, "email", ident))
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if err := s.queueAccountEmail(ctx, kind, l.AccountID, "reset"); err != nil {
				return err
			}
		}
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
}

// queueAccountEmail records a request for the account-message worker: a
// reset or welcome email, or a reset code by text (PurposeResetSMS).
func (s *server) queueAccountEmail(ctx context.Context, kind content.AccountKind, accountID, purpose string) error {
	r := &content.ResetRequest{ID: content.NewID("rst"), Kind: kind, AccountID: accountID, Purpose: purpose, CreatedAt: s.Clock.Now()}
	if err := s.Identity.PutResetRequest(ctx, r); err != nil {
		return err
	}
	t, err := tasks.NewAccountEmail(r.ID)
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, s.Tasks, t); err != nil {
		return content.Wrap(content.CodeUnavailable, err, "could not queue the email; try again")
	}
	return nil
}

type resetConfirmRequest struct {
	Token    string `json:"token"`
	Phone    string `json:"phone"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

// confirmPasswordReset sets a new password with an emailed link's token
// or a texted code, and signs out every session on the account.
func (s *server) confirmPasswordReset() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		if err := s.hit(ctx, s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
			return err
		}
		var req resetConfirmRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		byCode := req.Token == "" && (req.Phone != "" || req.Code != "")
		phone, code := "", ""
		switch {
		case req.Token != "" && (req.Phone != "" || req.Code != ""):
			fe.Add("token", "give the token from a reset link, or a phone number and code, not both")
		case byCode:
			if phone = normalizePhone(req.Phone, "GB"); phone == "" {
				fe.Add("phone", "must be a phone number in international form")
			}
			if code = strings.Join(strings.Fields(req.Code), ""); !isResetCode(code) {
				fe.Add("code", fmt.Sprintf("must be the %d-digit code from the text", content.ResetCodeDigits))
			}
		case req.Token == "" || len(req.Token) > 256:
			fe.Add("token", "required")
		}
		if p := s.Passwords.Check(req.Password); p != "" {
			fe.Add("password", p)
		}
		if err := fe.Err(); err != nil {
			return err
		}
		kind, id, err := s.spendResetCredential(c, req.Token, phone, code, byCode)
		if err != nil {
			return err
		}
		hash, err := s.Passwords.Hash(ctx, req.Password)
		if err != nil {
			return err
		}
		if err := s.Identity.SetPassword(ctx, kind, id, hash); err != nil {
			return err
		}
		if err := s.Identity.ClearAccountSessions(ctx, kind, id); err != nil {
			return err
		}
		s.audit(c, kind, id, "auth.password_reset", "", string(kind)+":"+id)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

func isResetCode(v string) bool {
	if len(v) != content.ResetCodeDigits {
		return false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// spendResetCredential spends an emailed token or a texted code and
// returns the account it resets.
func (s *server) spendResetCredential(c *fiber.Ctx, token, phone, code string, byCode bool) (content.AccountKind, string, error) {
	if byCode {
		return s.spendResetCode(c, phone, code)
	}
	ctx := c.UserContext()
	denied := content.Errorf(content.CodeInvalid, "the reset link is not valid or has expired")
	denied.Fields = map[string]string{"token": "invalid or expired"}
	tok, err := s.Identity.UseResetToken(ctx, content.KeyedHash(s.HashKey, "reset:"+token))
	if content.IsCode(err, content.CodeNotFound) {
		return "", "", denied
	} else if err != nil {
		return "", "", err
	}
	if tok.Uses > 0 || !s.Clock.Now().Before(tok.ExpiresAt) {
		return "", "", denied
	}
	return tok.Kind, tok.AccountID, nil
}

// spendResetCode checks a texted code. Every guess is counted before it is
// checked: per address and per number by the throttles, and per code on
// the code's document (ResetCodeMaxAttempts). An unknown number, no code,
// a used, expired or over-guessed code and a wrong code all get the same
// answer, after the same store calls.
func (s *server) spendResetCode(c *fiber.Ctx, phone, code string) (content.AccountKind, string, error) {
	ctx := c.UserContext()
	if err := s.hit(ctx, s.ipKey("reset-code", c), s.Limits.LoginPerIP); err != nil {
		return "", "", err
	}
	if err := s.hit(ctx, s.idKey("reset-code", "phone:"+phone), s.Limits.LoginPerAccount); err != nil {
		return "", "", err
	}
	denied := content.Errorf(content.CodeInvalid, "the code is not right or has expired")
	denied.Fields = map[string]string{"code": "invalid or expired"}
	kind := content.KindParent
	l, err := s.Identity.Login(ctx, loginKey(kind, "phone", phone))
	id := ""
	if err == nil {
		id = l.AccountID
	} else if content.IsCode(err, content.CodeNotFound) {
		id = "unknown:" + content.KeyedHash(s.HashKey, "phone:"+phone)[:32] // no such document
	} else {
		return "", "", err
	}
	rc, err := s.Identity.CountResetCodeAttempt(ctx, kind, id)
	if content.IsCode(err, content.CodeNotFound) {
		return "", "", denied
	} else if err != nil {
		return "", "", err
	}
	want := content.ResetCodeHash(s.HashKey, kind, id, code)
	if rc.Attempts > content.ResetCodeMaxAttempts || !s.Clock.Now().Before(rc.ExpiresAt) ||
		!hmac.Equal([]byte(rc.Hash), []byte(want)) {
		return "", "", denied
	}
	spent, err := s.Identity.SpendResetCode(ctx, kind, id, want)
	if err != nil {
		return "", "", err
	}
	if !spent {
		return "", "", denied
	}
	return kind, id, nil
}

// audit records an event; a failure is logged, not surfaced, because the
// action it describes has already happened.
func (s *server) audit(c *fiber.Ctx, kind content.AccountKind, actorID, action, schoolID, subject string) {
	s.auditWithReason(c, kind, actorID, action, schoolID, subject, "")
}

// auditWithReason records an audit event with the staff member's reason
// for it (kept in the audit record only, never logged).
func (s *server) auditWithReason(c *fiber.Ctx, kind content.AccountKind, actorID, action, schoolID, subject, reason string) {
	e := &content.AuditEvent{ID: content.NewID("aud"), At: s.Clock.Now(), ActorKind: kind, ActorID: actorID,
		Action: action, SchoolID: schoolID, Subject: subject, IP: auditAddr(s.clientIP(c)), Reason: reason}
	if err := s.Audit.RecordAudit(c.UserContext(), e); err != nil {
		s.Log.Error("audit write failed", "request_id", requestID(c), "action", action, "err", err)
	}
}

package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Step-up: closing an account, erasing it and ending a school's
// subscription cannot be undone by the person who did them, so each needs
// the account's password in the request itself. A stolen access or refresh
// token alone is not enough, however recently its session signed in: the
// request is the fresh authentication, with nothing to remember between
// requests.

// reauthRequired is the answer to a missing or wrong password: 403 (the
// session is fine; a 401 would send apps to sign in again) with the field.
func reauthRequired(problem string) error {
	return &content.Error{Code: content.CodeReauthRequired, Message: "confirm this with your password",
		Fields: map[string]string{"password": problem}}
}

// loginThrottleKeys are the per-account sign-in failure counters of the
// caller: one per identifier the account signs in with, the same keys the
// login handler counts.
func (s *server) loginThrottleKeys(p *content.Principal) []string {
	var keys []string
	switch {
	case p.Staff != nil:
		keys = append(keys, s.idKey("login", "email:"+normalizeEmailOrLower(p.Staff.Email)))
	case p.Parent != nil:
		if p.Parent.Email != "" {
			keys = append(keys, s.idKey("login", "email:"+normalizeEmailOrLower(p.Parent.Email)))
		}
		if p.Parent.Phone != "" {
			keys = append(keys, s.idKey("login", "phone:"+p.Parent.Phone))
		}
	}
	return keys
}

func normalizeEmailOrLower(e string) string {
	if n := normalizeEmail(e); n != "" {
		return n
	}
	return e
}

// confirmPassword checks the caller's password for a destructive action.
// Every attempt counts against the account's sign-in failure throttle
// before the hash is verified (count first: concurrent guesses cannot all
// slip under the limit); a right password clears the count as a sign-in
// does. A wrong one is audited under action+"_refused".
func (s *server) confirmPassword(c *fiber.Ctx, password, action, schoolID, subject string) error {
	if password == "" {
		return reauthRequired("required")
	}
	if len(password) > 4*maxPasswordLen {
		return reauthRequired("is not right")
	}
	ctx := c.UserContext()
	p := principal(c)
	keys := s.loginThrottleKeys(p)
	for _, k := range keys {
		if err := s.hit(ctx, k, s.Limits.LoginPerAccount); err != nil {
			return err
		}
	}
	hash := ""
	if p.Staff != nil {
		hash = p.Staff.PasswordHash
	} else if p.Parent != nil {
		hash = p.Parent.PasswordHash
	}
	if hash == "" {
		s.Passwords.VerifyDummy(ctx, password)
		s.audit(c, p.Kind, p.ID(), action+"_refused", schoolID, subject)
		return reauthRequired("is not right")
	}
	ok, err := s.Passwords.Verify(ctx, hash, password)
	if err != nil {
		return err
	}
	if !ok {
		s.audit(c, p.Kind, p.ID(), action+"_refused", schoolID, subject)
		return reauthRequired("is not right")
	}
	for _, k := range keys {
		_ = s.Throttle.Reset(ctx, k)
	}
	return nil
}

// passwordBody is the body of a step-up action that needs nothing else.
// An empty body is read as no password (403), not as malformed (400).
type passwordBody struct {
	Password string `json:"password"`
}

func decodeOptionalJSON(c *fiber.Ctx, v any) error {
	if len(c.Request().Body()) == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

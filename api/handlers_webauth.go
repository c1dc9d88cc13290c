package api

import (
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// The staff web app signs in without ever letting page script hold a
// refresh token: the access token stays in the page's memory, and the
// refresh token travels in an HttpOnly, Secure, SameSite=Strict cookie
// sent only to /v1/auth/web. Those routes also refuse any request that
// does not carry the app's X-Requested-With header (a cross-site form
// cannot set it, and a cross-origin fetch with it needs a CORS preflight
// this API never grants) or whose Origin or Sec-Fetch-Site names another
// site.

const (
	// WebAuthPath is the cookie's path: the one place it is sent.
	WebAuthPath = "/v1/auth/web"
	// RefreshCookie holds the web app's refresh token.
	RefreshCookie = "hometime_refresh"
	// WebRequestHeader and WebRequestValue mark the web app's own calls.
	WebRequestHeader = "X-Requested-With"
	WebRequestValue  = "hometime-web"
)

// webTokenResponse is a sign-in or refresh answer for the web app: the
// refresh token is in the cookie, never in the body.
type webTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// sameSite refuses a cookie-route request not made by the web app on this
// origin.
func (s *server) sameSite(c *fiber.Ctx) error {
	refused := content.Errorf(content.CodeForbidden, "this request must come from the Hometime web app on this site")
	if c.Get(WebRequestHeader) != WebRequestValue {
		return refused
	}
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return refused
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || u.Host != string(c.Request().Host()) {
			return refused
		}
	}
	return nil
}

func setRefreshCookie(c *fiber.Ctx, token string) {
	// A session cookie: closing the browser ends the web sign-in, which
	// suits a shared school computer. The session itself still expires
	// at its absolute limit, checked on every refresh.
	c.Cookie(&fiber.Cookie{Name: RefreshCookie, Value: token, Path: WebAuthPath,
		HTTPOnly: true, Secure: true, SameSite: fiber.CookieSameSiteStrictMode})
}

func clearRefreshCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: RefreshCookie, Value: "", Path: WebAuthPath, MaxAge: -1,
		Expires: time.Unix(0, 0), HTTPOnly: true, Secure: true, SameSite: fiber.CookieSameSiteStrictMode})
}

func webTokens(t *tokenResponse) webTokenResponse {
	return webTokenResponse{AccessToken: t.AccessToken, TokenType: t.TokenType, ExpiresIn: t.ExpiresIn}
}

// webLogin is POST /v1/auth/web/login: a staff sign-in under the same
// throttles as /v1/auth/login. A parent's account is refused (403).
func (s *server) webLogin() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.sameSite(c); err != nil {
			return err
		}
		resp, err := s.passwordSignIn(c, true)
		if err != nil {
			return err
		}
		setRefreshCookie(c, resp.RefreshToken)
		return c.JSON(webTokens(resp))
	}
}

// webRefresh is POST /v1/auth/web/refresh: it rotates the cookie's refresh
// token (a replay revokes the session, as for the apps) and returns a new
// access token. A failure clears the cookie.
func (s *server) webRefresh() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.sameSite(c); err != nil {
			return err
		}
		if err := s.hit(c.UserContext(), s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
			return err
		}
		raw := c.Cookies(RefreshCookie)
		if raw == "" || len(raw) > 256 {
			clearRefreshCookie(c)
			return content.Errorf(content.CodeUnauthenticated, "sign in first")
		}
		resp, err := s.rotateRefresh(c, raw, true)
		if err != nil {
			if content.IsCode(err, content.CodeUnauthenticated) {
				clearRefreshCookie(c)
			}
			return err
		}
		setRefreshCookie(c, resp.RefreshToken)
		return c.JSON(webTokens(resp))
	}
}

// webLogout is POST /v1/auth/web/logout: it spends the cookie's refresh
// token, revokes its session (the access token stops working at once) and
// clears the cookie. Without a live cookie there is nothing to end, and
// the answer is the same 204.
func (s *server) webLogout() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.sameSite(c); err != nil {
			return err
		}
		ctx := c.UserContext()
		if err := s.hit(ctx, s.ipKey("auth", c), s.Limits.AttemptsPerIP); err != nil {
			return err
		}
		clearRefreshCookie(c)
		raw := c.Cookies(RefreshCookie)
		if raw == "" || len(raw) > 256 {
			return c.SendStatus(fiber.StatusNoContent)
		}
		tok, err := s.Identity.UseRefreshToken(ctx, content.KeyedHash(s.HashKey, "refresh:"+raw))
		if content.IsCode(err, content.CodeNotFound) {
			return c.SendStatus(fiber.StatusNoContent)
		} else if err != nil {
			return err
		}
		sess, err := s.Identity.Session(ctx, tok.SessionID)
		if content.IsCode(err, content.CodeNotFound) {
			return c.SendStatus(fiber.StatusNoContent)
		} else if err != nil {
			return err
		}
		if err := s.revokeSession(ctx, sess); err != nil {
			return err
		}
		s.audit(c, sess.Kind, sess.AccountID, "auth.logout", "", string(sess.Kind)+":"+sess.AccountID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

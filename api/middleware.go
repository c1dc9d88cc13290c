package api

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

const (
	localRequestID = "request_id"
	localPrincipal = "principal"
	// localFeedView holds the child's feed view feedAuthenticate read.
	localFeedView = "feed_view"
	// localFeedKept marks a principal taken from a kept feed access.
	localFeedKept = "feed_kept"
)

// requestID gives every request an id, echoed in X-Request-ID and logs.
// A client-supplied id is kept only if it is short and plain.
func (s *server) requestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		id = content.NewID("req")
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// routeOf is the matched route template ("/v1/schools/:schoolId"), never
// the raw path, so logs and metric labels hold no IDs.
func routeOf(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "" {
		return r.Path
	}
	return "unmatched"
}

// observe logs one line per request and records its latency. It logs the
// route template and status only: no query strings, bodies or addresses.
func (s *server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	route := routeOf(c)
	d := time.Since(start)
	s.Metrics.observe(route, c.Method(), status, d)
	s.Log.Info("http", "request_id", requestID(c), "method", c.Method(), "route", route,
		"status", status, "ms", float64(d.Microseconds())/1000)
	return nil
}

// securityHeaders are set on every response: this is a JSON API, nothing in
// it should be sniffed, framed, cached by shared caches or given a referrer.
func securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	return c.Next()
}

// activeEvery bounds how often a request refreshes last-active: the
// inactivity clock counts days, so one write an hour per account is enough.
const activeEvery = time.Hour

// maxSessionsPerAccount signs out the oldest device beyond this many.
const maxSessionsPerAccount = 10

// authenticate verifies the bearer token and loads the caller with one
// lookup by _id. The session must still be listed on the account, so
// logout, closure and replay revocation take effect on the next request.
func (s *server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || raw == "" {
		return content.Errorf(content.CodeUnauthenticated, "sign in first")
	}
	kind, id, sid, err := s.Tokens.Verify(raw)
	if err != nil {
		return err
	}
	p, err := s.loadPrincipal(c.UserContext(), kind, id, sid)
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

// feedAuthenticate is authenticate for the newest page of a child's feed,
// the request parents make most: it reads the child's feed view first,
// and a parent whose access the view still keeps for this session is
// answered from that one read (content.FeedView says why a kept access is
// never one a change has since taken away). Anyone else, and later pages,
// get the full check; the view read stays with the request so the page
// can be answered from it and saved to it.
func (s *server) feedAuthenticate(c *fiber.Ctx) error {
	raw, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || raw == "" {
		return content.Errorf(content.CodeUnauthenticated, "sign in first")
	}
	kind, id, sid, err := s.Tokens.Verify(raw)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if kind == content.KindParent && c.Query("cursor") == "" {
		childID := c.Params("childId")
		view, err := s.ParentFeed.FeedView(ctx, childID, s.Clock.Now())
		if err != nil {
			return err
		}
		c.Locals(localFeedView, view)
		if a, ok := view.Access[id]; ok && a.HasSession(sid) {
			// Only what the feed reads: the reader, their language and
			// their link to this child.
			c.Locals(localPrincipal, &content.Principal{Kind: kind, SessionID: sid, Parent: &content.Parent{
				ID: id, Language: a.Language, State: content.ParentActive, Sessions: a.Sessions,
				Children: []content.ChildLink{{ChildID: childID, SchoolID: a.SchoolID, State: content.LinkLinked}}}})
			c.Locals(localFeedKept, true)
			return c.Next()
		}
	}
	p, err := s.loadPrincipal(ctx, kind, id, sid)
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

func (s *server) loadPrincipal(ctx context.Context, kind content.AccountKind, id, sid string) (*content.Principal, error) {
	denied := content.Errorf(content.CodeUnauthenticated, "the session has ended; sign in again")
	p := &content.Principal{Kind: kind, SessionID: sid}
	var sessions []string
	var last time.Time
	switch kind {
	case content.KindStaff:
		st, err := s.Roster.Staff(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			return nil, denied
		} else if err != nil {
			return nil, err
		}
		p.Staff, sessions, last = st, st.Sessions, st.LastActiveAt
	case content.KindParent:
		pa, err := s.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			return nil, denied
		} else if err != nil {
			return nil, err
		}
		if !pa.CanSignIn() {
			return nil, denied
		}
		p.Parent, sessions, last = pa, pa.Sessions, pa.LastActiveAt
	}
	live := false
	for _, x := range sessions {
		if x == sid {
			live = true
			break
		}
	}
	if !live {
		return nil, denied
	}
	if now := s.Clock.Now(); now.Sub(last) > activeEvery {
		if err := s.Identity.TouchActive(ctx, kind, id, now); err != nil {
			s.Log.Warn("touch last-active failed", "account_kind", kind, "account_id", id, "err", err)
		}
	}
	return p, nil
}

func principal(c *fiber.Ctx) *content.Principal {
	p, _ := c.Locals(localPrincipal).(*content.Principal)
	return p
}

// staffOnly refuses parents with 403 (they are known, just not allowed).
func staffOnly(c *fiber.Ctx) error {
	if p := principal(c); p == nil || p.Staff == nil {
		return content.Errorf(content.CodeForbidden, "this is for school staff")
	}
	return c.Next()
}

// parentOnly refuses staff with 403.
func parentOnly(c *fiber.Ctx) error {
	if p := principal(c); p == nil || p.Parent == nil {
		return content.Errorf(content.CodeForbidden, "this is for parents and carers")
	}
	return c.Next()
}

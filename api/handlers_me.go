package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// me answers from the principal already loaded by authenticate; staff also
// get their unread conversation count (one read by _id per school).
func (s *server) me() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		out := toMeDTO(p)
		if p.Staff != nil {
			n, err := s.staffUnreadConversations(c.UserContext(), p.Staff)
			if err != nil {
				return err
			}
			out.UnreadConversations = &n
		}
		return c.JSON(out)
	}
}

// myChild is a parent's view of one of their children, also one who left
// the school (read-only). The link check uses the principal; one lookup
// loads the child.
func (s *server) myChild() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		id := c.Params("childId")
		if !p.CanReadChild(id) {
			return content.Errorf(content.CodeNotFound, "no such child")
		}
		child, err := s.Roster.Child(c.UserContext(), id)
		if err != nil {
			return err
		}
		return c.JSON(toChildDTO(child, viewParent))
	}
}

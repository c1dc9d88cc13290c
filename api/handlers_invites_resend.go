package api

import (
	"bytes"
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

type resendInvitesDTO struct {
	BroadcastID string `json:"broadcast_id,omitempty"`
	Invited     int    `json:"invited"`
}

// resendInvites invites every parent linked at the school who has not
// joined: one invite broadcast, each parent getting a fresh code at send
// time (which kills their old one). With an Idempotency-Key a repeat
// answers the first result and invites nobody again.
func (s *server) resendInvites() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(c.Request().Body())) > 0 {
			var empty struct{}
			if err := decodeJSON(c, &empty); err != nil {
				return err
			}
		}
		return s.idempotent(c, sc.ID, func() string { return content.NewID("brd") }, func(broadcastID string) error {
			ctx := c.UserContext()
			var ids []string
			err := s.Roster.EachParentOfSchool(ctx, sc.ID, func(pc content.ParentContact) error {
				if pc.State == content.ParentInvited && (pc.Phone != "" || pc.Email != "") {
					ids = append(ids, pc.ID)
				}
				return nil
			})
			if err != nil {
				return err
			}
			slices.Sort(ids)
			p := principal(c)
			bid, n, err := s.inviteParents(c, sc.ID, p.ID(), broadcastID, "", ids, s.Clock.Now())
			if err != nil {
				return err
			}
			if bid != "" {
				s.audit(c, p.Kind, p.ID(), "invite.resend", sc.ID, "broadcast:"+bid)
			}
			s.Log.Info("invites resent", "request_id", requestID(c), "school_id", sc.ID, "broadcast_id", bid, "invited", n)
			return c.Status(fiber.StatusAccepted).JSON(resendInvitesDTO{BroadcastID: bid, Invited: n})
		})
	}
}

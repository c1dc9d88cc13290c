package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// maxReadRefs bounds one read report (an app sends what it opened since it
// last reported).
const maxReadRefs = 100

type readRequest struct {
	Refs []string `json:"refs"`
}

type readResponse struct {
	Read int `json:"read"`
}

// markNotificationsRead records that the parent's app opened pushes, by the
// "ref" each push carried. An important broadcast's push that was opened
// does not fall back to an SMS, and an announcement's push opened marks
// the announcement read in the parent's inbox (read_via push). Refs that are not the caller's own pushes
// are ignored without saying so, so a ref reveals nothing about anyone
// else's messages.
func (s *server) markNotificationsRead() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req readRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if len(req.Refs) == 0 || len(req.Refs) > maxReadRefs {
			return &content.Error{Code: content.CodeInvalid, Message: "the request is not valid",
				Fields: map[string]string{"refs": "must list 1 to 100 push refs"}}
		}
		ctx := c.UserContext()
		parentID := principal(c).ID()
		now := s.Clock.Now()
		read := 0
		for _, ref := range req.Refs {
			pageID, index, err := content.ParseEntryRef(ref)
			if err != nil {
				continue
			}
			page, err := s.Ledger.LedgerPage(ctx, pageID)
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if index >= len(page.Entries) || page.Entries[index].RecipientID != parentID ||
				page.Entries[index].Channel != "push" {
				continue
			}
			if err := s.Ledger.RaiseEntryState(ctx, pageID, index, content.StateRead, "", now); err != nil {
				return err
			}
			// An announcement's push opened is the announcement read.
			if err := s.markInboxReadByPush(ctx, parentID, page, now); err != nil {
				return err
			}
			read++
		}
		return c.JSON(readResponse{Read: read})
	}
}

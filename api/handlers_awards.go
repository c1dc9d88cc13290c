package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Awards: a teacher of the child's class (or an admin) gives the child an
// award with a reason; every parent linked to the child is notified and the
// award shows in the child's feed.

type awardRequest struct {
	Reason string `json:"reason"`
}

type awardDTO struct {
	ID        string    `json:"id"`
	ChildID   string    `json:"child_id"`
	GivenBy   string    `json:"given_by"`
	GiverName string    `json:"giver_name"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

func toAwardDTO(a *content.Award) awardDTO {
	return awardDTO{ID: a.ID, ChildID: a.ChildID, GivenBy: a.GivenBy, GiverName: a.GiverName, Reason: a.Reason, CreatedAt: a.CreatedAt}
}

// giveAward stores the award, adds it to the feed and notifies the
// parents. With an Idempotency-Key a retry reuses the award id, and each
// step is idempotent by that id: the award (conflict = already there), the
// feed item (its key), the broadcast (its id).
func (s *server) giveAward() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, k, _, err := s.schoolChild(c, anyStaff)
		if err != nil {
			return err
		}
		if k.SchoolLink.State != content.LinkLinked {
			return errChildLeft
		}
		var req awardRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		reason := plainText(fe, "reason", req.Reason, content.AwardReasonMax, true)
		if err := fe.Err(); err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		return s.idempotent(c, sc.ID, func() string { return content.NewID("awd") }, func(awardID string) error {
			a := &content.Award{ID: awardID, SchoolID: sc.ID, ChildID: k.ID, GivenBy: p.ID(),
				GiverName: content.StaffDisplayName(p.Staff), Reason: reason, CreatedAt: s.Clock.Now()}
			if err := s.Submissions.CreateAward(ctx, a); content.IsCode(err, content.CodeConflict) {
				prev, err := s.Submissions.Award(ctx, awardID)
				if err != nil {
					return err
				}
				a = prev
			} else if err != nil {
				return err
			}
			if _, err := s.Feed.AddFeedItem(ctx, &content.FeedItem{ChildID: k.ID, Key: "awd:" + a.ID, Kind: content.FeedAward,
				At: a.CreatedAt, Title: "Award", SetBy: a.GivenBy, TeacherName: a.GiverName, AwardID: a.ID, Reason: a.Reason}); err != nil {
				return err
			}
			params := map[string]string{"teacher_name": a.GiverName, "child_first_name": k.FirstName, "child_ids": k.ID,
				"link": s.deepLink("children", k.ID, "feed")}
			if err := s.notifyParents(c, "brd_"+a.ID, sc.ID, "award", "awards", params, linkedParents(k)); err != nil {
				return err
			}
			s.audit(c, p.Kind, p.ID(), "award.give", sc.ID, "child:"+k.ID)
			s.Log.Info("award given", "request_id", requestID(c), "award_id", a.ID, "school_id", sc.ID)
			return c.Status(fiber.StatusCreated).JSON(toAwardDTO(a))
		})
	}
}

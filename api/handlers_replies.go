package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Replies: a teacher of the class (or an admin) answers a submission and
// the parent who sent it is notified; the parent may answer back. The
// thread lives on the submission.
//
// Only the submitting parent is notified: the thread is their exchange
// with the teacher (another linked parent has their own submission and
// thread), so the other parent is not told about a conversation they
// cannot open.

type replyRequest struct {
	Body string `json:"body"`
}

// staffSubmission loads :submissionId of the assignment for its staff.
func (s *server) staffSubmission(c *fiber.Ctx) (*content.School, *content.AssignmentTarget, *content.Submission, error) {
	sc, a, err := s.staffAssignment(c)
	if err != nil {
		return nil, nil, nil, err
	}
	sub, err := s.Submissions.Submission(c.UserContext(), c.Params("submissionId"))
	if err != nil || sub.AssignmentID != a.ID || sub.SchoolID != sc.ID {
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, content.Errorf(content.CodeNotFound, "no such submission")
	}
	return sc, a, sub, nil
}

func (s *server) submissionReplies() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, _, sub, err := s.staffSubmission(c)
		if err != nil {
			return err
		}
		return c.JSON(replyListDTO{Items: toReplyDTOs(sub.ForOthers().Replies)})
	}
}

// replyToSubmission appends the teacher's reply, puts it in the child's
// feed and notifies the parent. With an Idempotency-Key a retry reuses the
// reply id, so the thread, the feed and the notification each get it once.
func (s *server) replyToSubmission() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, a, sub, err := s.staffSubmission(c)
		if err != nil {
			return err
		}
		if k, err := s.Roster.Child(c.UserContext(), sub.ChildID); err == nil && k.SchoolLink.State != content.LinkLinked {
			return errChildLeft
		}
		var req replyRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		body := plainText(fe, "body", req.Body, content.ReplyBodyMax, true)
		if err := fe.Err(); err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		return s.idempotent(c, sc.ID, func() string { return content.NewID("rpl") }, func(replyID string) error {
			k, err := s.Roster.Child(ctx, sub.ChildID)
			if err != nil {
				return err
			}
			name := content.StaffDisplayName(p.Staff)
			now := s.Clock.Now()
			sub, err := s.Submissions.AddReply(ctx, sub.ID, content.Reply{ID: replyID, AuthorKind: content.KindStaff,
				AuthorID: p.ID(), AuthorName: name, Body: body, At: now})
			if err != nil {
				return err
			}
			for _, act := range a.ActivityIDs {
				itemID, err := s.Feed.FeedItemIDByKey(ctx, k.ID, feedKey(a.ID, act))
				if err == nil {
					err = s.Feed.RecordFeedReply(ctx, itemID, sub.ParentID, replyID, body, now)
				}
				if err != nil && !content.IsCode(err, content.CodeNotFound) {
					s.Log.Warn("feed reply not recorded", "request_id", requestID(c), "submission_id", sub.ID, "err", err)
				}
			}
			params := map[string]string{"teacher_name": name, "child_first_name": k.FirstName, "child_ids": k.ID,
				"link": s.deepLink("children", k.ID, "assignments", a.ID)}
			if err := s.notifyParents(c, "brd_"+replyID, sc.ID, "teacher_reply", "replies", params, []string{sub.ParentID}); err != nil {
				return err
			}
			s.Log.Info("reply sent", "request_id", requestID(c), "submission_id", sub.ID, "reply_id", replyID)
			return c.Status(fiber.StatusCreated).JSON(toSubmissionDTO(sub, true))
		})
	}
}

// parentReply lets the submitting parent answer in the thread. It counts
// as a comment for engagement; teachers read it in the thread.
func (s *server) parentReply() fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, a, err := s.parentAssignment(c)
		if err != nil {
			return err
		}
		var req replyRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		body := plainText(fe, "body", req.Body, content.ReplyBodyMax, true)
		if err := fe.Err(); err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		id := content.SubmissionID(a.ID, k.ID, p.ID())
		if _, err := s.Submissions.Submission(ctx, id); content.IsCode(err, content.CodeNotFound) {
			return content.Errorf(content.CodeNotFound, "nothing submitted yet")
		} else if err != nil {
			return err
		}
		return s.idempotent(c, k.SchoolID, func() string { return content.NewID("rpl") }, func(replyID string) error {
			now := s.Clock.Now()
			sub, err := s.Submissions.AddReply(ctx, id, content.Reply{ID: replyID, AuthorKind: content.KindParent,
				AuthorID: p.ID(), Body: body, At: now})
			if err != nil {
				return err
			}
			s.countEngagement(c, content.EngageComment, k, now)
			return c.Status(fiber.StatusCreated).JSON(toSubmissionDTO(sub, false))
		})
	}
}

package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Moderation and deletion.
//
// A parent may delete their own comment, reply or photo: it leaves the
// submission, the feed, staff views and exports, and a photo's stored
// pictures are deleted (its media URLs then answer 404).
//
// Staff who may see the child (the teachers of the child's classes, the
// school's admins) may hide a parent's comment, reply or photo from the
// class, giving a reason that goes to the audit log only. Hidden content
// is kept for its author: they still see it (marked hidden) on their own
// submission and in their own export, because it is their data and a
// subject-access export must hold it. Nobody else sees it: staff views
// show only that something was hidden, the feed loses the comment, the
// photo's URL is refused to staff, and the school's export leaves it out.
// A hide is not undone through the API: it is an audited safeguarding
// decision, and the author can still delete the content or write again.

// ownSubmission loads the caller's submission for :childId and
// :assignmentId (a child who left is still theirs to tidy up).
func (s *server) ownSubmission(c *fiber.Ctx) (*content.Child, *content.AssignmentTarget, *content.Submission, error) {
	k, a, err := s.parentAssignmentFor(c, false)
	if err != nil {
		return nil, nil, nil, err
	}
	sub, err := s.Submissions.Submission(c.UserContext(), content.SubmissionID(a.ID, k.ID, principal(c).ID()))
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil, nil, content.Errorf(content.CodeNotFound, "nothing submitted yet")
	} else if err != nil {
		return nil, nil, nil, err
	}
	return k, a, sub, nil
}

// deleteMyReply deletes one of the caller's own replies in their thread.
func (s *server) deleteMyReply() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, _, sub, err := s.ownSubmission(c)
		if err != nil {
			return err
		}
		p := principal(c)
		replyID := c.Params("replyId")
		own := false
		for _, r := range sub.Replies {
			if r.ID == replyID && r.AuthorKind == content.KindParent && r.AuthorID == p.ID() {
				own = true
			}
		}
		if !own {
			return content.Errorf(content.CodeNotFound, "no such reply")
		}
		if _, err := s.Moderation.DeleteReply(c.UserContext(), sub.ID, replyID); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "reply.delete", sub.SchoolID, "submission:"+sub.ID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// deleteMyComment deletes the caller's comment on their submission, and
// its excerpt in the child's feed.
func (s *server) deleteMyComment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, a, sub, err := s.ownSubmission(c)
		if err != nil {
			return err
		}
		if sub.Comment == "" {
			return content.Errorf(content.CodeNotFound, "no comment to delete")
		}
		p := principal(c)
		if _, err := s.Moderation.ClearComment(c.UserContext(), sub.ID, s.Clock.Now()); err != nil {
			return err
		}
		if err := s.clearFeedComments(c, k.ID, a, p.ID()); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "comment.delete", sub.SchoolID, "submission:"+sub.ID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// clearFeedComments removes the parent's comment from each of the
// assignment's items in the child's feed.
func (s *server) clearFeedComments(c *fiber.Ctx, childID string, a *content.AssignmentTarget, parentID string) error {
	ctx := c.UserContext()
	for _, act := range a.ActivityIDs {
		itemID, err := s.Feed.FeedItemIDByKey(ctx, childID, feedKey(a.ID, act))
		if err == nil {
			err = s.Moderation.ClearFeedComment(ctx, itemID, parentID)
		}
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return err
		}
	}
	return nil
}

// deletePhoto deletes the caller's own photo and its stored pictures.
func (s *server) deletePhoto() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ph, err := s.photoFor(c)
		if err != nil {
			return err
		}
		p := principal(c)
		if ph.ParentID != p.ID() {
			return content.Errorf(content.CodeNotFound, "no such photo")
		}
		if err := s.Moderation.DeletePhoto(c.UserContext(), ph.ID); err != nil {
			return err
		}
		s.audit(c, p.Kind, p.ID(), "photo.delete", ph.SchoolID, "photo:"+ph.ID)
		s.Log.Info("photo deleted", "request_id", requestID(c), "photo_id", ph.ID)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// Kinds of content staff can hide.
const (
	hideComment = "comment"
	hidePhoto   = "photo"
)

type hideRequest struct {
	Kind string `json:"kind"`
	// ID is the submission (kind comment) or the photo (kind photo).
	ID string `json:"id"`
	// ReplyID, with kind comment, names one of the parent's replies in the
	// submission's thread instead of its comment.
	ReplyID string `json:"reply_id"`
	Reason  string `json:"reason"`
}

type hideDTO struct {
	Kind     string    `json:"kind"`
	ID       string    `json:"id"`
	ReplyID  string    `json:"reply_id,omitempty"`
	HiddenAt time.Time `json:"hidden_at"`
}

// hideContent hides a parent's comment, reply or photo from the class.
func (s *server) hideContent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		var req hideRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		if req.Kind != hideComment && req.Kind != hidePhoto {
			fe.Add("kind", "must be comment or photo")
		}
		if req.ID == "" {
			fe.Add("id", "required")
		}
		if req.Kind == hidePhoto && req.ReplyID != "" {
			fe.Add("reply_id", "only with kind comment")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		// The reason is checked apart: a well-formed request without one is
		// 422, as for unlinking a parent.
		fe = content.FieldErrors{}
		reason := plainText(fe, "reason", req.Reason, content.ModerationReasonMax, false)
		if reason == "" && fe["reason"] == "" {
			fe.Add("reason", "required: why this is hidden (kept in the audit log, never shown to families)")
		}
		if len(fe) > 0 {
			return &content.Error{Code: content.CodeUnprocessable, Message: "give a reason for hiding this", Fields: fe}
		}
		ctx := c.UserContext()
		p := principal(c)
		notFound := &content.Error{Code: content.CodeNotFound, Message: "no such " + req.Kind}
		var childID, subject string
		var sub *content.Submission
		var ph *content.Photo
		if req.Kind == hidePhoto {
			ph, err = s.Submissions.Photo(ctx, req.ID)
			if err == nil && ph.SchoolID == sc.ID {
				childID, subject = ph.ChildID, "photo:"+ph.ID
			}
		} else {
			sub, err = s.Submissions.Submission(ctx, req.ID)
			if err == nil && sub.SchoolID == sc.ID && s.hideableWords(sub, req.ReplyID) {
				childID, subject = sub.ChildID, "submission:"+sub.ID
				if req.ReplyID != "" {
					subject = "reply:" + req.ReplyID
				}
			}
		}
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		if childID == "" {
			return notFound
		}
		if ok, err := s.staffSeesChild(c, sc, childID); err != nil {
			return err
		} else if !ok {
			return notFound
		}
		h := content.Hidden{By: p.ID(), At: s.Clock.Now()}
		switch {
		case ph != nil:
			if ph, err = s.Moderation.HidePhoto(ctx, ph.ID, h); err != nil {
				return err
			}
			h = *ph.Hidden
		case req.ReplyID != "":
			if sub, err = s.Moderation.HideReply(ctx, sub.ID, req.ReplyID, h); err != nil {
				return err
			}
			for _, r := range sub.Replies {
				if r.ID == req.ReplyID && r.Hidden != nil {
					h = *r.Hidden
				}
			}
		default:
			if sub, err = s.Moderation.HideComment(ctx, sub.ID, h); err != nil {
				return err
			}
			h = *sub.CommentHidden
			if a, err := s.AssignmentTargets.AssignmentTarget(ctx, sub.AssignmentID); err == nil {
				if err := s.clearFeedComments(c, sub.ChildID, a, sub.ParentID); err != nil {
					return err
				}
			} else if !content.IsCode(err, content.CodeNotFound) {
				return err
			}
		}
		s.auditWithReason(c, p.Kind, p.ID(), "moderation.hide."+req.Kind, sc.ID, subject, reason)
		return c.JSON(hideDTO{Kind: req.Kind, ID: req.ID, ReplyID: req.ReplyID, HiddenAt: h.At.UTC()})
	}
}

// hideableWords reports whether the submission has the parent's words to
// hide: its comment, or the parent's reply replyID.
func (s *server) hideableWords(sub *content.Submission, replyID string) bool {
	if replyID == "" {
		return sub.Comment != ""
	}
	for _, r := range sub.Replies {
		if r.ID == replyID && r.AuthorKind == content.KindParent {
			return true
		}
	}
	return false
}

// staffSeesChild reports whether the caller is an admin of the school or
// teaches one of the child's classes.
func (s *server) staffSeesChild(c *fiber.Ctx, sc *content.School, childID string) (bool, error) {
	ctx := c.UserContext()
	k, err := s.Roster.Child(ctx, childID)
	if content.IsCode(err, content.CodeNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var classes []*content.Class
	for _, id := range k.ClassIDs {
		if cl, err := s.Roster.Class(ctx, id); err == nil {
			classes = append(classes, cl)
		}
	}
	return principal(c).CanSeeChildAsStaff(sc, k, classes), nil
}

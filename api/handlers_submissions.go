package api

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Submissions: a parent sends back, per child and assignment, whether it
// was done, a rating and a comment (one document per parent, child and
// assignment, so a repeat is an update); photos ride on the same document;
// the class's teachers and the school's admins read them per assignment
// and reply in a thread.

// AssignmentTargets finds the assignment a submission is for (the
// assignments store, adapted in the wiring).
type AssignmentTargets interface {
	AssignmentTarget(ctx context.Context, id string) (*content.AssignmentTarget, error)
}

// FeedProgress is the part of the parent feed submissions, replies and
// awards write to: content.FeedWriter plus finding an item by its key.
type FeedProgress interface {
	content.FeedWriter
	// FeedItemIDByKey returns the id of the child's item with key, or
	// CodeNotFound.
	FeedItemIDByKey(ctx context.Context, childID, key string) (string, error)
}

type submissionRequest struct {
	Done    *bool   `json:"done"`
	Rating  *int    `json:"rating"`
	Comment *string `json:"comment"`
}

type replyDTO struct {
	ID         string    `json:"id"`
	Author     string    `json:"author"` // "teacher" | "parent"
	AuthorName string    `json:"author_name,omitempty"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
	// Hidden: staff hid this reply from the class (its author's view only;
	// others never receive it).
	Hidden bool `json:"hidden,omitempty"`
}

type submissionDTO struct {
	ID           string   `json:"id"`
	AssignmentID string   `json:"assignment_id"`
	ChildID      string   `json:"child_id"`
	ParentID     string   `json:"parent_id,omitempty"` // staff views only
	Done         bool     `json:"done"`
	Rating       *int     `json:"rating,omitempty"`
	Comment      string   `json:"comment"`
	PhotoIDs     []string `json:"photo_ids"`
	// CommentHidden: staff hid the comment from the class. Its author still
	// reads it here; staff views carry no comment then.
	CommentHidden bool `json:"comment_hidden,omitempty"`
	// HiddenPhotoIDs are the author's photos staff hid (author's view only).
	HiddenPhotoIDs []string   `json:"hidden_photo_ids,omitempty"`
	Replies        []replyDTO `json:"replies"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

type submissionListDTO struct {
	Items []submissionDTO `json:"items"`
}

type replyListDTO struct {
	Items []replyDTO `json:"items"`
}

func toReplyDTOs(rs []content.Reply) []replyDTO {
	out := make([]replyDTO, 0, len(rs))
	for _, r := range rs {
		author := "parent"
		if r.AuthorKind == content.KindStaff {
			author = "teacher"
		}
		out = append(out, replyDTO{ID: r.ID, Author: author, AuthorName: r.AuthorName, Body: r.Body, At: r.At, Hidden: r.Hidden != nil})
	}
	return out
}

// toSubmissionDTO shows the parent id to staff only (parents see their own).
// Staff see what they hid only as hidden: no comment, reply or photo.
func toSubmissionDTO(s *content.Submission, staffView bool) submissionDTO {
	hidden := s.CommentHidden != nil
	if staffView {
		s = s.ForOthers()
	}
	out := submissionDTO{CommentHidden: hidden, ID: s.ID, AssignmentID: s.AssignmentID, ChildID: s.ChildID, Done: s.Done, Comment: s.Comment,
		PhotoIDs: orEmpty(s.PhotoIDs), Replies: toReplyDTOs(s.Replies), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if s.Rating > 0 {
		r := s.Rating
		out.Rating = &r
	}
	if staffView {
		out.ParentID = s.ParentID
	} else if len(s.HiddenPhotoIDs) > 0 {
		out.HiddenPhotoIDs = s.HiddenPhotoIDs
	}
	return out
}

// plainText checks free text a family or teacher writes: trimmed, 1 to max
// characters (0 allowed unless required), valid UTF-8, no control
// characters other than line breaks and tabs.
func plainText(fe content.FieldErrors, field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		fe.Add(field, "must be valid UTF-8 text")
	case required && n == 0:
		fe.Add(field, "required")
	case n > max:
		fe.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		fe.Add(field, "must be plain text")
	}
	return v
}

// parentAssignment loads :childId for a parent with a live link to it, and
// :assignmentId if it was released for that child, for a submission, photo
// or reply. A child who left the school is read-only: 409 child_left.
// Anything else is 404.
func (s *server) parentAssignment(c *fiber.Ctx) (*content.Child, *content.AssignmentTarget, error) {
	return s.parentAssignmentFor(c, true)
}

// parentAssignmentFor is parentAssignment; with write false it also serves
// a parent whose child left the school, to read what they sent.
func (s *server) parentAssignmentFor(c *fiber.Ctx, write bool) (*content.Child, *content.AssignmentTarget, error) {
	p := principal(c)
	ctx := c.UserContext()
	childID := c.Params("childId")
	if !p.CanReadChild(childID) {
		return nil, nil, content.Errorf(content.CodeNotFound, "no such child")
	}
	if write && !p.ParentOf(childID) {
		return nil, nil, errChildLeft
	}
	k, err := s.Roster.Child(ctx, childID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil, content.Errorf(content.CodeNotFound, "no such child")
	} else if err != nil {
		return nil, nil, err
	}
	a, err := s.AssignmentTargets.AssignmentTarget(ctx, c.Params("assignmentId"))
	if err != nil || !a.Released || !a.SetFor(k) {
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return nil, nil, err
		}
		return nil, nil, content.Errorf(content.CodeNotFound, "no such assignment")
	}
	return k, a, nil
}

// staffAssignment loads :schoolId and :assignmentId for the school's admins
// and the teachers of a class the assignment was set for.
func (s *server) staffAssignment(c *fiber.Ctx) (*content.School, *content.AssignmentTarget, error) {
	sc, err := s.schoolFor(c, anyStaff)
	if err != nil {
		return nil, nil, err
	}
	ctx := c.UserContext()
	notFound := content.Errorf(content.CodeNotFound, "no such assignment")
	a, err := s.AssignmentTargets.AssignmentTarget(ctx, c.Params("assignmentId"))
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil, notFound
	} else if err != nil {
		return nil, nil, err
	}
	if a.SchoolID != sc.ID {
		return nil, nil, notFound
	}
	p := principal(c)
	if p.IsSchoolAdmin(sc) {
		return sc, a, nil
	}
	for _, id := range a.ClassIDs {
		cl, err := s.Roster.Class(ctx, id)
		if err == nil && p.CanSeeClass(sc, cl) {
			return sc, a, nil
		}
	}
	return nil, nil, notFound
}

// submitAssignment creates or updates the caller's submission.
func (s *server) submitAssignment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, a, err := s.parentAssignment(c)
		if err != nil {
			return err
		}
		var req submissionRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		upd := content.SubmissionUpdate{Done: req.Done, Rating: req.Rating}
		if req.Rating != nil && (*req.Rating < 1 || *req.Rating > 5) {
			fe.Add("rating", "must be 1 to 5")
		}
		if req.Comment != nil {
			comment := plainText(fe, "comment", *req.Comment, content.SubmissionCommentMax, false)
			upd.Comment = &comment
		}
		if err := fe.Err(); err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		id := content.SubmissionID(a.ID, k.ID, p.ID())
		var before *content.Submission
		if prev, err := s.Submissions.Submission(ctx, id); err == nil {
			before = prev
		} else if !content.IsCode(err, content.CodeNotFound) {
			return err
		}
		now := s.Clock.Now()
		sub, err := s.Submissions.PutSubmission(ctx, &content.Submission{ID: id, SchoolID: k.SchoolID, AssignmentID: a.ID,
			ChildID: k.ID, ParentID: p.ID()}, upd, now)
		if err != nil {
			return err
		}
		if sub.Done {
			s.markFeedDone(c, k.ID, a, sub)
		}
		// Count what is new in this submit, not what a repeat restates.
		was := content.Submission{}
		if before != nil {
			was = *before
		}
		if before == nil || (sub.Done && !was.Done) {
			s.notifyTeachers(c, k.SchoolID, a, sub.ID)
		}
		if sub.Done && !was.Done {
			s.countEngagement(c, content.EngageCompletion, k, now)
		}
		if sub.Rating > 0 && was.Rating == 0 {
			s.countEngagement(c, content.EngageRating, k, now)
		}
		if sub.Comment != "" && sub.Comment != was.Comment {
			s.countEngagement(c, content.EngageComment, k, now)
		}
		return c.JSON(toSubmissionDTO(sub, false))
	}
}

// notifyTeachers queues the push telling the assignment's class teachers
// of a new submission. The worker sends each teacher one push per
// submission, inside their working hours. The submission is stored
// already: a queue failure is logged, not shown to the family.
func (s *server) notifyTeachers(c *fiber.Ctx, schoolID string, a *content.AssignmentTarget, submissionID string) {
	if len(a.ClassIDs) == 0 {
		return
	}
	t, err := tasks.NewNotifyStaff(tasks.NotifyStaff{Kind: tasks.StaffNotifySubmission, SchoolID: schoolID,
		ClassID: a.ClassIDs[0], RefID: submissionID})
	if err == nil {
		err = tasks.Enqueue(c.UserContext(), s.Tasks, t)
	}
	if err != nil {
		s.Log.Warn("teachers not notified of submission", "request_id", requestID(c), "submission_id", submissionID, "err", err)
	}
}

// markFeedDone marks each of the assignment's feed items done for the
// child. The submission is already stored: a feed failure is logged, and
// the next submit or reply repairs it.
func (s *server) markFeedDone(c *fiber.Ctx, childID string, a *content.AssignmentTarget, sub *content.Submission) {
	ctx := c.UserContext()
	for _, act := range a.ActivityIDs {
		itemID, err := s.Feed.FeedItemIDByKey(ctx, childID, feedKey(a.ID, act))
		if err == nil {
			err = s.Feed.MarkFeedItemDone(ctx, itemID, sub.ParentID, sub.ID, sub.Rating, sub.Comment, sub.UpdatedAt)
		}
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			s.Log.Warn("feed not marked done", "request_id", requestID(c), "submission_id", sub.ID, "err", err)
		}
	}
}

// feedKey is the feed item key of one activity of an assignment (as
// content.Assignment.FeedKey writes it).
func feedKey(assignmentID, activityID string) string { return "asg:" + assignmentID + ":" + activityID }

// countEngagement records an event; a failure is logged, never shown: the
// family's action has already succeeded.
func (s *server) countEngagement(c *fiber.Ctx, kind content.EngagementKind, k *content.Child, at time.Time) {
	if err := s.Engagement.RecordEngagement(c.UserContext(), content.EventFor(kind, k, at)); err != nil {
		s.Log.Warn("engagement not counted", "request_id", requestID(c), "kind", string(kind), "err", err)
	}
}

// errChildLeft refuses anything new about a child the school has removed:
// their past data is read-only.
var errChildLeft = content.Errorf(content.CodeChildLeft, "this child has left the school: their activities are read-only")

func (s *server) mySubmission() fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, a, err := s.parentAssignmentFor(c, false)
		if err != nil {
			return err
		}
		sub, err := s.Submissions.Submission(c.UserContext(), content.SubmissionID(a.ID, k.ID, principal(c).ID()))
		if content.IsCode(err, content.CodeNotFound) {
			return content.Errorf(content.CodeNotFound, "nothing submitted yet")
		} else if err != nil {
			return err
		}
		return c.JSON(toSubmissionDTO(sub, false))
	}
}

// assignmentSubmissions lists an assignment's submissions for its class's
// teachers and the school's admins.
func (s *server) assignmentSubmissions() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, a, err := s.staffAssignment(c)
		if err != nil {
			return err
		}
		subs, err := s.Submissions.SubmissionsOfAssignment(c.UserContext(), a.ID)
		if err != nil {
			return err
		}
		out := submissionListDTO{Items: make([]submissionDTO, 0, len(subs))}
		for _, sub := range subs {
			out.Items = append(out.Items, toSubmissionDTO(sub, true))
		}
		return c.JSON(out)
	}
}

// notifyParents queues one broadcast of a system template to the given
// parents through the messaging pipeline. id is fixed by the caller from
// what it notifies about, so a retried request queues it once.
func (s *server) notifyParents(c *fiber.Ctx, id, schoolID, template, category string, params map[string]string, parentIDs []string) error {
	if len(parentIDs) == 0 {
		return nil
	}
	ctx := c.UserContext()
	b := &content.Broadcast{ID: id, SchoolID: schoolID, CreatedBy: principal(c).ID(), Template: template, Category: category,
		Params: params, Audience: content.Audience{ParentIDs: parentIDs}, State: content.BroadcastExpanding, CreatedAt: s.Clock.Now()}
	_, _, err := s.publish(ctx, b, nil, "the notification could not be queued; retry with the same Idempotency-Key")
	return err
}

// linkedParents lists the parents with a live link to the child.
func linkedParents(k *content.Child) []string {
	var out []string
	for _, l := range k.Parents {
		if l.State == content.LinkLinked && !slices.Contains(out, l.ParentID) {
			out = append(out, l.ParentID)
		}
	}
	return out
}

// deepLink is an app link to a child's assignment or feed.
func (s *server) deepLink(parts ...string) string {
	return strings.TrimRight(s.AppURL, "/") + "/" + strings.Join(parts, "/")
}

// AssignmentTargetsOf adapts the assignments store to what submissions
// need; the wiring passes it as Deps.AssignmentTargets.
func AssignmentTargetsOf(store content.Assignments) AssignmentTargets {
	return assignmentTargets{store}
}

type assignmentTargets struct{ store content.Assignments }

func (a assignmentTargets) AssignmentTarget(ctx context.Context, id string) (*content.AssignmentTarget, error) {
	as, err := a.store.Assignment(ctx, id)
	if err != nil {
		return nil, err
	}
	t := &content.AssignmentTarget{ID: as.ID, SchoolID: as.SchoolID, ClassIDs: []string{as.ClassID}, ChildIDs: as.ChildIDs,
		Released: as.State == content.AssignmentReleased}
	for _, act := range as.Activities {
		t.ActivityIDs = append(t.ActivityIDs, act.ID)
	}
	if len(as.Activities) > 0 {
		t.Title = as.Activities[0].Title
	}
	return t, nil
}

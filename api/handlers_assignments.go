package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Assignments: a teacher of the class (or a school admin) sets activities
// for the class or chosen children of it, with a release time and a due
// date. Until release it can be edited or withdrawn; at release a queued
// task (worker/assignments.go) fills the feeds and notifies the parents.

type assignmentRequest struct {
	ActivityIDs *[]string `json:"activity_ids"`
	ChildIDs    *[]string `json:"child_ids"`
	ReleaseAt   *string   `json:"release_at"`
	DueAt       *string   `json:"due_at"`
	DueDate     *string   `json:"due_date"`
}

type assignedActivityDTO struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Minutes int    `json:"minutes"`
}

type assignmentDTO struct {
	ID          string                `json:"id"`
	SchoolID    string                `json:"school_id"`
	ClassID     string                `json:"class_id"`
	Activities  []assignedActivityDTO `json:"activities"`
	ChildIDs    []string              `json:"child_ids"`
	WholeClass  bool                  `json:"whole_class"`
	SetBy       string                `json:"set_by"`
	TeacherName string                `json:"teacher_name"`
	ReleaseAt   time.Time             `json:"release_at"`
	DueAt       time.Time             `json:"due_at"`
	DueDate     string                `json:"due_date"`
	State       string                `json:"state"`
	ReleasedAt  *time.Time            `json:"released_at,omitempty"`
	CreatedAt   time.Time             `json:"created_at"`
}

// toAssignmentDTO shows built-in activities' titles in the school's
// language, for its staff, and the due date as a day at the school.
func (s *server) toAssignmentDTO(a *content.Assignment, sc *content.School) assignmentDTO {
	lang := sc.Language
	d := assignmentDTO{ID: a.ID, SchoolID: a.SchoolID, ClassID: a.ClassID, ChildIDs: orEmpty(a.ChildIDs),
		WholeClass: len(a.ChildIDs) == 0, SetBy: a.SetBy, TeacherName: a.TeacherName, ReleaseAt: a.ReleaseAt,
		DueAt: a.DueAt, DueDate: content.DueDate(a.DueAt, schoolLocation(sc)), State: string(a.State),
		CreatedAt: a.CreatedAt, Activities: []assignedActivityDTO{}}
	for _, x := range a.Activities {
		d.Activities = append(d.Activities, assignedActivityDTO{ID: x.ID, Title: s.activityTitle(x.ID, x.Title, lang), Kind: string(x.Kind),
			Subject: string(x.Subject), Minutes: x.Minutes})
	}
	if !a.ReleasedAt.IsZero() {
		r := a.ReleasedAt
		d.ReleasedAt = &r
	}
	return d
}

// assignmentClass loads :schoolId and :classId for the class's teachers and
// the school's admins; other staff of the school get 403, others 404.
func (s *server) assignmentClass(c *fiber.Ctx) (*content.School, *content.Class, error) {
	sc, err := s.schoolFor(c, anyStaff)
	if err != nil {
		return nil, nil, err
	}
	cl, err := s.Roster.Class(c.UserContext(), c.Params("classId"))
	if content.IsCode(err, content.CodeNotFound) || (err == nil && cl.SchoolID != sc.ID) {
		return nil, nil, content.Errorf(content.CodeNotFound, "no such class")
	} else if err != nil {
		return nil, nil, err
	}
	if !principal(c).CanSeeClass(sc, cl) {
		return nil, nil, content.Errorf(content.CodeForbidden, "only the class's teachers and school admins set its work")
	}
	return sc, cl, nil
}

// teacherName is how families see the teacher: "Mrs Khan", else the name.
func teacherName(st *content.Staff) string {
	if st.Title != "" && st.LastName != "" {
		return st.Title + " " + st.LastName
	}
	return strings.TrimSpace(st.FirstName + " " + st.LastName)
}

// applyAssignment validates the request onto a. Activities must be
// built-in or the school's own; children must be in the class (another
// class's or school's child is refused by name of the field, never
// quietly dropped).
func (s *server) applyAssignment(ctx context.Context, sc *content.School, cl *content.Class, a *content.Assignment,
	req assignmentRequest, create bool) error {
	fe := content.FieldErrors{}
	now := s.Clock.Now()
	if req.ActivityIDs != nil || create {
		var ids []string
		if req.ActivityIDs != nil {
			ids = *req.ActivityIDs
		}
		switch {
		case len(ids) == 0:
			fe.Add("activity_ids", "give at least one activity")
		case len(ids) > content.AssignmentActivitiesMax:
			fe.Add("activity_ids", fmt.Sprintf("at most %d activities", content.AssignmentActivitiesMax))
		}
		a.Activities = a.Activities[:0]
		for i, id := range ids {
			field := fmt.Sprintf("activity_ids[%d]", i)
			if slices.Contains(ids[:i], id) {
				fe.Add(field, "repeated")
				continue
			}
			// The assignment keeps the English title; readers see their
			// language's (toAssignmentDTO, the feed).
			act, ok := s.Library.Get(id, "en")
			var titles map[string]string
			if ok {
				titles = s.translatedTitles(id)
			} else {
				own, err := s.Activities.Activity(ctx, id)
				if err != nil && !content.IsCode(err, content.CodeNotFound) {
					return err
				}
				if err != nil || own.SchoolID != sc.ID {
					fe.Add(field, "no such activity in the library or this school's own")
					continue
				}
				act = *own
			}
			a.Activities = append(a.Activities, content.AssignedActivity{ID: act.ID, Title: act.Title, Kind: act.Kind,
				Subject: act.Subject, Minutes: act.Minutes, Titles: titles})
		}
	}
	if req.ChildIDs != nil {
		ids := *req.ChildIDs
		if len(ids) > content.AssignmentChildrenMax {
			fe.Add("child_ids", fmt.Sprintf("at most %d children; leave it out for the whole class", content.AssignmentChildrenMax))
			ids = nil
		}
		a.ChildIDs = []string{}
		for i, id := range ids {
			field := fmt.Sprintf("child_ids[%d]", i)
			if slices.Contains(ids[:i], id) {
				fe.Add(field, "repeated")
				continue
			}
			k, err := s.Roster.Child(ctx, id)
			if err != nil && !content.IsCode(err, content.CodeNotFound) {
				return err
			}
			if err != nil || k.SchoolID != sc.ID || !slices.Contains(k.ClassIDs, cl.ID) || k.SchoolLink.State != content.LinkLinked {
				fe.Add(field, "not a child of this class")
				continue
			}
			a.ChildIDs = append(a.ChildIDs, id)
		}
	}
	parseTime := func(field string, v *string) (time.Time, bool) {
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			fe.Add(field, "must be an RFC 3339 time, e.g. 2026-11-02T15:30:00Z")
			return time.Time{}, false
		}
		// Seconds: the release task is keyed by Unix seconds.
		return t.UTC().Truncate(time.Second), true
	}
	if req.ReleaseAt != nil {
		if t, ok := parseTime("release_at", req.ReleaseAt); ok {
			switch {
			case t.Before(now.Add(-time.Minute)):
				fe.Add("release_at", "must not be in the past (leave it out to release now)")
			case t.After(now.Add(content.AssignmentReleaseAhead)):
				fe.Add("release_at", "at most a year ahead")
			}
			a.ReleaseAt = t
		}
	} else if create {
		a.ReleaseAt = now.UTC().Truncate(time.Second)
	}
	s.applyDue(sc, a, req, create, fe)
	if _, bad := fe["due_at"]; !bad && !a.DueAt.IsZero() && !a.DueAt.After(a.ReleaseAt) {
		fe.Add(dueField(req), "must be after the release time")
	}
	return fe.Err()
}

// dueField is the field the request gave the due date in.
func dueField(req assignmentRequest) string {
	if req.DueDate != nil && req.DueAt == nil {
		return "due_date"
	}
	return "due_at"
}

// applyDue sets a's due time from due_at (a time) or due_date (a day at the
// school, due by its end), refusing a due date in the past: the day before
// it, families that have sent nothing back are reminded (worker
// DueReminders), which a past date would make meaningless.
func (s *server) applyDue(sc *content.School, a *content.Assignment, req assignmentRequest, create bool, fe content.FieldErrors) {
	now := s.Clock.Now()
	loc := schoolLocation(sc)
	switch {
	case req.DueAt != nil && req.DueDate != nil:
		fe.Add("due_date", "give due_at or due_date, not both")
	case req.DueDate != nil:
		d, err := time.ParseInLocation(time.DateOnly, *req.DueDate, loc)
		if err != nil {
			fe.Add("due_date", "must be a date, e.g. 2026-11-09")
			return
		}
		if *req.DueDate < now.In(loc).Format(time.DateOnly) {
			fe.Add("due_date", "must not be in the past")
			return
		}
		a.DueAt = time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, loc).UTC()
	case req.DueAt != nil:
		t, err := time.Parse(time.RFC3339, *req.DueAt)
		if err != nil {
			fe.Add("due_at", "must be an RFC 3339 time, e.g. 2026-11-02T15:30:00Z")
			return
		}
		t = t.UTC().Truncate(time.Second)
		if !t.After(now) {
			fe.Add("due_at", "must not be in the past")
			return
		}
		a.DueAt = t
	case create:
		fe.Add("due_at", "required (or due_date)")
	}
}

// schoolLocation is the school's time zone (UTC if it cannot be read).
func schoolLocation(sc *content.School) *time.Location {
	loc, err := time.LoadLocation(sc.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// translatedTitles is a built-in activity's title in each message language
// the library has it in, other than English.
func (s *server) translatedTitles(id string) map[string]string {
	var out map[string]string
	for _, l := range notify.Languages() {
		if a, ok := s.Library.Get(id, string(l)); ok && l != notify.LangEnglish && a.Language == string(l) {
			if out == nil {
				out = map[string]string{}
			}
			out[string(l)] = a.Title
		}
	}
	return out
}

// queueRelease queues the release task for a's release time.
func (s *server) queueRelease(ctx context.Context, a *content.Assignment) error {
	task, err := tasks.NewReleaseAssignment(a.ID, a.ReleaseAt)
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, s.Tasks, task); err != nil {
		return content.Wrap(content.CodeUnavailable, err, "the release could not be scheduled; try again")
	}
	return nil
}

func (s *server) createAssignment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, cl, err := s.assignmentClass(c)
		if err != nil {
			return err
		}
		var req assignmentRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		now := s.Clock.Now()
		a := &content.Assignment{ID: content.NewID("asg"), SchoolID: sc.ID, ClassID: cl.ID, SetBy: p.ID(),
			TeacherName: teacherName(p.Staff), ChildIDs: []string{}, State: content.AssignmentScheduled,
			CreatedAt: now, UpdatedAt: now}
		if err := s.applyAssignment(ctx, sc, cl, a, req, true); err != nil {
			return err
		}
		if err := s.Assignments.CreateAssignment(ctx, a); err != nil {
			return err
		}
		if err := s.queueRelease(ctx, a); err != nil {
			// Nothing half-made: without its task the assignment would
			// never release, so it is withdrawn before the error is shown.
			w := *a
			w.State = content.AssignmentWithdrawn
			if werr := s.Assignments.UpdateScheduledAssignment(context.WithoutCancel(ctx), &w, a.ReleaseAt); werr != nil {
				s.Log.Error("withdraw unqueued assignment failed", "request_id", requestID(c), "assignment_id", a.ID, "err", werr)
			}
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(s.toAssignmentDTO(a, sc))
	}
}

func (s *server) listAssignments() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, cl, err := s.assignmentClass(c)
		if err != nil {
			return err
		}
		as, err := s.Assignments.AssignmentsOfClass(c.UserContext(), cl.ID)
		if err != nil {
			return err
		}
		out := listDTO[assignmentDTO]{Items: make([]assignmentDTO, 0, len(as))}
		for _, a := range as {
			out.Items = append(out.Items, s.toAssignmentDTO(a, sc))
		}
		return c.JSON(out)
	}
}

// classAssignment loads :assignmentId of the class.
func (s *server) classAssignment(c *fiber.Ctx) (*content.School, *content.Class, *content.Assignment, error) {
	sc, cl, err := s.assignmentClass(c)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := s.Assignments.Assignment(c.UserContext(), c.Params("assignmentId"))
	if content.IsCode(err, content.CodeNotFound) || (err == nil && (a.ClassID != cl.ID || a.SchoolID != sc.ID)) {
		return nil, nil, nil, content.Errorf(content.CodeNotFound, "no such assignment")
	} else if err != nil {
		return nil, nil, nil, err
	}
	return sc, cl, a, nil
}

// stillScheduled refuses changes once a is released or withdrawn, or its
// release time has come (only its due date may then move).
func (s *server) stillScheduled(a *content.Assignment) error {
	if a.State != content.AssignmentScheduled || !s.Clock.Now().Before(a.ReleaseAt) {
		return content.Errorf(content.CodeConflict, "the assignment has been released or withdrawn; only a released assignment's due date can change")
	}
	return nil
}

// scheduledAssignment loads :assignmentId of the class, refusing changes
// once it is released or withdrawn, or its release time has come.
func (s *server) scheduledAssignment(c *fiber.Ctx) (*content.School, *content.Class, *content.Assignment, error) {
	sc, cl, a, err := s.classAssignment(c)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.stillScheduled(a); err != nil {
		return nil, nil, nil, err
	}
	return sc, cl, a, nil
}

// moveReleasedDue moves a released assignment's due date (nothing else of
// it can change): stored first, then the feed items are rewritten by a
// queued task; the reminder follows the stored date by itself (it is
// keyed by the due time, and a reminder already sent for the old day is
// not sent again for it).
func (s *server) moveReleasedDue(c *fiber.Ctx, sc *content.School, a *content.Assignment, req assignmentRequest) error {
	fe := content.FieldErrors{}
	was := a.DueAt
	s.applyDue(sc, a, req, false, fe)
	if err := fe.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	a.UpdatedAt = s.Clock.Now()
	if !a.DueAt.Equal(was) {
		if err := s.Assignments.SetAssignmentDue(ctx, a.ID, was, a.DueAt, a.UpdatedAt); err != nil {
			return err
		}
		task, err := tasks.NewRefreshAssignmentFeed(a.ID, a.DueAt)
		if err != nil {
			return err
		}
		if err := tasks.Enqueue(ctx, s.Tasks, task); err != nil {
			// The due date is stored and the reminder follows it; only the
			// feed shows the old date until the next move.
			s.Log.Error("queue feed refresh failed", "request_id", requestID(c), "assignment_id", a.ID, "err", err)
		}
	}
	return c.JSON(s.toAssignmentDTO(a, sc))
}

func (s *server) patchAssignment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, cl, a, err := s.classAssignment(c)
		if err != nil {
			return err
		}
		var req assignmentRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if a.State == content.AssignmentReleased && req.ActivityIDs == nil && req.ChildIDs == nil && req.ReleaseAt == nil &&
			(req.DueAt != nil || req.DueDate != nil) {
			return s.moveReleasedDue(c, sc, a, req)
		}
		if err := s.stillScheduled(a); err != nil {
			return err
		}
		ctx := c.UserContext()
		was := a.ReleaseAt
		if err := s.applyAssignment(ctx, sc, cl, a, req, false); err != nil {
			return err
		}
		a.UpdatedAt = s.Clock.Now()
		// Queue the new time first: if the update then loses a race, the
		// extra task finds the time unchanged from its view and does
		// nothing; if queueing fails, nothing has changed.
		if !a.ReleaseAt.Equal(was) {
			if err := s.queueRelease(ctx, a); err != nil {
				return err
			}
		}
		if err := s.Assignments.UpdateScheduledAssignment(ctx, a, was); err != nil {
			return err
		}
		return c.JSON(s.toAssignmentDTO(a, sc))
	}
}

// withdrawAssignment withdraws an assignment before release; its queued
// task finds it withdrawn and does nothing.
func (s *server) withdrawAssignment() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, _, a, err := s.scheduledAssignment(c)
		if err != nil {
			return err
		}
		was := a.ReleaseAt
		a.State, a.UpdatedAt = content.AssignmentWithdrawn, s.Clock.Now()
		if err := s.Assignments.UpdateScheduledAssignment(c.UserContext(), a, was); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// AssignmentSubmissions is what the due-date reminder reads of submissions:
// which children of an assignment someone has sent something back for.
type AssignmentSubmissions interface {
	SubmissionsOfAssignment(ctx context.Context, assignmentID string) ([]*content.Submission, error)
}

// dueReminderLookahead bounds the sweep's scan by due date: a reminder
// falls at most a day and a half before the due time (DueReminderHour the
// day before a due time late in the evening), plus an hour for a
// daylight-saving change.
const dueReminderLookahead = 49 * time.Hour

// DueReminders sends the day-before reminder of released assignments to the
// families that have not sent anything back for their child, and keeps the
// feed's due dates current when a teacher moves one.
//
// Tick (every tasks.DueRemindersInterval) scans released assignments due
// within dueReminderLookahead — a scan bounded by the due date, indexed on
// MongoDB — and queues a TypeDueReminder for each whose reminder time
// (content.DueReminderAt, in the school's zone) has come. That task is
// keyed by assignment and due time, and publishes one broadcast whose ID
// is fixed by assignment and due date, with the parents computed as it
// runs: so a re-run sends nothing new, a moved due date is reminded at its
// new time, a withdrawn assignment never is, and the senders apply
// preferences (category activities), quiet hours, STOP and the SMS budget.
type DueReminders struct {
	Assignments content.Assignments
	Roster      content.Roster
	Submissions AssignmentSubmissions
	Feed        content.FeedWriter
	Ledger      content.Ledger
	Tasks       tasks.Enqueuer
	Clock       content.Clock
	Log         *slog.Logger
	AppURL      string
}

// Tick queues the reminders whose time has come.
func (h *DueReminders) Tick(ctx context.Context, _ *asynq.Task) error {
	now := h.Clock.Now()
	as, err := h.Assignments.ReleasedAssignmentsDue(ctx, now, now.Add(dueReminderLookahead))
	if err != nil {
		return err
	}
	zones := map[string]*time.Location{}
	queued := 0
	for _, a := range as {
		loc, err := schoolZone(ctx, h.Roster, a.SchoolID, zones)
		if err != nil {
			return err
		}
		if now.Before(content.DueReminderAt(a.DueAt, loc)) {
			continue
		}
		task, err := tasks.NewDueReminder(a.ID, a.DueAt)
		if err != nil {
			return err
		}
		if err := tasks.Enqueue(ctx, h.Tasks, task); err != nil {
			return fmt.Errorf("queue reminder of %s: %w", a.ID, err)
		}
		queued++
	}
	h.Log.Info("due reminders swept", "due_soon", len(as), "queued", queued)
	return nil
}

// schoolZone is the school's time zone, read once per run (zones caches).
func schoolZone(ctx context.Context, roster content.Roster, schoolID string, zones map[string]*time.Location) (*time.Location, error) {
	if loc, ok := zones[schoolID]; ok {
		return loc, nil
	}
	sc, err := roster.School(ctx, schoolID)
	if err != nil {
		return nil, fmt.Errorf("school %s: %w", schoolID, err)
	}
	loc, err := time.LoadLocation(sc.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	zones[schoolID] = loc
	return loc, nil
}

func (h *DueReminders) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseDueReminder(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	a, err := h.Assignments.Assignment(ctx, p.AssignmentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	// Withdrawn, or the due date moved: the task for the new time reminds.
	if a.State != content.AssignmentReleased || a.DueAt.Unix() != p.DueAt {
		return nil
	}
	loc, err := schoolZone(ctx, h.Roster, a.SchoolID, map[string]*time.Location{})
	if err != nil {
		return err
	}
	now, remindAt := h.Clock.Now(), content.DueReminderAt(a.DueAt, loc)
	switch {
	case !now.Before(a.DueAt):
		return nil // too late to remind
	case now.Before(remindAt):
		return fmt.Errorf("reminder of %s ran %s early", a.ID, remindAt.Sub(now))
	case !a.ReleaseAt.Before(remindAt):
		// Released after the reminder's time: the release's own message
		// is fresh, and a second within hours would be noise.
		return nil
	}
	id := content.DueReminderBroadcastID(a.ID, content.DueDate(a.DueAt, loc))
	if _, err := h.Ledger.Broadcast(ctx, id); err == nil {
		return tasks.QueueExpansion(ctx, h.Tasks, id) // published: finish it
	} else if !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	children, err := assignmentTargets(ctx, h.Roster, a)
	if err != nil {
		return err
	}
	subs, err := h.Submissions.SubmissionsOfAssignment(ctx, a.ID)
	if err != nil {
		return err
	}
	sent := map[string]bool{}
	for _, s := range subs {
		sent[s.ChildID] = true
	}
	var pending []*content.Child
	var parents []string
	for _, k := range children {
		if sent[k.ID] {
			continue // the family has sent something back for this child
		}
		pending = append(pending, k)
		for _, pl := range k.Parents {
			if pl.State == content.LinkLinked && !slices.Contains(parents, pl.ParentID) {
				parents = append(parents, pl.ParentID)
			}
		}
	}
	if len(parents) == 0 {
		h.Log.Info("due reminder not needed", "assignment_id", a.ID, "children", len(children))
		return nil
	}
	slices.Sort(parents)
	b := &content.Broadcast{ID: id, SchoolID: a.SchoolID, CreatedBy: a.SetBy,
		Template: string(notify.TemplateDueReminder), Category: content.CategoryActivities,
		Params:   releaseParams(a, pending, strings.TrimRight(h.AppURL, "/")),
		Audience: content.Audience{ParentIDs: parents}, State: content.BroadcastExpanding, CreatedAt: now}
	if _, _, err := content.Publish(ctx, h.Ledger, tasks.Expander(h.Tasks), b, nil); err != nil {
		return err
	}
	h.Log.Info("due reminder published", "assignment_id", a.ID, "broadcast_id", id,
		"children", len(pending), "parents", len(parents))
	return nil
}

// RefreshFeed rewrites a released assignment's feed items with the due
// date it now has (queued when a teacher moves it); progress and responses
// are kept apart from the items and stay as they are.
func (h *DueReminders) RefreshFeed(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseDueReminder(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	a, err := h.Assignments.Assignment(ctx, p.AssignmentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if a.State != content.AssignmentReleased || a.DueAt.Unix() != p.DueAt {
		return nil
	}
	children, err := assignmentTargets(ctx, h.Roster, a)
	if err != nil {
		return err
	}
	for _, k := range children {
		if err := addToFeed(ctx, h.Feed, a, k); err != nil {
			return err
		}
	}
	return nil
}

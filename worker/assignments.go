package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Releases carries out an assignment's release at its release time: a feed
// item per targeted child and activity, then one notification broadcast to
// the children's linked parents (the expansion gives each parent one
// message however many of their children are targeted, and the senders
// apply quiet hours, suppression and budgets).
//
// Every step is idempotent — the release is claimed conditionally on the
// release time, feed items are keyed by assignment and activity, and the
// broadcast's ID is fixed by the assignment — so a retry after a crash
// finishes the work without doubling any of it.
type Releases struct {
	Assignments content.Assignments
	Roster      content.Roster
	Feed        content.FeedWriter
	Ledger      content.Ledger
	Tasks       tasks.Enqueuer
	Clock       content.Clock
	Log         *slog.Logger
	AppURL      string
}

func (h *Releases) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseReleaseAssignment(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	a, err := h.Assignments.Assignment(ctx, p.AssignmentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if a.ReleaseAt.Unix() != p.ReleaseAt {
		return nil // re-timed: the task for the new time does the release
	}
	now := h.Clock.Now()
	if now.Before(a.ReleaseAt) {
		return fmt.Errorf("release of %s ran %s early", a.ID, a.ReleaseAt.Sub(now))
	}
	carryOn, err := h.Assignments.StartRelease(ctx, a.ID, a.ReleaseAt, now)
	if err != nil || !carryOn {
		return err // withdrawn, or an error to retry
	}
	children, err := assignmentTargets(ctx, h.Roster, a)
	if err != nil {
		return err
	}
	var parents []string
	for _, k := range children {
		if err := addToFeed(ctx, h.Feed, a, k); err != nil {
			return err
		}
		for _, pl := range k.Parents {
			if pl.State == content.LinkLinked && !slices.Contains(parents, pl.ParentID) {
				parents = append(parents, pl.ParentID)
			}
		}
	}
	if len(parents) == 0 {
		h.Log.Info("assignment released", "assignment_id", a.ID, "children", len(children), "parents", 0)
		return nil
	}
	slices.Sort(parents)
	b := &content.Broadcast{ID: content.ReleaseBroadcastID(a.ID), SchoolID: a.SchoolID, CreatedBy: a.SetBy,
		Template: string(notify.TemplateActivitySet), Category: content.CategoryActivities,
		Params:   releaseParams(a, children, strings.TrimRight(h.AppURL, "/")),
		Audience: content.Audience{ParentIDs: parents}, State: content.BroadcastExpanding, CreatedAt: now}
	if _, _, err := content.Publish(ctx, h.Ledger, tasks.Expander(h.Tasks), b, nil); err != nil {
		return err
	}
	h.Log.Info("assignment released", "assignment_id", a.ID, "broadcast_id", b.ID,
		"children", len(children), "parents", len(parents))
	return nil
}

// addToFeed puts each of a's activities in child k's feed, or rewrites the
// items already there (their key is fixed by the assignment and activity).
func addToFeed(ctx context.Context, feed content.FeedWriter, a *content.Assignment, k *content.Child) error {
	for _, act := range a.Activities {
		item := &content.FeedItem{ChildID: k.ID, Key: a.FeedKey(act.ID), Kind: content.FeedActivity, At: a.ReleaseAt,
			AssignmentID: a.ID, ActivityID: act.ID, Title: act.Title, ActivityKind: act.Kind, Subject: act.Subject,
			Minutes: act.Minutes, DueAt: a.DueAt, SetBy: a.SetBy, TeacherName: a.TeacherName}
		if _, err := feed.AddFeedItem(ctx, item); err != nil {
			return fmt.Errorf("feed of %s: %w", k.ID, err)
		}
	}
	return nil
}

// assignmentTargets are the children the assignment is for, as they are
// now: still at the school and still in the class.
func assignmentTargets(ctx context.Context, roster content.Roster, a *content.Assignment) ([]*content.Child, error) {
	var kids []*content.Child
	if len(a.ChildIDs) == 0 {
		all, err := roster.ChildrenOfClass(ctx, a.ClassID)
		if err != nil {
			return nil, err
		}
		kids = all
	} else {
		for _, id := range a.ChildIDs {
			k, err := roster.Child(ctx, id)
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			kids = append(kids, k)
		}
	}
	out := kids[:0]
	for _, k := range kids {
		if k.SchoolID == a.SchoolID && k.SchoolLink.State == content.LinkLinked && slices.Contains(k.ClassIDs, a.ClassID) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(x, y *content.Child) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// releaseParams are the broadcast's template parameters: the activity, the
// teacher and the app link. A child's first name is set only when the
// release targets one child; otherwise each recipient's message needs the
// names of their own children among those targeted, filled in at send
// time: "child_ids" lists the targeted children (IDs only) for that.
// "activity_title_<lang>" is the activity's title in another language,
// for a parent who is messaged in it (recipientParams).
func releaseParams(a *content.Assignment, children []*content.Child, appURL string) map[string]string {
	p := map[string]string{"teacher_name": a.TeacherName, "link": appURL + "/feed"}
	p["activity_title"] = ""
	if len(a.Activities) > 0 {
		p["activity_title"] = a.Activities[0].Title
		for lang, title := range a.Activities[0].Titles {
			p[activityTitleIn(lang)] = title
		}
	}
	if len(children) == 1 {
		p["child_first_name"] = children[0].FirstName
	}
	ids := make([]string, len(children))
	for i, k := range children {
		ids[i] = k.ID
	}
	p["child_ids"] = strings.Join(ids, ",")
	return p
}

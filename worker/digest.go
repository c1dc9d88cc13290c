package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// The household digest: a parent with several children may take one push a
// day summing up non-urgent messages instead of a push for each. The
// expansion holds such a push (no ledger entry is written for it; the feed
// and inbox show the item as ever) by recording the broadcast on the
// parent for the day's digest and queueing that day's TypeSendDigest,
// keyed by parent and day. At content.DigestHour the digest publishes one
// broadcast per school (ID fixed by parent, day and school) through the
// usual pipeline, so it is sent once and quiet hours, STOP and the budget
// hold for it too.

// heldForDigest reports whether the push of b to p waits for p's digest:
// only for a parent who chose it, and never for an urgent or important
// broadcast (important ones fall back to SMS when unread), account
// messages, invites, a due-date reminder (it is about tomorrow, the digest
// could come after the evening), a staff member's message in a
// conversation (one person writing to the family, who may be waiting for
// the answer) or a digest itself.
func heldForDigest(p content.ParentContact, b *content.Broadcast) bool {
	if !p.Digest || b.Urgent || b.Important {
		return false
	}
	switch notify.Template(b.Template) {
	case notify.TemplateDueReminder, notify.TemplateDigest, notify.TemplateInvite, notify.TemplateInviteReminder,
		notify.TemplateConversationMessage:
		return false
	}
	switch b.Category {
	case content.CategoryActivities, content.CategoryReplies, content.CategoryAwards, content.CategoryNews:
		return true
	}
	return false
}

// digestHolder holds pushes for digests during one expansion.
type digestHolder struct {
	holds  content.DigestHolds
	roster content.Roster
	tasks  tasks.Enqueuer
	loc    *time.Location // the broadcast school's zone, once read
}

// hold records b's push to parentID for the digest due next after now.
func (d *digestHolder) hold(ctx context.Context, b *content.Broadcast, parentID string, now time.Time) error {
	if d.loc == nil {
		loc, err := schoolZone(ctx, d.roster, b.SchoolID, map[string]*time.Location{})
		if err != nil {
			return err
		}
		d.loc = loc
	}
	day, sendAt := content.DigestDay(now, d.loc)
	if err := d.holds.HoldForDigest(ctx, parentID, day, b.ID); err != nil {
		return fmt.Errorf("hold %s for digest: %w", b.ID, err)
	}
	task, err := tasks.NewSendDigest(parentID, day, sendAt)
	if err != nil {
		return err
	}
	return tasks.Enqueue(ctx, d.tasks, task)
}

// Digests sends a parent's daily digest (TypeSendDigest).
type Digests struct {
	Holds  content.DigestHolds
	Roster content.Roster
	Ledger content.Ledger
	Tasks  tasks.Enqueuer
	Clock  content.Clock
	Log    *slog.Logger
	AppURL string
}

func (h *Digests) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseSendDigest(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	parent, err := h.Roster.Parent(ctx, p.ParentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	held := parent.DigestHeld[p.Day]
	if len(held) > content.DigestHeldMax {
		held = held[:content.DigestHeldMax]
	}
	// Count the held broadcasts by school, with the children they are about.
	type group struct {
		n        int
		childIDs []string
		all      bool // a message named no children: name them all
	}
	bySchool := map[string]*group{}
	for _, id := range held {
		b, err := h.Ledger.Broadcast(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		g := bySchool[b.SchoolID]
		if g == nil {
			g = &group{}
			bySchool[b.SchoolID] = g
		}
		g.n++
		g.all = g.all || b.Params["child_ids"] == ""
		for _, c := range strings.Split(b.Params["child_ids"], ",") {
			if c != "" && !slices.Contains(g.childIDs, c) {
				g.childIDs = append(g.childIDs, c)
			}
		}
	}
	schools := make([]string, 0, len(bySchool))
	for s := range bySchool {
		schools = append(schools, s)
	}
	slices.Sort(schools)
	now := h.Clock.Now()
	for _, school := range schools {
		g := bySchool[school]
		// The children named: those the messages were about, or every
		// child of the parent's at the school when one was about no child
		// in particular.
		var kids []string
		for _, c := range parent.Children {
			if c.SchoolID == school && c.State == content.LinkLinked && (g.all || slices.Contains(g.childIDs, c.ChildID)) {
				kids = append(kids, c.ChildID)
			}
		}
		if len(kids) == 0 {
			continue // no longer linked there: nothing to tell
		}
		b := &content.Broadcast{ID: content.DigestBroadcastID(parent.ID, p.Day, school), SchoolID: school,
			CreatedBy: DigestCreatedBy, Template: string(notify.TemplateDigest), Category: content.CategoryAccount,
			Params: map[string]string{"item_count": strconv.Itoa(g.n), "child_ids": strings.Join(kids, ","),
				"link": strings.TrimRight(h.AppURL, "/") + "/feed"},
			Audience: content.Audience{ParentIDs: []string{parent.ID}}, State: content.BroadcastExpanding, CreatedAt: now}
		if _, _, err := content.Publish(ctx, h.Ledger, tasks.Expander(h.Tasks), b, nil); err != nil {
			return err
		}
		h.Log.Info("digest published", "parent_id", parent.ID, "broadcast_id", b.ID, "items", g.n)
	}
	// Published first, cleared after: a crash in between re-publishes the
	// same IDs, which is a no-op.
	return h.Holds.ClearDigest(ctx, parent.ID, p.Day)
}

// DigestCreatedBy marks the digest broadcasts.
const DigestCreatedBy = "system:digest"

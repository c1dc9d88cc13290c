package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// InviteReminders reminds the parents an import invited and who have not
// joined: at +3 and +7 days (tasks queued at commit) it creates one
// invite_reminder broadcast for those still invited and linked at the
// school. Joining, closure and unlinking drop a parent here; STOP is
// enforced by the pipeline at send time, like every send. The broadcast id
// is derived from the import and the day, so a task that runs twice
// creates and expands one broadcast.
type InviteReminders struct {
	Imports content.Imports
	Roster  content.Roster
	Ledger  content.Ledger
	Tasks   tasks.Enqueuer
	HashKey []byte
	Clock   content.Clock
	Log     *slog.Logger
	AppURL  string
}

func (h *InviteReminders) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseInviteReminder(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	batch, err := h.Imports.Import(ctx, p.ImportID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil // the school (and its imports) were purged
	} else if err != nil {
		return err
	}
	brdID := "brd_" + content.KeyedHash(h.HashKey, fmt.Sprintf("reminder:%s:%d", p.ImportID, p.Day))[:20]
	b, err := h.Ledger.Broadcast(ctx, brdID)
	if content.IsCode(err, content.CodeNotFound) {
		ids, err := h.stillInvited(ctx, batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			h.Log.Info("no invite reminders owed", "import_id", p.ImportID, "day", p.Day)
			return nil
		}
		b = &content.Broadcast{ID: brdID, SchoolID: batch.SchoolID, CreatedBy: batch.CreatedBy,
			Template: string(notify.TemplateInviteReminder), Category: "invites",
			Params: map[string]string{"link": h.AppURL}, Audience: content.Audience{ParentIDs: ids},
			State: content.BroadcastExpanding, CreatedAt: h.Clock.Now()}
	} else if err != nil {
		return err
	}
	// Found, it is a retry: publishing it again only queues its expansion.
	b, created, err := content.Publish(ctx, h.Ledger, tasks.Expander(h.Tasks), b, nil)
	if err != nil {
		return err
	}
	if created {
		if err := h.Imports.CountReminder(ctx, batch.SchoolID, b.Audience.ParentIDs); err != nil {
			h.Log.Warn("count invite reminders", "import_id", p.ImportID, "err", err)
		}
	}
	h.Log.Info("invite reminders queued", "import_id", p.ImportID, "day", p.Day, "broadcast_id", brdID,
		"parents", len(b.Audience.ParentIDs))
	return nil
}

// stillInvited lists the import's invited parents who have not joined, are
// not closed and are still linked at the school, each read by _id.
func (h *InviteReminders) stillInvited(ctx context.Context, batch *content.ImportBatch) ([]string, error) {
	invs, err := h.Imports.FamilyInvitesOfSchool(ctx, batch.SchoolID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, inv := range invs {
		if inv.ImportID != batch.ID {
			continue
		}
		pa, err := h.Roster.Parent(ctx, inv.ParentID)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if pa.State != content.ParentInvited {
			continue
		}
		linked := false
		for _, c := range pa.Children {
			linked = linked || (c.SchoolID == batch.SchoolID && c.State == content.LinkLinked)
		}
		if linked {
			ids = append(ids, pa.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

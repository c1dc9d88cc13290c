package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Expansions turns a broadcast into ledger pages and queues their sends.
//
// Recipients are the linked parents the audience names, one entry per
// parent (siblings do not double a message) on the parent's channel. A
// re-run after a crash reads the pages already written and appends only
// recipients not on any of them, so nobody is owed twice even if the
// audience changed in between; pages are appended in order, so what exists
// is always a prefix with no gaps.
type Expansions struct {
	Ledger content.Ledger
	Roster content.Roster
	Tasks  Enqueuer
	Clock  content.Clock
	Log    *slog.Logger
}

// pagesPerWrite bounds one ordered insert (and the memory of a batch).
const pagesPerWrite = 20

func (h *Expansions) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseExpandBroadcast(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	b, err := h.Ledger.Broadcast(ctx, p.BroadcastID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	audience, err := h.audience(ctx, b)
	if err != nil {
		return err
	}
	// What earlier runs wrote: a prefix of pages.
	done := map[string]bool{}
	n := 0
	for ; ; n++ {
		page, err := h.Ledger.LedgerPage(ctx, content.LedgerPageID(b.ID, n))
		if content.IsCode(err, content.CodeNotFound) {
			break
		} else if err != nil {
			return err
		}
		for _, e := range page.Entries {
			done[e.RecipientID] = true
		}
	}
	total := len(done)
	var batch []*content.LedgerPage // completed pages not yet written
	var cur *content.LedgerPage
	flush := func() error {
		if err := h.Ledger.AppendLedgerPages(ctx, batch); err != nil {
			return fmt.Errorf("append pages of %s: %w", b.ID, err)
		}
		batch = batch[:0]
		return nil
	}
	now := h.Clock.Now()
	for _, parentID := range audience {
		if done[parentID] {
			continue
		}
		ch, ok, err := h.channelFor(ctx, parentID)
		if err != nil {
			return err
		}
		if !ok {
			continue // no way to reach them; the funnel shows it
		}
		if cur == nil {
			cur = &content.LedgerPage{ID: content.LedgerPageID(b.ID, n), BroadcastID: b.ID, SchoolID: b.SchoolID, N: n, CreatedAt: now}
			n++
		}
		cur.Entries = append(cur.Entries, content.LedgerEntry{RecipientID: parentID, Channel: string(ch)})
		total++
		if len(cur.Entries) == content.LedgerPageSize {
			batch, cur = append(batch, cur), nil
			if len(batch) == pagesPerWrite {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if cur != nil {
		batch = append(batch, cur)
	}
	if err := flush(); err != nil {
		return err
	}
	if err := h.Ledger.SetBroadcastExpanded(ctx, b.ID, n, total); err != nil {
		return err
	}
	// Queue every page (an already-queued one is a no-op by TaskID).
	for i := 0; i < n; i++ {
		task, err := tasks.NewSendPage(content.LedgerPageID(b.ID, i), b.CreatedAt)
		if err != nil {
			return err
		}
		if _, err := h.Tasks.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("queue page %d of %s: %w", i, b.ID, err)
		}
	}
	h.Log.Info("broadcast expanded", "broadcast_id", b.ID, "pages", n, "recipients", total)
	return nil
}

// audience resolves the broadcast's parents: sorted, unique, linked to a
// child at the school who is still on the school's roll.
func (h *Expansions) audience(ctx context.Context, b *content.Broadcast) ([]string, error) {
	set := map[string]bool{}
	addFrom := func(kids []*content.Child) {
		for _, k := range kids {
			if k.SchoolID != b.SchoolID || k.SchoolLink.State != content.LinkLinked {
				continue
			}
			for _, l := range k.Parents {
				if l.State == content.LinkLinked {
					set[l.ParentID] = true
				}
			}
		}
	}
	if b.Audience.AllParents {
		kids, err := h.Roster.ChildrenOfSchool(ctx, b.SchoolID)
		if err != nil {
			return nil, err
		}
		addFrom(kids)
	}
	for _, c := range b.Audience.ClassIDs {
		kids, err := h.Roster.ChildrenOfClass(ctx, c)
		if err != nil {
			return nil, err
		}
		addFrom(kids)
	}
	for _, id := range b.Audience.ParentIDs {
		p, err := h.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		for _, c := range p.Children {
			if c.SchoolID == b.SchoolID && c.State == content.LinkLinked {
				set[id] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// channelFor picks how a parent is reached: SMS to a mobile, else email.
// (Push for parents with the app, and per-category preferences, arrive
// with device registration.) Closed accounts are skipped here and again
// at send time.
func (h *Expansions) channelFor(ctx context.Context, parentID string) (notify.Channel, bool, error) {
	p, err := h.Roster.Parent(ctx, parentID)
	if content.IsCode(err, content.CodeNotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	switch {
	case p.State == content.ParentClosed || p.State == content.ParentErased:
		return "", false, nil
	case p.Phone != "" && isMobile(p.Phone):
		return notify.ChannelSMS, true, nil
	case p.Email != "":
		return notify.ChannelEmail, true, nil
	}
	return "", false, nil
}

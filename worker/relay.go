package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Relay reconciles Redis with the ledger. It never sends anything itself.
type Relay struct {
	Ledger content.Ledger
	Tasks  tasks.Enqueuer
	Clock  content.Clock
	Log    *slog.Logger
	// Lease is how long a claim may stay unresolved before the entry is
	// declared unknown: longer than any provider call with its timeout.
	Lease time.Duration
	// Grace is how long an owed entry may wait past its time before the
	// relay assumes its task was lost.
	Grace time.Duration
}

func (h *Relay) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	var errs []error
	if err := h.redriveExpansions(ctx); err != nil {
		errs = append(errs, err)
	}
	bs, err := h.Ledger.BroadcastsInState(ctx, content.BroadcastSending)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, b := range bs {
		if err := h.sweep(ctx, b); err != nil {
			errs = append(errs, fmt.Errorf("broadcast %s: %w", b.ID, err))
		}
	}
	return errors.Join(errs...)
}

// redriveExpansions queues the expansion of every broadcast still
// expanding past the grace period: whoever created it may have died before
// queueing it, or Redis lost the task. While an expansion is queued or
// running its task ID refuses a second; a finished one left the broadcast
// sending. Expanding again is safe: it appends only recipients no page has.
func (h *Relay) redriveExpansions(ctx context.Context) error {
	bs, err := h.Ledger.BroadcastsInState(ctx, content.BroadcastExpanding)
	if err != nil {
		return err
	}
	now := h.Clock.Now()
	for _, b := range bs {
		if now.Sub(b.CreatedAt) <= h.Grace {
			continue
		}
		if err := tasks.QueueExpansion(ctx, h.Tasks, b.ID); err != nil {
			return fmt.Errorf("requeue expansion of %s: %w", b.ID, err)
		}
		h.Log.Warn("relay requeued an expansion", "broadcast_id", b.ID)
	}
	return nil
}

func (h *Relay) sweep(ctx context.Context, b *content.Broadcast) error {
	now := h.Clock.Now()
	open, unknown, requeued := 0, 0, 0
	ids := make([]string, 0, b.Pages)
	for n := 0; n < b.Pages; n++ {
		ids = append(ids, content.LedgerPageID(b.ID, n))
	}
	for k := 0; k < len(ids); k++ {
		page, err := h.Ledger.LedgerPage(ctx, ids[k])
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if b.Important && !page.Fallback {
			// Its fallback page, if the check has written it, is owed
			// like any other; until then the check itself is owed.
			fbID := content.FallbackPageID(b.ID, page.N)
			if _, err := h.Ledger.LedgerPage(ctx, fbID); err == nil {
				ids = append(ids, fbID)
			} else if !content.IsCode(err, content.CodeNotFound) {
				return err
			} else if awaitsFallback(page) {
				open++
				if now.Sub(page.CreatedAt) > h.Grace {
					// The check decides for itself whether it is due yet.
					t, err := tasks.NewImportantFallback(page.ID, now.Truncate(time.Minute))
					if err != nil {
						return err
					}
					if err := tasks.Enqueue(ctx, h.Tasks, t); err != nil {
						return fmt.Errorf("requeue fallback check of %s: %w", page.ID, err)
					}
				}
			}
		}
		stale := false
		for i, e := range page.Entries {
			switch {
			case e.Rank >= content.RankUnknown:
				continue
			case e.Held():
				open++
				if now.Sub(e.ClaimedAt) > h.Lease {
					// The worker holding it died or lost its store: the
					// provider may have the message, so it is never resent.
					if err := h.Ledger.RaiseEntryState(ctx, page.ID, i, content.StateUnknown, "lease_expired", now); err != nil {
						return err
					}
					unknown++
					open--
				}
			default:
				open++
				if now.Sub(e.NotBefore) > h.Grace && now.Sub(page.CreatedAt) > h.Grace {
					stale = true
				}
			}
		}
		if stale {
			// A task ID per relay minute: a page still being worked gets at
			// most one extra task, which its claims make harmless.
			t, err := tasks.NewSendPage(page.ID, now.Truncate(time.Minute))
			if err != nil {
				return err
			}
			if err := tasks.Enqueue(ctx, h.Tasks, t); err != nil {
				return fmt.Errorf("requeue %s: %w", page.ID, err)
			}
			requeued++
		}
	}
	if unknown > 0 || requeued > 0 {
		h.Log.Warn("relay repaired a broadcast", "broadcast_id", b.ID, "marked_unknown", unknown, "pages_requeued", requeued)
	}
	if open == 0 {
		return h.Ledger.SetBroadcastDone(ctx, b.ID)
	}
	return nil
}

// awaitsFallback reports whether a page of an important broadcast, with no
// fallback page yet, has a push that may still fall back to SMS.
func awaitsFallback(page *content.LedgerPage) bool {
	for _, e := range page.Entries {
		if e.Channel == string(notify.ChannelPush) && (e.Rank < content.RankUnknown || fallsBack(e)) {
			return true
		}
	}
	return false
}

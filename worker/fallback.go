package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/phone"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Fallbacks handles TypeImportantFallback: once every push of a page of an
// important broadcast has been settled for Delay, each parent whose push
// was accepted but not opened (the app reports opening: StateRead) and who
// has a mobile is owed an SMS instead. Those SMS are written once, as the
// page's fallback page (content.FallbackPageID), and sent like any other
// page; quiet hours always hold them (pageContext.deferral), urgent or not.
// A push that failed outright (no device left) falls back too: the parent
// was not reached.
type Fallbacks struct {
	Ledger content.Ledger
	Roster content.Roster
	Tasks  tasks.Enqueuer
	Clock  content.Clock
	Log    *slog.Logger
	Delay  time.Duration
	Phones phone.Numbers // which numbers take texts
}

func (h *Fallbacks) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseImportantFallback(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	page, err := h.Ledger.LedgerPage(ctx, p.PageID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	fbID := content.FallbackPageID(page.BroadcastID, page.N)
	if _, err := h.Ledger.LedgerPage(ctx, fbID); err == nil {
		return h.queue(ctx, fbID) // written before: make sure it is being sent
	} else if !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	now := h.Clock.Now()
	var latest time.Time
	var unread []string
	for _, e := range page.Entries {
		if e.Channel != string(notify.ChannelPush) {
			continue
		}
		if e.Rank < content.RankUnknown {
			// Still owed: look again once it has had its chance.
			return h.again(ctx, page.ID, now.Add(h.Delay))
		}
		if e.UpdatedAt.After(latest) {
			latest = e.UpdatedAt
		}
		if fallsBack(e) {
			unread = append(unread, e.RecipientID)
		}
	}
	if due := latest.Add(h.Delay); now.Before(due) {
		return h.again(ctx, page.ID, due)
	}
	fb := &content.LedgerPage{ID: fbID, BroadcastID: page.BroadcastID, SchoolID: page.SchoolID, N: page.N,
		Fallback: true, CreatedAt: now}
	for _, id := range unread {
		parent, err := h.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if parent.Phone != "" && h.Phones.IsMobile(parent.Phone) {
			fb.Entries = append(fb.Entries, content.LedgerEntry{RecipientID: id, Channel: string(notify.ChannelSMS)})
		}
	}
	// Written even when empty: it records that the check was made.
	if err := h.Ledger.PutLedgerPages(ctx, []*content.LedgerPage{fb}); err != nil {
		return err
	}
	h.Log.Info("important fallback", "page_id", page.ID, "unread", len(unread), "sms", len(fb.Entries))
	if len(fb.Entries) == 0 {
		// Nothing falls back: this check may have been the last thing owed.
		return settleBroadcast(ctx, h.Ledger, h.Log, page.BroadcastID, page.N+1)
	}
	return h.queue(ctx, fbID)
}

// fallsBack reports whether a settled push entry leaves its parent owed an
// SMS: accepted but never opened, or not delivered at all. Suppressed
// entries (closed account, opted out) and unknown ones (the push may have
// arrived; it is not resent in another form either) do not.
func fallsBack(e content.LedgerEntry) bool {
	return (e.Rank >= content.RankSent && e.Rank < content.RankRead) || e.Rank == content.RankFailed
}

func (h *Fallbacks) again(ctx context.Context, pageID string, at time.Time) error {
	t, err := tasks.NewImportantFallback(pageID, at)
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, h.Tasks, t); err != nil {
		return fmt.Errorf("queue fallback check of %s: %w", pageID, err)
	}
	return nil
}

func (h *Fallbacks) queue(ctx context.Context, pageID string) error {
	t, err := tasks.NewSendPage(pageID, time.Time{})
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, h.Tasks, t); err != nil {
		return fmt.Errorf("queue %s: %w", pageID, err)
	}
	return nil
}

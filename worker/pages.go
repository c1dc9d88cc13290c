package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// PageSender sends one channel's entries of the ledger pages of a task.
type PageSender interface {
	SendPages(ctx context.Context, pages []*content.LedgerPage) error
}

// Pages handles TypeSendPage and TypeSendPages: it loads the pages once and
// lets each channel's sender take its own entries. A failing channel does
// not hold the others back; the task is retried and the claims make that
// harmless. When the senders have settled the last entries a broadcast
// owed, it marks the broadcast done.
type Pages struct {
	Ledger  content.Ledger
	Senders []PageSender
	Log     *slog.Logger

	// settled is what this process knows of pages owing nothing, for
	// marking broadcasts done: shared with the expansion (NewMux), or
	// else the handler's own.
	settled *settledPages
	own     settledPages
}

func (h *Pages) known() *settledPages {
	if h.settled != nil {
		return h.settled
	}
	return &h.own
}

func (h *Pages) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var ids []string
	switch t.Type() {
	case tasks.TypeSendPages:
		p, err := tasks.ParseSendPages(t.Payload())
		if err != nil {
			return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
		}
		ids = p.PageIDs
	default:
		p, err := tasks.ParseSendPage(t.Payload())
		if err != nil {
			return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
		}
		ids = []string{p.PageID}
	}
	pages := make([]*content.LedgerPage, 0, len(ids))
	for _, id := range ids {
		page, err := h.Ledger.LedgerPage(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue // erased with its broadcast: nothing is owed
		} else if err != nil {
			return err
		}
		pages = append(pages, page)
	}
	if len(pages) == 0 {
		return nil
	}
	known := h.known()
	// While the senders work, whoever judges these pages' broadcasts in
	// this process leaves it to this task, which judges once its writes
	// are made.
	worked := known.working(pages)
	defer worked()
	var errs []error
	for _, s := range h.Senders {
		if err := s.SendPages(ctx, pages); err != nil {
			errs = append(errs, err)
		}
	}
	worked()
	if err := settleBroadcasts(ctx, h.Ledger, h.Log, known, pages); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

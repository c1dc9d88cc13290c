package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// PageSender sends one channel's entries of a ledger page.
type PageSender interface {
	SendPage(ctx context.Context, page *content.LedgerPage) error
}

// Pages handles TypeSendPage: it loads the page once and lets each
// channel's sender take its own entries. A failing channel does not hold
// the others back; the task is retried and the claims make that harmless.
type Pages struct {
	Ledger  content.Ledger
	Senders []PageSender
}

func (h *Pages) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseSendPage(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	page, err := h.Ledger.LedgerPage(ctx, p.PageID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil // erased with its broadcast: nothing is owed
	} else if err != nil {
		return err
	}
	var errs []error
	for _, s := range h.Senders {
		if err := s.SendPage(ctx, page); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// noDevices stands in until parents can register push tokens: every push
// entry fails "no_device" (and expansion does not choose push yet).
type noDevices struct{}

func (noDevices) DeviceTokens(context.Context, string) ([]string, error) { return nil, nil }

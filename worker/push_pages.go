package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// ParentDevices reads the device tokens a parent's app registered for
// push. It is all PushPages needs of device records.
type ParentDevices interface {
	DeviceTokens(ctx context.Context, parentID string) ([]string, error)
}

// PushPages sends the push entries of one ledger page: one claim for every
// due entry, send-time policy for each, one provider call for all of them
// (FCM SendEach takes up to 500 messages; a page is at most 100 parents),
// and one write of every outcome.
//
// An entry is one parent; the parent may have several devices, and each
// gets its own push. The entry is sent when any device's push was
// accepted. When none was, the entry is unknown if any push may have gone,
// retried later if any was merely not accepted yet, and failed otherwise —
// "unregistered" when every token was dead. Dead tokens (UNREGISTERED, a
// token-level INVALID_ARGUMENT, another project's token) are reported
// through OnDeadToken whatever became of the entry, so they can be dropped.
//
// Non-urgent pushes wait for the end of quiet hours, like SMS: a phone
// buzzing at night is what quiet hours are for.
type PushPages struct {
	Ledger  content.Ledger
	Roster  content.Roster
	Devices ParentDevices
	Push    notify.PushSender
	Catalog *notify.Catalog
	Tasks   tasks.Enqueuer
	Clock   content.Clock
	Log     *slog.Logger
	// RetryAfter is how long a rate-limited or transient entry waits before
	// its page is tried again, unless the provider asks for longer;
	// defaultRetryAfter when 0.
	RetryAfter time.Duration
	// FallbackAfter is how long an accepted push of an important broadcast
	// may go unopened before the parent is sent an SMS instead (Fallbacks);
	// 0 turns the fallback off.
	FallbackAfter time.Duration
	// OnDeadToken, when set, is told of each token FCM says is no longer
	// a device of ours. It runs on the sending goroutine: keep it quick.
	OnDeadToken func(parentID, token string)
	// Metrics counts outcomes under Provider's name; nil counts nothing.
	Metrics  *MessageMetrics
	Provider string
}

// pushDecision is one won entry: its outcome and, when policy let it
// through, one push per device.
type pushDecision struct {
	out      content.EntryOutcome
	parentID string
	pushes   []notify.Push
	results  []notify.Result
}

// SendPage sends the push entries of one page that are due.
func (h *PushPages) SendPage(ctx context.Context, page *content.LedgerPage) error {
	return h.SendPages(ctx, []*content.LedgerPage{page})
}

// SendPages sends the push entries of pages that are due; entries of other
// channels are left to their senders. Running it again for the same pages
// sends nothing twice: only entries this call claims are sent.
func (h *PushPages) SendPages(ctx context.Context, pages []*content.LedgerPage) error {
	return sendChannel(ctx, pages, notify.ChannelPush, channelDeps{h.Ledger, h.Roster, h.Tasks, h.Clock, h.Metrics.counter(h.Provider)}, h.sendDue)
}

func (h *PushPages) sendDue(ctx context.Context, work []*pageWork, now time.Time) error {
	perPage, err := claimAndDecide(ctx, h.Ledger, h.Log, notify.ChannelPush, work, now,
		func(w *pageWork, i, claim int) (*pushDecision, error) {
			return h.decide(ctx, w.pageContext, i, claim, now)
		},
		func(d *pushDecision) *content.EntryOutcome { return &d.out })
	if err != nil {
		return err
	}
	h.send(ctx, perPage)
	retry := h.RetryAfter
	if retry <= 0 {
		retry = defaultRetryAfter
	}
	dead := 0
	for _, ds := range perPage {
		for _, d := range ds {
			if d.pushes != nil {
				dead += h.settle(d, retry, now)
			}
		}
	}
	claimed, sent, err := recordPerPage(ctx, h.Ledger, h.Clock, work, perPage,
		func(d *pushDecision) content.EntryOutcome { return d.out },
		func(w *pageWork) error { return h.scheduleFallback(ctx, w.pageContext, now) })
	h.Log.Info("push pages sent", "first_page_id", work[0].page.ID, "pages", len(work), "claimed", claimed,
		"sent", sent, "dead_tokens", dead)
	return err
}

// decide applies send-time policy to one won entry — account state, a
// device, quiet hours — and renders one push per device in the parent's
// language.
func (h *PushPages) decide(ctx context.Context, pc *pageContext, i, claim int, now time.Time) (*pushDecision, error) {
	d := &pushDecision{out: content.EntryOutcome{Index: i, Claim: claim}, parentID: pc.page.Entries[i].RecipientID}
	settle := func(st content.MessageState, code string) (*pushDecision, error) {
		d.out.State, d.out.ErrorCode = st, code
		return d, nil
	}
	parent, closed, err := recipientAccount(ctx, h.Roster, d.parentID)
	if err != nil {
		return nil, err
	}
	if closed != "" {
		return settle(content.StateSuppressed, closed)
	}
	if pc.notLinked(parent) {
		return settle(content.StateSuppressed, "not_linked")
	}
	tokens, err := h.Devices.DeviceTokens(ctx, parent.ID)
	if err != nil {
		return nil, fmt.Errorf("devices of %s: %w", parent.ID, err)
	}
	tokens = distinctTokens(tokens)
	if len(tokens) == 0 {
		return settle(content.StateFailed, "no_device")
	}
	if until, ok := pc.deferral(notify.ChannelPush, now); ok {
		deferTo(&d.out, until)
		return d, nil
	}
	params, err := pc.recipientParams(ctx, nil, nil, parent, now)
	if err != nil {
		return settle(content.StateFailed, "render_failed")
	}
	lang := parent.MessageLanguage(pc.broadcast.Category)
	msg, err := pc.render(lang, func() (notify.Rendered, error) {
		return h.Catalog.RenderFor(notify.ChannelPush, notify.Template(pc.broadcast.Template), lang, params)
	})
	if err != nil {
		return settle(content.StateFailed, "render_failed")
	}
	ref := content.EntryRef(pc.page.ID, i)
	data := map[string]string{"ref": ref, "broadcast_id": pc.broadcast.ID} // IDs only
	if id := pc.broadcast.Params[paramAnnouncementID]; id != "" && isAnnouncement(pc.broadcast) {
		data[paramAnnouncementID] = id
	}
	for _, t := range tokens {
		d.pushes = append(d.pushes, msg.Push(ref, t, data))
	}
	return d, nil
}

// distinctTokens drops empty and repeated tokens, keeping order: a device
// registered twice must still get one push.
func distinctTokens(tokens []string) []string {
	seen := make(map[string]bool, len(tokens))
	out := tokens[:0:0]
	for _, t := range tokens {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// send makes the pages' provider calls — as few as notify.MaxPushBatch
// allows, cut between entries so one parent's devices share a call — and
// hands each decision its results.
func (h *PushPages) send(ctx context.Context, perPage [][]*pushDecision) {
	var batch []*pushDecision
	var pushes []notify.Push
	flush := func() {
		if len(pushes) == 0 {
			return
		}
		results, err := h.Push.SendPushes(ctx, pushes)
		if len(results) != len(pushes) {
			results, err = wholeCallResults(len(pushes), err)
			if err != nil {
				h.Log.Error("push results do not match the batch", "pushes", len(pushes), "err", err)
			}
		}
		for _, d := range batch {
			d.results, results = results[:len(d.pushes)], results[len(d.pushes):]
		}
		batch, pushes = nil, nil
	}
	for _, ds := range perPage {
		for _, d := range ds {
			if len(d.pushes) == 0 {
				continue
			}
			if len(pushes)+len(d.pushes) > notify.MaxPushBatch {
				flush()
			}
			batch = append(batch, d)
			pushes = append(pushes, d.pushes...)
		}
	}
	flush()
}

// settle turns the results of an entry's pushes into its outcome and
// reports its dead tokens; it returns how many there were.
func (h *PushPages) settle(d *pushDecision, retry time.Duration, now time.Time) int {
	var accepted bool
	var ambiguous, notYet, refused error
	var notYetAfter time.Duration
	allUnregistered := true
	dead := 0
	for j, res := range d.results {
		if res.Err == nil {
			if !accepted {
				accepted, d.out.ProviderID = true, res.ProviderID
			}
			continue
		}
		var se *notify.SendError
		if !errors.As(res.Err, &se) || se.Code != "UNREGISTERED" {
			allUnregistered = false
		}
		switch notify.KindOf(res.Err) {
		case notify.KindAmbiguous:
			ambiguous = res.Err
		case notify.KindRecipientInvalid:
			dead++
			if h.OnDeadToken != nil {
				h.OnDeadToken(d.parentID, d.pushes[j].Token)
			}
			if refused == nil {
				refused = res.Err
			}
		case notify.KindPermanent, notify.KindSuppressed:
			if refused == nil {
				refused = res.Err
			}
		default: // rate limited, transient: not accepted yet
			if notYet == nil || (se != nil && se.RetryAfter > notYetAfter) {
				notYet = res.Err
				if se != nil {
					notYetAfter = se.RetryAfter
				}
			}
		}
	}
	switch {
	case accepted:
		d.out.State = content.StateSent
	case ambiguous != nil:
		settleFailure(&d.out, ambiguous, retry, now) // it may have reached a device: unknown
	case notYet != nil:
		settleFailure(&d.out, notYet, retry, now)
	case allUnregistered:
		d.out.State, d.out.ErrorCode = content.StateFailed, "unregistered"
	default:
		settleFailure(&d.out, refused, retry, now)
	}
	return dead
}

// scheduleFallback queues the unread-push check of a page of an important
// broadcast for FallbackAfter from now (the check waits longer if pushes
// of the page are still owed then).
func (h *PushPages) scheduleFallback(ctx context.Context, pc *pageContext, now time.Time) error {
	if !pc.broadcast.Important || h.FallbackAfter <= 0 || pc.page.Fallback {
		return nil
	}
	t, err := tasks.NewImportantFallback(pc.page.ID, now.Add(h.FallbackAfter))
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, h.Tasks, t); err != nil {
		return fmt.Errorf("queue fallback check of %s: %w", pc.page.ID, err)
	}
	return nil
}

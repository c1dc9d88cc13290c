package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// EmailPages sends the email entries of the ledger pages of one task (a
// broadcast's pages are queued in groups, see tasks.NewSendPages): one claim
// per page for every due entry, send-time policy for each, as few provider
// requests as SendGrid allows for all of them, and one write of outcomes
// per page.
//
// The adapter puts emails with the same content in one request, up to
// notify.MaxEmailBatch (1,000) personalizations: a group of ten pages of a
// broadcast in one language is one request. Because a request carries
// every claimed entry, they are claimed before it: a crash after the
// request leaves them all held, and the relay marks them unknown, which is
// the truth about a request whose answer was lost.
//
// Email is sent inside quiet hours (see quietHoursApply).
type EmailPages struct {
	Ledger       content.Ledger
	Roster       content.Roster
	Suppressions content.Suppressions
	Email        notify.EmailSender
	Catalog      *notify.Catalog
	Tasks        tasks.Enqueuer
	HashKey      []byte
	Clock        content.Clock
	Log          *slog.Logger
	// RetryAfter is how long a rate-limited or transient entry waits before
	// its page is tried again, unless the provider asks for longer;
	// defaultRetryAfter when 0.
	RetryAfter time.Duration
	// Metrics counts outcomes under Provider's name; nil counts nothing.
	Metrics  *MessageMetrics
	Provider string
}

// emailDecision is one won entry: its outcome, and the email to send when
// policy let it through.
type emailDecision struct {
	out    content.EntryOutcome
	pageID string
	email  *notify.Email
}

// SendPage sends the email entries of one page that are due.
func (h *EmailPages) SendPage(ctx context.Context, page *content.LedgerPage) error {
	return h.SendPages(ctx, []*content.LedgerPage{page})
}

// SendPages sends the email entries of pages that are due; entries of
// other channels are left to their senders. Running it again for the same
// pages sends nothing twice: only entries this call claims are sent.
func (h *EmailPages) SendPages(ctx context.Context, pages []*content.LedgerPage) error {
	return sendChannel(ctx, pages, notify.ChannelEmail, channelDeps{h.Ledger, h.Roster, h.Tasks, h.Clock, h.Metrics.counter(h.Provider)}, h.sendDue)
}

func (h *EmailPages) sendDue(ctx context.Context, work []*pageWork, now time.Time) error {
	// One suppression check for the pages: most keys are ruled out without
	// a lookup of their own.
	check, err := h.Suppressions.Check(ctx)
	if err != nil {
		return err
	}
	perPage, err := claimAndDecide(ctx, h.Ledger, h.Log, notify.ChannelEmail, work, now,
		func(w *pageWork, i, claim int) (*emailDecision, error) {
			return h.decide(ctx, check, w.pageContext, i, claim, now)
		},
		func(d *emailDecision) *content.EntryOutcome { return &d.out })
	if err != nil {
		return err
	}
	h.send(ctx, perPage, now)
	claimed, sent, err := recordPerPage(ctx, h.Ledger, h.Clock, work, perPage,
		func(d *emailDecision) content.EntryOutcome { return d.out }, nil)
	h.Log.Info("email pages sent", "first_page_id", work[0].page.ID, "pages", len(work), "claimed", claimed, "sent", sent)
	return err
}

// decide applies send-time policy to one won entry — account state, an
// address, suppression, quiet hours — and renders the email in the
// parent's language.
func (h *EmailPages) decide(ctx context.Context, check content.SuppressionCheck, pc *pageContext, i, claim int, now time.Time) (*emailDecision, error) {
	d := &emailDecision{out: content.EntryOutcome{Index: i, Claim: claim}, pageID: pc.page.ID}
	settle := func(st content.MessageState, code string) (*emailDecision, error) {
		d.out.State, d.out.ErrorCode = st, code
		return d, nil
	}
	parent, closed, err := recipientAccount(ctx, h.Roster, pc.page.Entries[i].RecipientID)
	if err != nil {
		return nil, err
	}
	if closed != "" {
		return settle(content.StateSuppressed, closed)
	}
	if pc.alreadyJoined(parent) {
		return settle(content.StateSuppressed, "already_joined")
	}
	if pc.notLinked(parent) {
		return settle(content.StateSuppressed, "not_linked")
	}
	if parent.Email == "" {
		return settle(content.StateFailed, "no_email")
	}
	key, err := content.SuppressionKeyOf(h.HashKey, content.SuppressionEmail, parent.Email)
	if err != nil {
		return settle(content.StateFailed, "invalid_email")
	}
	suppressed, err := check.IsSuppressed(ctx, key)
	if err != nil {
		return nil, err
	}
	if suppressed {
		return settle(content.StateSuppressed, "opted_out")
	}
	// Quiet hours do not hold email back (quietHoursApply says why); asking
	// keeps that rule in one place.
	if until, ok := pc.deferral(notify.ChannelEmail, now); ok {
		deferTo(&d.out, until)
		return d, nil
	}
	params, err := pc.recipientParams(ctx, h.Roster, h.HashKey, parent, now)
	if err != nil {
		return nil, err
	}
	lang := parent.MessageLanguage(pc.broadcast.Category)
	msg, err := pc.render(lang, func() (notify.Rendered, error) {
		return h.Catalog.RenderOrEnglish(notify.Template(pc.broadcast.Template), lang, params)
	})
	if err != nil {
		return settle(content.StateFailed, "render_failed")
	}
	email := msg.Email(content.EntryRef(pc.page.ID, i), parent.Email)
	d.email = &email
	return d, nil
}

// send makes the provider call for every email the pages' policy let
// through (the adapter splits it into as few requests as SendGrid allows)
// and turns each result into its entry's outcome.
func (h *EmailPages) send(ctx context.Context, perPage [][]*emailDecision, now time.Time) {
	var batch []*emailDecision
	var emails []notify.Email
	for _, ds := range perPage {
		for _, d := range ds {
			if d.email != nil {
				batch = append(batch, d)
				emails = append(emails, *d.email)
			}
		}
	}
	if len(emails) == 0 {
		return
	}
	results, err := h.Email.SendEmails(ctx, emails)
	if len(results) != len(emails) {
		results, err = wholeCallResults(len(emails), err)
		if err != nil {
			h.Log.Error("email results do not match the batch", "first_page_id", batch[0].pageID, "emails", len(emails), "err", err)
		}
	}
	retry := h.RetryAfter
	if retry <= 0 {
		retry = defaultRetryAfter
	}
	for n, d := range batch {
		res := results[n]
		d.out.ProviderID = res.ProviderID
		if res.Err == nil {
			d.out.State = content.StateSent
			continue
		}
		if settleFailure(&d.out, res.Err, retry, now) {
			h.suppress(ctx, d, now)
		}
	}
}

// suppress records a provider's unsubscribe as ours, so it is checked at
// the next send on any page.
func (h *EmailPages) suppress(ctx context.Context, d *emailDecision, now time.Time) {
	key, err := content.SuppressionKeyOf(h.HashKey, content.SuppressionEmail, d.email.To)
	if err == nil {
		err = h.Suppressions.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionEmail,
			Reason: content.SuppressUnsubscribe, At: now})
	}
	if err != nil {
		h.Log.Error("record provider unsubscribe failed", "page_id", d.pageID, "index", d.out.Index, "err", err)
	}
}

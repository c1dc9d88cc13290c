package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
)

// EmailPages sends the email entries of one ledger page: one claim for
// every due entry, send-time policy for each, one provider call for all of
// them, and one write of every outcome.
//
// A page holds at most content.LedgerPageSize (100) entries, far below
// SendGrid's 1,000 personalizations per request, and the adapter puts
// emails with the same content in one request with one personalization
// each: a page in one language is one request, a page in several
// languages one request per language. Because one request carries every
// claimed entry, they are claimed together: a crash after the request
// leaves them all held, and the relay marks them unknown, which is the
// truth about a request whose answer was lost.
//
// Email is sent inside quiet hours (see quietHoursApply).
type EmailPages struct {
	Ledger       content.Ledger
	Roster       content.Roster
	Suppressions content.Suppressions
	Email        notify.EmailSender
	Catalog      *notify.Catalog
	Tasks        Enqueuer
	HashKey      []byte
	Clock        content.Clock
	Log          *slog.Logger
	// RetryAfter is how long a rate-limited or transient entry waits before
	// its page is tried again, unless the provider asks for longer;
	// defaultRetryAfter when 0.
	RetryAfter time.Duration
}

// emailDecision is one won entry: its outcome, and the email to send when
// policy let it through.
type emailDecision struct {
	out   content.EntryOutcome
	email *notify.Email
}

// SendPage sends the email entries of page that are due; entries of other
// channels are left to their senders. Running it again for the same page
// sends nothing twice: only entries this call claims are sent.
func (h *EmailPages) SendPage(ctx context.Context, page *content.LedgerPage) error {
	return sendChannel(ctx, page, notify.ChannelEmail, channelDeps{h.Ledger, h.Roster, h.Tasks, h.Clock}, h.sendDue)
}

func (h *EmailPages) sendDue(ctx context.Context, pc *pageContext, due []int, now time.Time) error {
	decisions, err := claimAndDecide(ctx, h.Ledger, h.Log, pc, notify.ChannelEmail, due, now,
		func(i, claim int) (*emailDecision, error) { return h.decide(ctx, pc, i, claim, now) })
	if err != nil {
		return err
	}
	h.send(ctx, pc, decisions, now)
	outcomes := make([]content.EntryOutcome, len(decisions))
	sent := 0
	for n, d := range decisions {
		outcomes[n] = d.out
		if d.out.State == content.StateSent {
			sent++
		}
	}
	h.Log.Info("email page sent", "page_id", pc.page.ID, "claimed", len(decisions), "sent", sent)
	// A recording failure leaves the entries held; the relay marks them
	// unknown after the lease, which is the truthful state.
	return pc.recordOutcomes(ctx, h.Ledger, outcomes, h.Clock.Now())
}

// decide applies send-time policy to one won entry — account state, an
// address, suppression, quiet hours — and renders the email in the
// parent's language.
func (h *EmailPages) decide(ctx context.Context, pc *pageContext, i, claim int, now time.Time) (*emailDecision, error) {
	d := &emailDecision{out: content.EntryOutcome{Index: i, Claim: claim}}
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
	if parent.Email == "" {
		return settle(content.StateFailed, "no_email")
	}
	key, err := content.SuppressionKeyOf(h.HashKey, content.SuppressionEmail, parent.Email)
	if err != nil {
		return settle(content.StateFailed, "invalid_email")
	}
	suppressed, err := h.Suppressions.IsSuppressed(ctx, key)
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
	msg, err := h.Catalog.RenderOrEnglish(notify.Template(pc.broadcast.Template), parent.Language, pc.params())
	if err != nil {
		return settle(content.StateFailed, "render_failed")
	}
	email := msg.Email(content.EntryRef(pc.page.ID, i), parent.Email)
	d.email = &email
	return d, nil
}

// send makes the page's one provider call and turns each result into its
// entry's outcome.
func (h *EmailPages) send(ctx context.Context, pc *pageContext, decisions []*emailDecision, now time.Time) {
	var batch []*emailDecision
	var emails []notify.Email
	for _, d := range decisions {
		if d.email != nil {
			batch = append(batch, d)
			emails = append(emails, *d.email)
		}
	}
	if len(emails) == 0 {
		return
	}
	results, err := h.Email.SendEmails(ctx, emails)
	if len(results) != len(emails) {
		results, err = wholeCallResults(len(emails), err)
		if err != nil {
			h.Log.Error("email results do not match the batch", "page_id", pc.page.ID, "emails", len(emails), "err", err)
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
			h.suppress(ctx, pc, d, now)
		}
	}
}

// suppress records a provider's unsubscribe as ours, so it is checked at
// the next send on any page.
func (h *EmailPages) suppress(ctx context.Context, pc *pageContext, d *emailDecision, now time.Time) {
	key, err := content.SuppressionKeyOf(h.HashKey, content.SuppressionEmail, d.email.To)
	if err == nil {
		err = h.Suppressions.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionEmail,
			Reason: content.SuppressUnsubscribe, At: now})
	}
	if err != nil {
		h.Log.Error("record provider unsubscribe failed", "page_id", pc.page.ID, "index", d.out.Index, "err", err)
	}
}

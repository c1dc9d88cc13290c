package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/phone"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/ratelimit"
	"github.com/hometime-edu/hometime/worker/tasks"
	"golang.org/x/sync/semaphore"
)

// SendLimiter gates provider calls across every worker process
// (worker/ratelimit's Limiter, on Redis).
type SendLimiter interface {
	Wait(ctx context.Context, key string, r ratelimit.Rate, n int) (int, error)
}

// SMSPages sends the SMS entries of one ledger page. For each sub-batch it
// waits for rate-limit tokens, claims that many entries (exactly one worker
// wins each), checks send-time policy, calls the provider once per
// message, and records every outcome in one write. A crash leaves claimed
// entries held: the relay later marks them unknown rather than resend.
type SMSPages struct {
	Ledger       content.Ledger
	Roster       content.Roster
	Suppressions content.Suppressions
	Budgets      content.Budgets
	SMS          notify.SMSSender
	Catalog      *notify.Catalog
	Limiter      SendLimiter
	Tasks        tasks.Enqueuer
	HashKey      []byte
	Clock        content.Clock
	Log          *slog.Logger
	Phones       phone.Numbers // which numbers take texts

	SenderKey string         // rate-limit bucket of the sending number or service (no personal data)
	Rate      ratelimit.Rate // provider messages per second for that sender
	Price     notify.SegmentPrice
	// RetryAfter is how long a transient or rate-limited entry waits
	// before its page is tried again.
	RetryAfter time.Duration
	// ClaimSize is how many entries one claim covers (SMSClaimSize); 0 = 1.
	ClaimSize int
	// RoundSize is how many entries the first claims of a task's pages
	// may cover together, made as one round before any of them checks
	// policy (SMSRoundSize; holdRound); at most what Held holds. A round
	// always takes the first page's claim; 0 = that claim alone.
	RoundSize int
	// Held bounds the entries this process holds claimed but not yet sent
	// (SMSHeld); nil = no bound (tests of one page).
	Held *semaphore.Weighted
	// Metrics counts outcomes under Provider's name; nil counts nothing.
	Metrics  *MessageMetrics
	Provider string

	reads policyReads
}

// policyReuse is how long a claim may use the suppression filter's
// counters and a school's parent-change marks read for an earlier claim
// of this process instead of reading them again. A claimed message may
// already wait up to claimWindow for rate-limit tokens after its policy
// was checked, so a STOP, closure or unlink recorded in that time is
// missed by the send either way; a read at most a quarter of that old
// adds no wider gap, and at full speed spares two reads of every page.
const policyReuse = claimWindow / 4

// policyReads are the reads of policyReuse, shared by the claims of this
// process (the suppression view is immutable, the change marks a copy).
type policyReads struct {
	// checkMu and changesMu let one claim read while the others that need
	// the same read wait for it, instead of all reading at once.
	checkMu, changesMu sync.Mutex
	mu                 sync.Mutex
	check              content.SuppressionCheck
	checkAt            time.Time
	changes            map[changesKey]changesRead
}

type changesKey struct {
	school string
	since  time.Time
}

type changesRead struct {
	ids map[string]bool
	all bool
	at  time.Time
}

// suppressionCheck returns the filter view read within policyReuse, or
// reads it. Ages are wall-clock: they bound what a send may miss.
func (h *SMSPages) suppressionCheck(ctx context.Context) (content.SuppressionCheck, error) {
	h.reads.checkMu.Lock()
	defer h.reads.checkMu.Unlock()
	h.reads.mu.Lock()
	if h.reads.check != nil && time.Since(h.reads.checkAt) < policyReuse {
		c := h.reads.check
		h.reads.mu.Unlock()
		return c, nil
	}
	h.reads.mu.Unlock()
	at := time.Now()
	c, err := h.Suppressions.Check(ctx)
	if err != nil {
		return nil, err
	}
	h.reads.mu.Lock()
	if at.After(h.reads.checkAt) {
		h.reads.check, h.reads.checkAt = c, at
	}
	h.reads.mu.Unlock()
	return c, nil
}

// parentsChanged returns the school's change marks since since, read
// within policyReuse, or reads them.
func (h *SMSPages) parentsChanged(ctx context.Context, school string, since time.Time) (map[string]bool, bool, error) {
	k := changesKey{school, since}
	h.reads.changesMu.Lock()
	defer h.reads.changesMu.Unlock()
	h.reads.mu.Lock()
	if r, ok := h.reads.changes[k]; ok && time.Since(r.at) < policyReuse {
		h.reads.mu.Unlock()
		return r.ids, r.all, nil
	}
	h.reads.mu.Unlock()
	at := time.Now()
	ids, all, err := h.Roster.ParentsChangedSince(ctx, school, since)
	if err != nil {
		return nil, false, err
	}
	h.reads.mu.Lock()
	if h.reads.changes == nil || len(h.reads.changes) > 1000 {
		h.reads.changes = map[changesKey]changesRead{}
	}
	if r, ok := h.reads.changes[k]; !ok || at.After(r.at) {
		h.reads.changes[k] = changesRead{ids: ids, all: all, at: at}
	}
	h.reads.mu.Unlock()
	return ids, all, nil
}

// claimWindow is about how long the SMS entries a process holds claimed,
// all together, wait for rate-limit tokens before they are sent. A crash
// strands what is claimed and unsent (the relay marks it unknown), so the
// process holds at most this much sending at once (SMSHeld).
const claimWindow = 500 * time.Millisecond

// SMSHeld bounds the SMS entries one process holds claimed and unsent: what
// the sender's rate sends in claimWindow, at least 1. Pages wait for room
// before they claim, so however many pages a process works on at once, a
// crash strands at most about half a second of sending.
func SMSHeld(r ratelimit.Rate) *semaphore.Weighted {
	return semaphore.NewWeighted(smsHeldCap(r))
}

func smsHeldCap(r ratelimit.Rate) int64 {
	return max(1, int64(r.PerSecond*claimWindow.Seconds()))
}

// tokenWindow is how much of the sender's rate one limiter call may take
// at once. Taking tokens for the next few milliseconds of sending in one
// Redis round trip keeps the pace within that window while a fast sender
// makes a fraction of the calls; a slow sender still takes one at a time.
const tokenWindow = 10 * time.Millisecond

// tokenChunk is the most tokens one limiter call asks for: what the rate
// sends in tokenWindow, at least 1.
func tokenChunk(r ratelimit.Rate) int {
	return max(1, int(r.PerSecond*tokenWindow.Seconds()))
}

// SMSClaimSize is how many SMS entries one claim covers: half of what a
// process may hold (so two claims overlap, one sending while the next is
// made), between 1 and a whole page. At a provider's full speed that is a
// whole page, so a page of SMS costs one claim and one outcome write; at a
// slow sender's 10/s it is two messages.
func SMSClaimSize(r ratelimit.Rate) int {
	return int(max(1, min(smsHeldCap(r)/2, content.LedgerPageSize)))
}

// SMSRoundSize is how many SMS entries the first claims of one task's
// pages cover together (RoundSize): half of what a process may hold, as
// for a claim, so a round waits for no more room than a claim may.
func SMSRoundSize(r ratelimit.Rate) int {
	return int(max(1, smsHeldCap(r)/2))
}

// SendPage sends the SMS entries of one page that are due.
func (h *SMSPages) SendPage(ctx context.Context, page *content.LedgerPage) error {
	return h.SendPages(ctx, []*content.LedgerPage{page})
}

// SendPages sends the SMS entries of pages that are due, page by page (an
// SMS is one provider call each, so pages gain nothing from sharing one);
// entries of other channels are left to their senders.
func (h *SMSPages) SendPages(ctx context.Context, pages []*content.LedgerPage) error {
	return sendChannel(ctx, pages, notify.ChannelSMS, channelDeps{h.Ledger, h.Roster, h.Tasks, h.Clock, h.Metrics.counter(h.Provider)},
		func(ctx context.Context, work []*pageWork, now time.Time) error {
			// The pages of a task are sent side by side, as separate page
			// tasks would be; Held bounds what they claim between them.
			errs := make([]error, len(work))
			pool := &budgetPool{}
			for _, w := range work {
				pool.owed += len(w.due)
			}
			round, err := h.holdRound(ctx, work)
			if err != nil {
				return err
			}
			var claimed sync.WaitGroup // the round's first claims
			claimed.Add(round)
			var wg sync.WaitGroup
			for k, w := range work {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var first *sync.WaitGroup
					if k < round {
						first = &claimed
					}
					errs[k] = h.sendDue(ctx, w.pageContext, w.due, pool, first)
				}()
			}
			wg.Wait()
			pool.giveBack(ctx, h)
			return errors.Join(errs...)
		})
}

// holdRound waits for room in Held for the first claim of as many of the
// task's pages, in order, as RoundSize covers (at least the first page's),
// takes it in one piece and says how many pages that is. Those first
// claims are one round: each checks policy only once all of them are made,
// so the round shares one suppression read and one read of parent changes
// (policyReuse) instead of each claim that lands after the last read aged
// out reading again. Pages beyond the round claim as they go. The room is
// taken whole while nothing else is held, so no page holds room while it
// waits for room another holds.
func (h *SMSPages) holdRound(ctx context.Context, work []*pageWork) (int, error) {
	size := max(h.ClaimSize, 1)
	round, room := 0, 0
	for _, w := range work {
		n := min(size, len(w.due))
		if round > 0 && room+n > h.RoundSize {
			break
		}
		round, room = round+1, room+n
	}
	if err := h.hold(ctx, room); err != nil {
		return 0, err
	}
	return round, nil
}

// sendDue claims the due entries ClaimSize at a time: a claim, its budget
// reservation and its outcome write are paid once per claim, and tokens are
// taken as messages are sent, up to tokenWindow's worth per limiter call.
// With round set, the first claim's room is already held (holdRound): the
// page marks that claim made in round and checks policy once every claim
// of the round is.
func (h *SMSPages) sendDue(ctx context.Context, pc *pageContext, due []int, pool *budgetPool, round *sync.WaitGroup) error {
	run := &pageRun{h: h, pageContext: pc, pool: pool}
	size := max(h.ClaimSize, 1)
	var err error
	for len(due) > 0 && err == nil {
		n := min(size, len(due))
		err = run.subBatch(ctx, due[:n], round)
		round = nil
		due = due[n:]
	}
	h.Log.Info("sms page sent", "page_id", pc.page.ID, "claimed", run.claimed, "sent", run.sent)
	return err
}

type pageRun struct {
	h *SMSPages
	*pageContext
	pool *budgetPool // shared by the pages of the task
	// claimed and sent count the page's entries this run won and Twilio
	// accepted, for the page's summary line.
	claimed, sent int
}

// prepared is one won entry, ready to send or already decided.
type prepared struct {
	out  content.EntryOutcome
	sms  *notify.SMS // nil when policy decided without sending
	cost int64       // reserved against the budget; refunded unless accepted
}

// hold waits for room to hold n more claimed entries; release gives back k.
func (h *SMSPages) hold(ctx context.Context, n int) error {
	if h.Held == nil {
		return nil
	}
	return h.Held.Acquire(ctx, int64(n))
}

func (h *SMSPages) release(k int) {
	if h.Held != nil && k > 0 {
		h.Held.Release(int64(k))
	}
}

// bookkeeping is the context of the writes that settle a claim (refunds,
// outcomes): they must land even when the task is being stopped, or
// messages handed back would stay held until the relay marks them unknown.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// subBatch claims indexes and sends what it wins. With round set, the
// room is already held (holdRound), and the claim is marked made in round
// and its policy checked only once the whole round's claims are made.
func (r *pageRun) subBatch(ctx context.Context, indexes []int, round *sync.WaitGroup) error {
	h := r.h
	if round == nil {
		if err := h.hold(ctx, len(indexes)); err != nil {
			return err
		}
	}
	held := len(indexes)
	defer func() { h.release(held) }()
	now := h.Clock.Now()
	won, err := h.Ledger.ClaimEntries(ctx, r.page.ID, indexes, now)
	if round != nil {
		round.Done()
		if err == nil {
			round.Wait()
		}
	}
	if err != nil {
		return err
	}
	h.release(held - len(won))              // lost claims hold nothing
	r.pool.claimed(len(indexes) - len(won)) // lost: never reserved for here
	held = len(won)
	preps := make([]*prepared, 0, len(won))
	var reserve int64
	// One suppression check for the claim, made after it (and after the
	// other claims of its round), or reused from within policyReuse: most
	// keys are ruled out without a lookup of their own. One read of the
	// school's parent changes, alike, says which snapshots still hold.
	check, err := h.suppressionCheck(ctx)
	var fresh func(parentID string) bool
	if err == nil {
		fresh, err = r.snapshotsFresh(ctx, won)
	}
	for _, i := range wonInOrder(won) {
		var p *prepared
		if err == nil {
			p, err = r.prepare(ctx, check, fresh, i, won[i], now)
		}
		if err != nil {
			// Nothing was sent: hand every claim back rather than leave
			// them for the relay to mark unknown.
			r.pool.claimed(len(won))
			bctx, cancel := bookkeeping(ctx)
			defer cancel()
			if rerr := releaseClaims(bctx, h.Ledger, r.page.ID, won, now); rerr != nil {
				h.Log.Error("release claims failed", "channel", "sms", "page_id", r.page.ID, "err", rerr)
			}
			return fmt.Errorf("sms policy for %s: %w", r.page.ID, err)
		}
		reserve += p.cost
		preps = append(preps, p)
	}
	// Reserve the claim's estimated cost against the monthly budget in one
	// write. Near the limit, where the whole claim does not fit, reserve
	// message by message instead, so the school gets every message its
	// budget pays for and none beyond it.
	month := now.In(r.quiet.Location()).Format("2006-01")
	if err := r.reserve(ctx, preps, reserve, month); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var waitErr error
	toSend := 0
	for _, p := range preps {
		if p.sms != nil {
			toSend++
		}
	}
	tokens := 0 // granted and not yet used
	for _, p := range preps {
		if p.sms == nil {
			h.release(1) // decided without sending
			held--
			continue
		}
		if waitErr == nil && tokens == 0 {
			tokens, waitErr = h.Limiter.Wait(ctx, h.SenderKey, h.Rate, min(toSend, tokenChunk(h.Rate)))
		}
		if waitErr != nil {
			// Stopping (shutdown, task timeout): hand back what was not
			// sent, so it is owed again rather than left held.
			p.out.State, p.out.Release, p.out.NotBefore = content.StatePending, true, now
			continue
		}
		tokens--
		toSend--
		wg.Add(1)
		held--
		go func() {
			defer wg.Done()
			defer h.release(1)
			r.send(ctx, p, h.Clock.Now())
		}()
	}
	wg.Wait()
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	outcomes := make([]content.EntryOutcome, 0, len(preps))
	var refund int64
	for _, p := range preps {
		if p.sms != nil && p.out.State != content.StateSent && p.out.State != content.StateUnknown {
			refund += p.cost // not accepted: not charged
		}
		if p.out.State == content.StateSent {
			r.sent++
		}
		outcomes = append(outcomes, p.out)
	}
	r.claimed += len(preps)
	if refund > 0 && !r.pool.keep(r.school.ID, month, refund) {
		if _, err := h.Budgets.AddSMSSpend(ctx, r.school.ID, month, -refund); err != nil {
			h.Log.Error("refund sms spend failed", "school_id", r.school.ID, "err", err)
		}
	}
	// A recording failure leaves the entries held; the relay marks them
	// unknown after the lease, which is the truthful state.
	if err := r.recordOutcomes(ctx, h.Ledger, outcomes, h.Clock.Now()); err != nil {
		return err
	}
	return waitErr
}

// reserve charges the estimated cost of preps to the school's month, or
// refuses (fails "budget_exceeded") those the budget cannot pay for.
func (r *pageRun) reserve(ctx context.Context, preps []*prepared, total int64, month string) error {
	h := r.h
	if total == 0 {
		r.pool.claimed(len(preps))
		return nil
	}
	if ok, err := r.pool.take(ctx, h.Budgets, r.school, month, preps, total); err != nil || ok {
		return err
	}
	fits := func(cost int64) (bool, error) {
		spent, err := h.Budgets.AddSMSSpend(ctx, r.school.ID, month, cost)
		if err != nil {
			return false, err
		}
		if spent <= r.school.SMSBudgetPence {
			return true, nil
		}
		_, err = h.Budgets.AddSMSSpend(ctx, r.school.ID, month, -cost)
		return false, err
	}
	ok, err := fits(total)
	if err != nil || ok {
		return err
	}
	full := false // once one message is refused, later ones are too: order is kept
	refused := 0
	for _, p := range preps {
		if p.sms == nil {
			continue
		}
		if !full {
			if full, err = fits(p.cost); err != nil {
				return err
			}
			full = !full
		}
		if full {
			p.sms, p.out.State, p.out.ErrorCode = nil, content.StateFailed, "budget_exceeded"
			refused++
		}
	}
	// Admins see refusals on the school's SMS budget. Best effort: the
	// entries are failed either way; the count is for people to read.
	if err := h.Budgets.RecordSMSRefused(ctx, r.school.ID, month, refused, h.Clock.Now()); err != nil {
		h.Log.Error("record sms refusals failed", "school_id", r.school.ID, "page_id", r.page.ID, "err", err)
	}
	return nil
}

// snapshotsFresh reads, once for a claim, which parents of the page
// changed since its snapshots were taken; the returned func reports
// whether a parent's snapshot may be used instead of their record. A claim
// with no snapshot among its entries reads nothing.
func (r *pageRun) snapshotsFresh(ctx context.Context, won map[int]int) (func(string) bool, error) {
	any := false
	for i := range won {
		any = any || r.page.Entries[i].Snapshot != nil
	}
	if !any || r.page.SnapshotAt.IsZero() {
		return func(string) bool { return false }, nil
	}
	changed, all, err := r.h.parentsChanged(ctx, r.page.SchoolID, r.page.SnapshotAt)
	if err != nil {
		return nil, fmt.Errorf("parent changes: %w", err)
	}
	return func(id string) bool { return !all && !changed[id] }, nil
}

// recipient is the parent an entry is sent to, as send-time policy sees
// them: the entry's snapshot while the parent is unchanged since it was
// taken, else their record read now; closed is the code of an account
// that can no longer be messaged (see recipientAccount).
func (r *pageRun) recipient(ctx context.Context, fresh func(string) bool, e content.LedgerEntry) (*content.Parent, string, error) {
	if e.Snapshot != nil && fresh(e.RecipientID) {
		p := e.Snapshot.Parent(e.RecipientID, r.page.SchoolID)
		switch p.State {
		case content.ParentClosed, content.ParentErased:
			return nil, "account_closed", nil
		}
		return p, "", nil
	}
	return recipientAccount(ctx, r.h.Roster, e.RecipientID)
}

// prepare applies send-time policy to one won entry: account state,
// suppression, a mobile number, quiet hours; then renders the message.
func (r *pageRun) prepare(ctx context.Context, check content.SuppressionCheck, fresh func(string) bool, i, claim int, now time.Time) (*prepared, error) {
	h := r.h
	e := r.page.Entries[i]
	p := &prepared{out: content.EntryOutcome{Index: i, Claim: claim}}
	decide := func(st content.MessageState, code string) (*prepared, error) {
		p.out.State, p.out.ErrorCode = st, code
		return p, nil
	}
	parent, closed, err := r.recipient(ctx, fresh, e)
	if err != nil {
		return nil, err
	}
	if closed != "" {
		return decide(content.StateSuppressed, closed)
	}
	if r.alreadyJoined(parent) {
		return decide(content.StateSuppressed, "already_joined")
	}
	if r.notLinked(parent) {
		return decide(content.StateSuppressed, "not_linked")
	}
	if parent.Phone == "" || !h.Phones.IsMobile(parent.Phone) {
		return decide(content.StateFailed, "no_mobile")
	}
	key, err := content.SuppressionKeyOf(h.HashKey, content.SuppressionSMS, parent.Phone)
	if err != nil {
		return decide(content.StateFailed, "invalid_number")
	}
	suppressed, err := check.IsSuppressed(ctx, key)
	if err != nil {
		return nil, err
	}
	if suppressed {
		return decide(content.StateSuppressed, "opted_out")
	}
	if until, ok := r.deferral(notify.ChannelSMS, now); ok {
		deferTo(&p.out, until)
		return p, nil
	}
	params, err := r.recipientParams(ctx, h.Roster, h.HashKey, parent, now)
	if err != nil {
		return nil, err
	}
	lang := parent.MessageLanguage(r.broadcast.Category)
	msg, err := r.render(lang, func() (notify.Rendered, error) {
		return h.Catalog.RenderFor(notify.ChannelSMS, notify.Template(r.broadcast.Template), lang, params)
	})
	if err != nil {
		return decide(content.StateFailed, "render_failed")
	}
	sms := msg.SMS(content.EntryRef(r.page.ID, i), parent.Phone)
	p.sms = &sms
	p.cost = h.Price.Cost(notify.CountSegments(sms.Body).Segments)
	return p, nil
}

// send makes the one provider call for an entry and turns its result into
// the entry's outcome.
func (r *pageRun) send(ctx context.Context, p *prepared, now time.Time) {
	h := r.h
	res := h.SMS.SendSMS(ctx, *p.sms)
	p.out.ProviderID, p.out.Segments = res.ProviderID, res.Segments
	if res.Err == nil {
		p.out.State, p.out.CostPence = content.StateSent, h.Price.Cost(res.Segments)
		return
	}
	if settleFailure(&p.out, res.Err, h.RetryAfter, now) {
		// The provider's opt-out is now ours: checked at the next send.
		key, err := content.SuppressionKeyOf(h.HashKey, content.SuppressionSMS, p.sms.To)
		if err == nil {
			err = h.Suppressions.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS,
				Reason: content.SuppressStop, At: now})
		}
		if err != nil {
			h.Log.Error("record provider opt-out failed", "page_id", r.page.ID, "index", p.out.Index, "err", err)
		}
	}
}

// budgetPool is budget reserved for the SMS of one task's pages at once:
// the first claim to reserve asks for its own cost and, at the same price,
// for every message of the task still owed a reservation (due, not lost to
// another claim, not yet reserved for), in one write; later
// claims take from what is left without a write, and what is not spent
// (estimate above cost, messages not accepted) goes back in one write when
// the task ends. Near the limit, where that much does not fit, claims
// reserve for themselves as before. A process that dies mid-task leaves
// its pool counted as spent: the school is refused early, never charged
// beyond its budget.
type budgetPool struct {
	mu      sync.Mutex
	school  string
	month   string
	avail   int64 // reserved and not yet given to a message
	owed    int   // due messages of the task not yet lost or reserved for
	refused bool  // a pooled reservation did not fit: claims reserve alone
}

// claimed notes n more of the task's messages owed nothing from the pool:
// lost to another claim, or decided without a reservation.
func (p *budgetPool) claimed(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.owed = max(0, p.owed-n)
	p.mu.Unlock()
}

// take gives total to preps from the pool, reserving the task's rest with
// it when the pool is short; false when the claim must reserve alone.
// Either way preps are no longer owed: the claims of a round are all made
// before the first of them reserves, so what is still owed is counted at
// reservation, not at claim.
func (p *budgetPool) take(ctx context.Context, budgets content.Budgets, school *content.School, month string,
	preps []*prepared, total int64) (bool, error) {
	if p == nil {
		return false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.owed = max(0, p.owed-len(preps))
	if p.school == "" {
		p.school, p.month = school.ID, month
	}
	if p.school != school.ID || p.month != month || p.refused {
		return false, nil
	}
	if p.avail >= total {
		p.avail -= total
		return true, nil
	}
	sending := 0
	for _, pr := range preps {
		if pr.sms != nil {
			sending++
		}
	}
	ask := total - p.avail
	if sending > 0 {
		ask += total / int64(sending) * int64(p.owed)
	}
	spent, err := budgets.AddSMSSpend(ctx, school.ID, month, ask)
	if err != nil {
		return false, err
	}
	if spent > school.SMSBudgetPence {
		// Near the limit: give back this ask and what the pool held, so
		// the claims reserving alone find all of it.
		p.refused = true
		back := ask + p.avail
		p.avail = 0
		_, err := budgets.AddSMSSpend(ctx, school.ID, month, -back)
		return false, err
	}
	p.avail += ask - total
	return true, nil
}

// keep takes back the reservation of messages not accepted; false when
// the pool is not this school's and month (the caller refunds them).
func (p *budgetPool) keep(school, month string, pence int64) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.school != school || p.month != month || p.refused {
		return false
	}
	p.avail += pence
	return true
}

// giveBack refunds what the task reserved and did not spend.
func (p *budgetPool) giveBack(ctx context.Context, h *SMSPages) {
	p.mu.Lock()
	avail := p.avail
	p.avail = 0
	p.mu.Unlock()
	if avail <= 0 {
		return
	}
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	if _, err := h.Budgets.AddSMSSpend(ctx, p.school, p.month, -avail); err != nil {
		h.Log.Error("refund sms spend failed", "school_id", p.school, "err", err)
	}
}

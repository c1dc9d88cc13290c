package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// This file holds the send-time policy every channel's page sender shares
// (SMSPages, EmailPages, PushPages): what a page's entries are sent in the
// name of, who may still be messaged, when quiet hours hold a message back,
// what a provider's answer means for an entry, and when the page must be
// looked at again.

// defaultRetryAfter is how long a rate-limited or transient entry waits when
// its sender sets no RetryAfter.
const defaultRetryAfter = time.Minute

// quietHoursApply reports whether quiet hours hold back a channel's
// non-urgent messages.
//
// Quiet hours exist so that a school does not wake a family: a text and a
// push notification make the phone buzz the moment they arrive, on a
// number or an app the school chose to use. Email does not: it waits in an
// inbox until the parent opens it, and whether a mail app announces it is
// the parent's own setting. Holding email until the morning would only
// delay it and bunch a whole school's send into the first minute of the
// window, so email goes out at any hour.
func quietHoursApply(ch notify.Channel) bool {
	return ch == notify.ChannelSMS || ch == notify.ChannelPush
}

// pageContext is what a page's entries are sent in the name of, read once
// per page: the broadcast, the school and, for channels quiet hours apply
// to, the school's quiet hours.
type pageContext struct {
	page      *content.LedgerPage
	broadcast *content.Broadcast
	school    *content.School
	quiet     notify.QuietHours
	// retryAt is the earliest time an entry this run handed back (deferred
	// or retrying) may be claimed again; zero when none was.
	retryAt time.Time
	count   outcomeCounter // nil: not counted
	// rendered keeps a staff-written announcement's text per language,
	// shared by the pages of one task (render).
	rendered *renderCache
}

// recordOutcomes writes a run's outcomes for the page in one update and
// notes the earliest hand-back, for the follow-up. The page in memory then
// carries the ranks written ($max, as the store applies them), so whoever
// settles the broadcast can tell from it, without reading the page again,
// that a page this run finished owes nothing (settledByRun).
func (pc *pageContext) recordOutcomes(ctx context.Context, ledger content.Ledger, outcomes []content.EntryOutcome, at time.Time) error {
	if err := ledger.RecordOutcomes(ctx, pc.page.ID, outcomes, at); err != nil {
		return err
	}
	for _, o := range outcomes {
		if rank, ok := o.State.Rank(); ok && o.Index < len(pc.page.Entries) && rank > pc.page.Entries[o.Index].Rank {
			pc.page.Entries[o.Index].Rank = rank
		}
		if o.Release && (pc.retryAt.IsZero() || o.NotBefore.Before(pc.retryAt)) {
			pc.retryAt = o.NotBefore
		}
		if pc.count != nil && o.Index < len(pc.page.Entries) {
			pc.count(pc.page.Entries[o.Index].Channel, o)
		}
	}
	return nil
}

// loadPageContext reads the broadcast and school of page for channel ch.
// A school whose quiet hours cannot be read is a configuration error that
// retrying will not fix.
func loadPageContext(ctx context.Context, ledger content.Ledger, roster content.Roster,
	page *content.LedgerPage, ch notify.Channel) (*pageContext, error) {
	b, err := ledger.Broadcast(ctx, page.BroadcastID)
	if err != nil {
		return nil, fmt.Errorf("broadcast of %s: %w", page.ID, err)
	}
	school, err := roster.School(ctx, page.SchoolID)
	if err != nil {
		return nil, fmt.Errorf("school of %s: %w", page.ID, err)
	}
	pc := &pageContext{page: page, broadcast: b, school: school, rendered: &renderCache{}}
	if quietHoursApply(ch) {
		pc.quiet, err = notify.NewQuietHours(school.TimeZone, school.QuietStart, school.QuietEnd)
		if err != nil {
			return nil, fmt.Errorf("%w: school %s quiet hours: %v", asynq.SkipRetry, school.ID, err)
		}
	}
	return pc, nil
}

// params are the template parameters of the page's broadcast.
func (pc *pageContext) params() notify.Params {
	b := pc.broadcast
	p := notify.Params{SchoolName: pc.school.Name, ChildFirstName: b.Params["child_first_name"],
		TeacherName: b.Params["teacher_name"], ActivityTitle: b.Params["activity_title"],
		Link: b.Params["link"], Code: b.Params["code"],
		ClassName: b.Params["class_name"], MessageBody: b.Params["message_body"]}
	if n, err := strconv.Atoi(b.Params["item_count"]); err == nil {
		p.ItemCount = n
	}
	// close_date ("2006-01-02") is a calendar day at the school: the day an
	// inactive account closes, for the inactivity notice.
	if v := b.Params["close_date"]; v != "" {
		loc, err := time.LoadLocation(pc.school.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		if d, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
			p.CloseDate = d
		}
	}
	return p
}

// carriesInviteCode reports whether a template carries the recipient's own
// invite code and join link.
func carriesInviteCode(template string) bool {
	return template == string(notify.TemplateInvite) || template == string(notify.TemplateInviteReminder)
}

// defaultJoinBase is where join links point when an invite names no link.
const defaultJoinBase = "https://hometime.app"

// recipientParams are the template parameters of one recipient's message:
// the broadcast's; the first names of the parent's own children among those
// the broadcast is about ("child_ids", IDs only: an assignment released to
// a class names each family's child); and for an invite the first names of
// their children at the school, and the parent's own code and join link.
// The code is issued here, at send time, and never stored or queued: it is
// derived from the broadcast and the parent (content.DeriveInviteCode), so
// the SMS and the email of one invite carry the same code and a retried
// send issues that code again; the code of an earlier invite stops working.
func (pc *pageContext) recipientParams(ctx context.Context, codes content.InviteCodes, hashKey []byte,
	parent *content.Parent, now time.Time) (notify.Params, error) {
	p := pc.params()
	if lang, ok := notify.MatchLanguage(parent.MessageLanguage(pc.broadcast.Category)); ok {
		if title := pc.broadcast.Params[activityTitleIn(string(lang))]; title != "" {
			p.ActivityTitle = title
		}
	}
	if ids := pc.broadcast.Params["child_ids"]; ids != "" {
		if names := childNames(parent, pc.school.ID, strings.Split(ids, ",")); names != "" {
			p.ChildFirstName = names
		}
	}
	if !carriesInviteCode(pc.broadcast.Template) {
		return p, nil
	}
	if codes == nil {
		return p, errors.New("invites carry a code and are not sent on this channel")
	}
	if names := childNames(parent, pc.school.ID, nil); names != "" {
		p.ChildFirstName = names
	}
	code, err := content.IssueDerivedInviteCode(ctx, codes, hashKey, pc.school.ID, parent.ID, pc.broadcast.ID, now)
	if err != nil {
		return p, fmt.Errorf("issue invite code: %w", err)
	}
	base := strings.TrimRight(p.Link, "/")
	if base == "" {
		base = defaultJoinBase
	}
	p.Code, p.Link = code, base+"/join/"+code
	return p, nil
}

// activityTitleIn is the broadcast parameter holding the activity's title
// in lang (releaseParams).
func activityTitleIn(lang string) string { return "activity_title_" + lang }

// childNames joins the first names of the parent's children linked at the
// school — only those in among, when among is given — as "Cai & Efa".
func childNames(parent *content.Parent, schoolID string, among []string) string {
	var names []string
	for _, c := range parent.Children {
		if c.SchoolID != schoolID || c.State != content.LinkLinked || c.FirstName == "" {
			continue
		}
		if among != nil && !slices.Contains(among, c.ChildID) {
			continue
		}
		names = append(names, c.FirstName)
	}
	return strings.Join(names, " & ")
}

// alreadyJoined reports whether an invite to parent would be pointless: an
// invite is for a parent who has not yet set up their account, and sending
// one later would replace a redeemed invitation with a fresh code.
func (pc *pageContext) alreadyJoined(parent *content.Parent) bool {
	return carriesInviteCode(pc.broadcast.Template) && parent.State != content.ParentInvited
}

// notLinked reports whether parent may no longer get the page's message
// because of who it is about, checked at send time (an unlink or a
// removal may have come after the message was queued):
//   - a message about children ("child_ids") needs a live link to one of
//     them; the notice that a child left needs a link to a child who left;
//   - an invite needs a child still linked at the school to invite them
//     for: one whose children there were all unlinked gets no fresh code.
func (pc *pageContext) notLinked(parent *content.Parent) bool {
	school := pc.school.ID
	if ids := pc.broadcast.Params["child_ids"]; ids != "" {
		want := content.LinkLinked
		if pc.broadcast.Template == string(notify.TemplateChildLeft) {
			want = content.LinkLeft
		}
		about := strings.Split(ids, ",")
		return !slices.ContainsFunc(parent.Children, func(c content.ChildLink) bool {
			return c.SchoolID == school && c.State == want && slices.Contains(about, c.ChildID)
		})
	}
	if carriesInviteCode(pc.broadcast.Template) {
		return !slices.ContainsFunc(parent.Children, func(c content.ChildLink) bool {
			return c.SchoolID == school && c.State == content.LinkLinked
		})
	}
	return false
}

// deferral reports whether a message on ch must wait at now, and until
// when: non-urgent, inside quiet hours, on a channel they apply to.
func (pc *pageContext) deferral(ch notify.Channel, now time.Time) (time.Time, bool) {
	// An urgent message goes at any hour; its SMS fallback for an unread
	// push never does (the push already went).
	if (pc.broadcast.Urgent && !pc.page.Fallback) || !quietHoursApply(ch) || !pc.quiet.InQuietHours(now) {
		return time.Time{}, false
	}
	return pc.quiet.NextSendTime(now), true
}

// deferTo makes out a deferral that hands the claim back until notBefore.
func deferTo(out *content.EntryOutcome, notBefore time.Time) {
	out.State, out.Release, out.NotBefore = content.StateDeferred, true, notBefore
}

// hasChannel reports whether page owes anything at all on ch, so a sender
// handed a page of another channel's entries does no reads for it.
func hasChannel(page *content.LedgerPage, ch notify.Channel) bool {
	for _, e := range page.Entries {
		if e.Channel == string(ch) {
			return true
		}
	}
	return false
}

// dueEntries lists the indexes of page's entries on ch that may be claimed at now.
func dueEntries(page *content.LedgerPage, ch notify.Channel, now time.Time) []int {
	var due []int
	for i, e := range page.Entries {
		if e.Channel == string(ch) && e.Claimable(now) {
			due = append(due, i)
		}
	}
	return due
}

// recipientAccount reads the parent an entry is for. When the account can
// no longer be messaged it returns the code the entry is suppressed with
// ("no_account": erased entirely; "account_closed"), and a nil parent.
func recipientAccount(ctx context.Context, roster content.Roster, parentID string) (*content.Parent, string, error) {
	parent, err := roster.Parent(ctx, parentID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, "no_account", nil
	} else if err != nil {
		return nil, "", err
	}
	switch parent.State {
	case content.ParentClosed, content.ParentErased:
		return nil, "account_closed", nil
	}
	return parent, "", nil
}

// settleFailure turns a provider error for one message into its entry's
// outcome, the same way on every channel:
//   - opted out at the provider → suppressed (the caller records the
//     suppression for its channel: providerOptOut is true);
//   - invalid recipient or permanent refusal → failed, with the provider's code;
//   - ambiguous (it may have gone) → unknown, never resent blindly;
//   - anything else (rate limited, transient, unclassified) was not
//     accepted: the claim is handed back until now plus the longer of
//     retryAfter and what the provider asked for.
func settleFailure(out *content.EntryOutcome, err error, retryAfter time.Duration, now time.Time) (providerOptOut bool) {
	var se *notify.SendError
	if errors.As(err, &se) {
		out.ErrorCode = se.Code
	}
	switch notify.KindOf(err) {
	case notify.KindSuppressed:
		out.State = content.StateSuppressed
		return true
	case notify.KindRecipientInvalid, notify.KindPermanent:
		out.State = content.StateFailed
	case notify.KindAmbiguous:
		out.State = content.StateUnknown // it may have gone: never resend blindly
	default: // rate limited, transient, unclassified: not accepted, try later
		retry := retryAfter
		if se != nil && se.RetryAfter > retry {
			retry = se.RetryAfter
		}
		out.State, out.Release, out.NotBefore = content.StatePending, true, now.Add(retry)
	}
	return false
}

// releaseClaims hands back every claim in won untouched, for when a sender
// must stop after claiming but before any provider call (a store read
// failed): nothing was sent, so nothing may be left held for the relay to
// mark unknown.
func releaseClaims(ctx context.Context, ledger content.Ledger, pageID string, won map[int]int, now time.Time) error {
	outs := make([]content.EntryOutcome, 0, len(won))
	for i, claim := range won {
		outs = append(outs, content.EntryOutcome{Index: i, Claim: claim, State: content.StatePending,
			Release: true, NotBefore: now})
	}
	return ledger.RecordOutcomes(ctx, pageID, outs, now)
}

// scheduleFollowUp queues a task for the earliest entry on ch that is still
// waiting: one that was not yet due when the page was read (deferred to the
// morning, or retrying), or one this run handed back. It needs no second
// read of the page: entries claimed by another worker are that worker's to
// follow up. Page tasks serve every channel, so a follow-up another channel
// already queued for the same instant is the same task (its TaskID names
// page and time) and is not queued twice.
func scheduleFollowUp(ctx context.Context, q tasks.Enqueuer, pc *pageContext, ch notify.Channel, now time.Time) error {
	next := pc.retryAt
	for _, e := range pc.page.Entries {
		if e.Channel == string(ch) && e.Rank < content.RankUnknown && !e.Held() && now.Before(e.NotBefore) &&
			(next.IsZero() || e.NotBefore.Before(next)) {
			next = e.NotBefore
		}
	}
	if next.IsZero() {
		return nil
	}
	t, err := tasks.NewSendPage(pc.page.ID, next)
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, q, t); err != nil {
		return fmt.Errorf("queue follow-up of %s: %w", pc.page.ID, err)
	}
	return nil
}

// errBadResults stands for the outcome of messages a sender returned no
// result for: they may have gone, so they become unknown.
var errBadResults = &notify.SendError{Kind: notify.KindAmbiguous, Code: "bad_results",
	Err: errors.New("sender returned no result for the message")}

// wholeCallResults stands in for the results of a batch call that did not
// return one per message: the call's error (a failure of the whole call)
// applies to each; with no error, what went out cannot be known. The
// returned error is non-nil when the sender broke its contract.
func wholeCallResults(n int, callErr error) ([]notify.Result, error) {
	out := make([]notify.Result, n)
	var contractErr error
	if callErr == nil {
		callErr, contractErr = errBadResults, errBadResults
	}
	for i := range out {
		out[i].Err = callErr
	}
	return out, contractErr
}

// channelDeps are what every channel sender's page skeleton needs.
type channelDeps struct {
	ledger content.Ledger
	roster content.Roster
	tasks  tasks.Enqueuer
	clock  content.Clock
	count  outcomeCounter
}

// pageWork is one page's share of a channel's send: what the page is sent
// in the name of, and its entries on the channel that are due.
type pageWork struct {
	*pageContext
	due []int
}

// sendChannel is the shape every channel sender shares, over the pages of
// one task: skip pages without the channel, load each page's broadcast and
// school (once for consecutive pages of one broadcast), send the entries
// that are due, then queue a follow-up for each page's entries still
// waiting.
func sendChannel(ctx context.Context, pages []*content.LedgerPage, ch notify.Channel, d channelDeps,
	sendDue func(ctx context.Context, work []*pageWork, now time.Time) error) error {
	now := d.clock.Now()
	var work, due []*pageWork
	var last *pageContext
	for _, page := range pages {
		if !hasChannel(page, ch) {
			continue
		}
		var pc *pageContext
		if last != nil && last.page.BroadcastID == page.BroadcastID {
			pc = &pageContext{page: page, broadcast: last.broadcast, school: last.school, quiet: last.quiet, rendered: last.rendered}
		} else {
			var err error
			if pc, err = loadPageContext(ctx, d.ledger, d.roster, page, ch); err != nil {
				return err
			}
		}
		last = pc
		pc.count = d.count
		w := &pageWork{pageContext: pc, due: dueEntries(page, ch, now)}
		work = append(work, w)
		if len(w.due) > 0 {
			due = append(due, w)
		}
	}
	if len(due) > 0 {
		if err := sendDue(ctx, due, now); err != nil {
			return err
		}
	}
	for _, w := range work {
		if err := scheduleFollowUp(ctx, d.tasks, w.pageContext, ch, now); err != nil {
			return err
		}
	}
	return nil
}

// wonInOrder lists the claimed indexes in page order.
func wonInOrder(won map[int]int) []int {
	order := make([]int, 0, len(won))
	for i := range won {
		order = append(order, i)
	}
	sort.Ints(order)
	return order
}

// claimAndDecide claims the due entries of every page in work and decides
// each won one, page by page in page order; it returns the decisions per
// page. If a claim or a decision fails, nothing has been sent yet, so every
// claim made so far is handed back rather than left for the relay to mark
// unknown. outcome gives a decision's entry outcome (index and claim).
func claimAndDecide[D any](ctx context.Context, ledger content.Ledger, log *slog.Logger, ch notify.Channel,
	work []*pageWork, now time.Time, decide func(w *pageWork, i, claim int) (D, error),
	outcome func(D) *content.EntryOutcome) ([][]D, error) {
	out := make([][]D, 0, len(work))
	fail := func(w *pageWork, won map[int]int, err error) ([][]D, error) {
		if won != nil {
			if rerr := releaseClaims(ctx, ledger, w.page.ID, won, now); rerr != nil {
				log.Error("release claims failed", "channel", ch, "page_id", w.page.ID, "err", rerr)
			}
		}
		for k, ds := range out {
			held := make(map[int]int, len(ds))
			for _, d := range ds {
				o := outcome(d)
				held[o.Index] = o.Claim
			}
			if rerr := releaseClaims(ctx, ledger, work[k].page.ID, held, now); rerr != nil {
				log.Error("release claims failed", "channel", ch, "page_id", work[k].page.ID, "err", rerr)
			}
		}
		return nil, err
	}
	for _, w := range work {
		won, err := ledger.ClaimEntries(ctx, w.page.ID, w.due, now)
		if err != nil {
			return fail(w, nil, err)
		}
		ds := make([]D, 0, len(won))
		for _, i := range wonInOrder(won) {
			d, err := decide(w, i, won[i])
			if err != nil {
				return fail(w, won, fmt.Errorf("%s policy for %s: %w", ch, w.page.ID, err))
			}
			ds = append(ds, d)
		}
		out = append(out, ds)
	}
	return out, nil
}

// recordPerPage writes the outcomes of each page's decisions in one update
// per page, then runs after (if set) for each page recorded. Every page is
// written even if another's write fails: a failed write leaves its entries
// held, and the relay marks them unknown after the lease, which is the
// truthful state. It returns how many entries were claimed and sent.
func recordPerPage[D any](ctx context.Context, ledger content.Ledger, clock content.Clock, work []*pageWork,
	perPage [][]D, outcome func(D) content.EntryOutcome, after func(w *pageWork) error) (claimed, sent int, err error) {
	var errs []error
	for k, ds := range perPage {
		outcomes := make([]content.EntryOutcome, len(ds))
		for n, d := range ds {
			outcomes[n] = outcome(d)
			if outcomes[n].State == content.StateSent {
				sent++
			}
		}
		claimed += len(ds)
		if err := work[k].recordOutcomes(ctx, ledger, outcomes, clock.Now()); err != nil {
			errs = append(errs, err)
			continue
		}
		if after != nil {
			if err := after(work[k]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return claimed, sent, errors.Join(errs...)
}

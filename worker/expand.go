package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/phone"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Expansions turns a broadcast into ledger pages and queues their sends.
//
// Recipients are the linked parents the audience names, one entry per
// parent and channel (siblings do not double a message; see channelsFor). A
// whole-school audience is streamed from the store, so memory stays flat
// however large the school. A re-run after a crash reads the pages already
// written and appends only recipients and channels not on any of them, so nobody is owed
// twice even if the audience changed in between; pages are appended in
// order, so what exists is always a prefix with no gaps.
type Expansions struct {
	Ledger content.Ledger
	Roster content.Roster
	Tasks  tasks.Enqueuer
	Clock  content.Clock
	Log    *slog.Logger
	Phones phone.Numbers // which numbers take texts
	// Inbox takes one item per recipient parent of an announcement; nil
	// writes none.
	Inbox content.InboxWriter
	// Digests holds the pushes of parents who chose the daily digest
	// (digest.go); nil sends them as any other.
	Digests content.DigestHolds
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
	// The snapshot time is the wall clock, not h.Clock: it is compared with
	// the store's marks of parent changes, which are wall-clock times. It
	// is taken before any recipient is read.
	w := &pageWriter{ledger: h.Ledger, tasks: h.Tasks, phones: h.Phones, b: b, done: map[string]bool{}, now: h.Clock.Now(),
		snapshotAt: time.Now().UTC()}
	if h.Digests != nil {
		w.digest = &digestHolder{holds: h.Digests, roster: h.Roster, tasks: h.Tasks}
	}
	// What earlier runs wrote: a prefix of pages.
	for ; ; w.n++ {
		page, err := h.Ledger.LedgerPage(ctx, content.LedgerPageID(b.ID, w.n))
		if content.IsCode(err, content.CodeNotFound) {
			break
		} else if err != nil {
			return err
		}
		for _, e := range page.Entries {
			w.done[e.RecipientID+":"+e.Channel] = true
		}
	}
	w.total, w.written = len(w.done), w.n
	add := func(pc content.ParentContact) error { return w.add(ctx, pc) }
	var inbox *announcementInbox
	if isAnnouncement(b) && h.Inbox != nil {
		if inbox, err = newAnnouncementInbox(ctx, h.Roster, h.Inbox, b, w.now); err != nil {
			return err
		}
		add = func(pc content.ParentContact) error {
			if err := inbox.add(ctx, pc); err != nil {
				return err
			}
			return w.add(ctx, pc)
		}
	}
	if err := h.eachRecipient(ctx, b, add); err != nil {
		return err
	}
	if inbox != nil {
		if err := inbox.flush(ctx); err != nil {
			return err
		}
	}
	if err := w.finish(ctx); err != nil {
		return err
	}
	if err := h.Ledger.SetBroadcastExpanded(ctx, b.ID, w.n, w.total); err != nil {
		return err
	}
	h.Log.Info("broadcast expanded", "broadcast_id", b.ID, "pages", w.n, "recipients", w.total)
	// The sends may have settled every page before the broadcast said how
	// many it has (or there are none): then nobody else would mark it done.
	return settleBroadcast(ctx, h.Ledger, h.Log, b.ID, 0)
}

// pageWriter fills ledger pages with new recipients and appends them in
// order, pagesPerWrite at a time, and queues their sends as they are
// written: sending starts with the first pages instead of waiting for a
// large school's whole roster to be read. A page is final once written
// (re-runs only append), and claims make a run queued twice harmless.
type pageWriter struct {
	ledger content.Ledger
	tasks  tasks.Enqueuer
	phones phone.Numbers
	b      *content.Broadcast
	done   map[string]bool // recipients already on a page
	now    time.Time
	// snapshotAt is the wall-clock time before the recipients were read.
	snapshotAt time.Time
	n          int // pages written or being filled
	written    int // pages written
	queued     int // pages whose run is queued
	total      int // recipients on pages
	batch      []*content.LedgerPage
	cur        *content.LedgerPage
	digest     *digestHolder // nil: no digests
}

func (w *pageWriter) add(ctx context.Context, pc content.ParentContact) error {
	for _, ch := range channelsFor(pc, w.b, w.phones) {
		key := pc.ID + ":" + string(ch)
		if w.done[key] {
			continue
		}
		if ch == notify.ChannelPush && w.digest != nil && heldForDigest(pc, w.b) {
			if err := w.digest.hold(ctx, w.b, pc.ID, w.now); err != nil {
				return err
			}
			continue
		}
		w.done[key] = true
		if w.cur == nil {
			w.cur = &content.LedgerPage{ID: content.LedgerPageID(w.b.ID, w.n), BroadcastID: w.b.ID, SchoolID: w.b.SchoolID,
				N: w.n, CreatedAt: w.now, SnapshotAt: w.snapshotAt}
			w.n++
		}
		e := content.LedgerEntry{RecipientID: pc.ID, Channel: string(ch)}
		if ch == notify.ChannelSMS {
			// What the SMS sender needs of the parent, so a send reads
			// no parent unless it changed since (content.ParentChanges).
			e.Snapshot = content.SnapshotOf(&content.Parent{ID: pc.ID, Phone: pc.Phone, Email: pc.Email,
				Language: pc.Language, State: pc.State, Preferences: pc.Prefs, Children: pc.Children}, w.b.SchoolID, w.b.Category)
		}
		w.cur.Entries = append(w.cur.Entries, e)
		w.total++
		if len(w.cur.Entries) == content.LedgerPageSize {
			w.batch, w.cur = append(w.batch, w.cur), nil
			if len(w.batch) == pagesPerWrite {
				if err := w.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (w *pageWriter) flush(ctx context.Context) error {
	if len(w.batch) > 0 {
		if err := w.ledger.AppendLedgerPages(ctx, w.batch); err != nil {
			return fmt.Errorf("append pages of %s: %w", w.b.ID, err)
		}
		w.written = w.batch[len(w.batch)-1].N + 1
		w.batch = w.batch[:0]
	}
	return w.queueRuns(ctx, false)
}

func (w *pageWriter) finish(ctx context.Context) error {
	if w.cur != nil {
		w.batch, w.cur = append(w.batch, w.cur), nil
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	return w.queueRuns(ctx, true)
}

// queueRuns queues the written pages in runs of tasks.MaxPagesPerTask, so
// email and push across a run share provider calls. Runs start at multiples
// of MaxPagesPerTask, so a re-run queues the same runs again (a no-op by
// TaskID while the first is kept); only at the end is a short last run
// queued.
func (w *pageWriter) queueRuns(ctx context.Context, last bool) error {
	for w.queued < w.written {
		end := min(w.queued+tasks.MaxPagesPerTask, w.written)
		if end-w.queued < tasks.MaxPagesPerTask && !last {
			return nil
		}
		ids := make([]string, 0, end-w.queued)
		for i := w.queued; i < end; i++ {
			ids = append(ids, content.LedgerPageID(w.b.ID, i))
		}
		task, err := tasks.NewSendPages(ids, w.b.CreatedAt)
		if err != nil {
			return err
		}
		if err := tasks.Enqueue(ctx, w.tasks, task); err != nil {
			return fmt.Errorf("queue pages %d+ of %s: %w", w.queued, w.b.ID, err)
		}
		w.queued = end
	}
	return nil
}

// eachRecipient hands fn every parent the audience names: a whole school
// streamed from the store; classes and named parents (a few hundred at
// most) through their children and one read per parent, in id order.
// Only parents linked to a child on the school's roll count.
func (h *Expansions) eachRecipient(ctx context.Context, b *content.Broadcast, fn func(content.ParentContact) error) error {
	if b.Audience.AllParents {
		return h.Roster.EachParentOfSchool(ctx, b.SchoolID, fn)
	}
	set := map[string]bool{}
	for _, c := range b.Audience.ClassIDs {
		kids, err := h.Roster.ChildrenOfClass(ctx, c)
		if err != nil {
			return err
		}
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
	named, err := h.Ledger.AudienceParents(ctx, b)
	if err != nil {
		return err
	}
	for _, id := range named {
		set[id] = true
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p, err := h.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		// The notice that a child left goes to parents of a child no
		// longer on the roll (their link is "left").
		leftNotice := b.Template == string(notify.TemplateChildLeft)
		linked := false
		for _, c := range p.Children {
			linked = linked || (c.SchoolID == b.SchoolID && (c.State == content.LinkLinked || (leftNotice && c.State == content.LinkLeft)))
		}
		if !linked {
			continue
		}
		if err := fn(content.ParentContact{ID: p.ID, Phone: p.Phone, Email: p.Email, Language: p.Language,
			State: p.State, Devices: len(p.Devices), Prefs: p.Preferences, Digest: p.Digest, Children: p.Children}); err != nil {
			return err
		}
	}
	return nil
}

// channelsFor picks how a parent is reached by a broadcast. An invite goes
// by SMS to a mobile and by email to an address, both when the parent has
// both: it is the school's one chance to bring the family in, and the two
// carry the same code (the parent has no app yet, and preferences do not
// apply). Anything else goes one way: the parent's preference for the
// broadcast's category when it can be honoured (push needs a registered
// device, SMS a mobile, email an address; "none" sends nothing), else push
// when they have the app, else SMS to a mobile, else email. Closed
// accounts are skipped here and again at send time; a parent with no way
// to be reached gets no entry (the invite funnel shows them).
func channelsFor(p content.ParentContact, b *content.Broadcast, phones phone.Numbers) []notify.Channel {
	if p.State == content.ParentClosed || p.State == content.ParentErased {
		return nil
	}
	mobile := p.Phone != "" && phones.IsMobile(p.Phone)
	if carriesInviteCode(b.Template) {
		var out []notify.Channel
		if mobile {
			out = append(out, notify.ChannelSMS)
		}
		if p.Email != "" {
			out = append(out, notify.ChannelEmail)
		}
		return out
	}
	switch p.Prefs[b.Category].Channel {
	case content.ChannelNone:
		return nil
	case content.ChannelPush:
		if p.Devices > 0 {
			return []notify.Channel{notify.ChannelPush}
		}
	case content.ChannelSMS:
		if mobile {
			return []notify.Channel{notify.ChannelSMS}
		}
	case content.ChannelEmail:
		if p.Email != "" {
			return []notify.Channel{notify.ChannelEmail}
		}
	}
	switch {
	case p.Devices > 0:
		return []notify.Channel{notify.ChannelPush}
	case mobile:
		return []notify.Channel{notify.ChannelSMS}
	case p.Email != "":
		return []notify.Channel{notify.ChannelEmail}
	}
	return nil
}

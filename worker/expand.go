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
	// settled is what the page tasks of this process know of pages owing
	// nothing (NewMux shares it), so judging the broadcast done at the
	// end reads none of them again; nil knows nothing.
	settled *settledPages
}

// pagesPerWrite is how many pages one ordered insert takes while the
// audience is read: a whole run, written and queued as soon as its group
// fills (at the end, the groups' last pages go in one insert).
const pagesPerWrite = tasks.MaxPagesPerTask

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
	prefix := 0
	for ; ; prefix++ {
		page, err := h.Ledger.LedgerPage(ctx, content.LedgerPageID(b.ID, prefix))
		if content.IsCode(err, content.CodeNotFound) {
			break
		} else if err != nil {
			return err
		}
		for _, e := range page.Entries {
			w.done[e.RecipientID+":"+e.Channel] = true
		}
	}
	w.total = len(w.done)
	w.resume(prefix)
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
	return settleBroadcastKnown(ctx, h.Ledger, h.Log, h.settled, b.ID, 0, nil)
}

// pageWriter fills ledger pages with new recipients and appends them in
// order, pagesPerWrite at a time, and queues their sends as they are
// written: sending starts with the first pages instead of waiting for a
// large school's whole roster to be read. A page is final once written
// (re-runs only append), and claims make a run queued twice harmless.
//
// Entries are gathered per send group — the channel, and for email and
// push the language the message is written in — and a group's entries
// become pages only when it holds a whole run (tasks.MaxPagesPerTask
// pages), or at the end. So every page has one channel, and a run of
// email or push pages shares one rendered content: SendGrid takes the
// run's emails in one request and FCM its pushes in as few batches as it
// allows. Pages are numbered when they are made, not when their group
// starts filling, so the pages written are still a prefix with no gaps; a
// group's entries not yet on a page are simply not done, and a re-run
// after a crash gathers them again.
type pageWriter struct {
	ledger content.Ledger
	tasks  tasks.Enqueuer
	phones phone.Numbers
	b      *content.Broadcast
	done   map[string]bool // recipients already on a page or gathered
	now    time.Time
	// snapshotAt is the wall-clock time before the recipients were read.
	snapshotAt time.Time
	n          int // pages made (written or waiting in batch)
	written    int // pages written
	total      int // recipients on pages or gathered
	batch      []*content.LedgerPage
	groups     map[string][]content.LedgerEntry // send group -> entries on no page yet
	runs       []sendRun                        // runs of pages made, in order
	queued     int                              // runs queued
	digest     *digestHolder                    // nil: no digests
}

// sendRun is the pages [start, end) one send task carries.
type sendRun struct{ start, end int }

// groupRun is how many entries a send group gathers before they become
// one run of pages.
const groupRun = tasks.MaxPagesPerTask * content.LedgerPageSize

// sendGroup names the pages an entry may share: its channel, and for email
// and push the language it is rendered in (a provider request carries one
// rendered content). SMS goes one message per call, so language does not
// matter to it.
func sendGroup(pc content.ParentContact, b *content.Broadcast, ch notify.Channel) string {
	if ch == notify.ChannelSMS {
		return string(ch)
	}
	lang := pc.Prefs[b.Category].Language
	if lang == "" {
		lang = pc.Language
	}
	return string(ch) + ":" + lang
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
		e := content.LedgerEntry{RecipientID: pc.ID, Channel: string(ch)}
		if ch == notify.ChannelSMS {
			// What the SMS sender needs of the parent, so a send reads
			// no parent unless it changed since (content.ParentChanges).
			e.Snapshot = content.SnapshotOf(&content.Parent{ID: pc.ID, Phone: pc.Phone, Email: pc.Email,
				Language: pc.Language, State: pc.State, Preferences: pc.Prefs, Children: pc.Children}, w.b.SchoolID, w.b.Category)
		}
		if w.groups == nil {
			w.groups = map[string][]content.LedgerEntry{}
		}
		g := sendGroup(pc, w.b, ch)
		w.groups[g] = append(w.groups[g], e)
		w.total++
		if len(w.groups[g]) == groupRun {
			w.makeRun(w.groups[g])
			w.groups[g] = nil
			if len(w.batch) >= pagesPerWrite {
				if err := w.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// makeRun cuts a group's entries into pages, numbered next, and lists
// them as one run.
func (w *pageWriter) makeRun(entries []content.LedgerEntry) {
	start := w.makePages(entries)
	w.runs = append(w.runs, sendRun{start, w.n})
}

// makePages cuts a group's entries into pages, numbered next, and returns
// the first page's number.
func (w *pageWriter) makePages(entries []content.LedgerEntry) int {
	start := w.n
	for len(entries) > 0 {
		k := min(len(entries), content.LedgerPageSize)
		w.batch = append(w.batch, &content.LedgerPage{ID: content.LedgerPageID(w.b.ID, w.n), BroadcastID: w.b.ID,
			SchoolID: w.b.SchoolID, N: w.n, CreatedAt: w.now, SnapshotAt: w.snapshotAt, Entries: entries[:k:k]})
		entries = entries[k:]
		w.n++
	}
	return start
}

func (w *pageWriter) flush(ctx context.Context) error {
	if len(w.batch) > 0 {
		if err := w.ledger.AppendLedgerPages(ctx, w.batch); err != nil {
			return fmt.Errorf("append pages of %s: %w", w.b.ID, err)
		}
		w.written = w.batch[len(w.batch)-1].N + 1
		w.batch = w.batch[:0]
	}
	return w.queueRuns(ctx)
}

// finish makes pages of what every group still holds, in a fixed order of
// groups, writes them and queues the remaining runs. The groups' last
// pages share runs (each fewer than tasks.MaxPagesPerTask pages, so a
// small broadcast is still one task), but no group is split between two.
func (w *pageWriter) finish(ctx context.Context) error {
	keys := make([]string, 0, len(w.groups))
	for g, es := range w.groups {
		if len(es) > 0 {
			keys = append(keys, g)
		}
	}
	slices.Sort(keys)
	open := false // the last run listed takes more pages
	for _, g := range keys {
		start := w.makePages(w.groups[g])
		delete(w.groups, g)
		if last := len(w.runs) - 1; open && w.n-w.runs[last].start <= tasks.MaxPagesPerTask {
			w.runs[last].end = w.n
		} else {
			w.runs, open = append(w.runs, sendRun{start, w.n}), true
		}
	}
	return w.flush(ctx)
}

// resume lists the runs of the n pages an earlier, crashed run of the
// expansion wrote: tasks.MaxPagesPerTask pages each from the first page.
// Where those differ from the runs it queued, pages are queued twice,
// which their claims make harmless.
func (w *pageWriter) resume(n int) {
	w.n, w.written = n, n
	for i := 0; i < n; i += tasks.MaxPagesPerTask {
		w.runs = append(w.runs, sendRun{i, min(i+tasks.MaxPagesPerTask, n)})
	}
}

// queueRuns queues each run once all its pages are written, so email and
// push across a run share provider calls.
func (w *pageWriter) queueRuns(ctx context.Context) error {
	for ; w.queued < len(w.runs) && w.runs[w.queued].end <= w.written; w.queued++ {
		r := w.runs[w.queued]
		ids := make([]string, 0, r.end-r.start)
		for i := r.start; i < r.end; i++ {
			ids = append(ids, content.LedgerPageID(w.b.ID, i))
		}
		task, err := tasks.NewSendPages(ids, w.b.CreatedAt)
		if err != nil {
			return err
		}
		if err := tasks.Enqueue(ctx, w.tasks, task); err != nil {
			return fmt.Errorf("queue pages %d+ of %s: %w", r.start, w.b.ID, err)
		}
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

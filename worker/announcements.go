package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Announcements starts the send of staff-written announcements at their
// send time (TypeSendAnnouncement), and sweeps for any that are due and
// unsent (TypeAnnouncementsSweep) in case the queue lost a task.
//
// Starting is idempotent: the announcement moves scheduled → sending in
// one conditional write (a cancel in between wins, and then nothing is
// sent), its broadcast has a fixed id, and only then is it marked sent; a
// retry after a crash at any step finishes the work without doubling it.
type Announcements struct {
	Store  content.Announcements
	Roster content.Roster
	Ledger content.Ledger
	Tasks  tasks.Enqueuer
	Clock  content.Clock
	Log    *slog.Logger
}

// sweepBatch bounds the announcements one sweep starts.
const sweepBatch = 100

func (h *Announcements) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseSendAnnouncement(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	return h.Start(ctx, p.AnnouncementID)
}

// Sweep starts every due announcement not yet sent.
func (h *Announcements) Sweep(ctx context.Context, _ *asynq.Task) error {
	due, err := h.Store.DueAnnouncements(ctx, h.Clock.Now(), sweepBatch)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range due {
		if err := h.Start(ctx, a.ID); err != nil {
			errs = append(errs, fmt.Errorf("announcement %s: %w", a.ID, err))
		}
	}
	if len(due) > 0 {
		h.Log.Info("announcements swept", "due", len(due), "failed", len(errs))
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Start publishes the announcement's broadcast if it is due and still
// wanted.
func (h *Announcements) Start(ctx context.Context, id string) error {
	a, err := h.Store.Announcement(ctx, id)
	if content.IsCode(err, content.CodeNotFound) {
		return nil // erased
	} else if err != nil {
		return err
	}
	if a.State != content.AnnouncementScheduled && a.State != content.AnnouncementSending {
		return nil // cancelled or sent
	}
	now := h.Clock.Now()
	if now.Before(a.SendAt) {
		return fmt.Errorf("send of announcement %s ran %s early", a.ID, a.SendAt.Sub(now))
	}
	carryOn, err := h.Store.StartAnnouncement(ctx, a.ID, now)
	if err != nil || !carryOn {
		return err
	}
	aud, err := h.audience(ctx, a)
	if err != nil {
		return err
	}
	b := &content.Broadcast{ID: content.AnnouncementBroadcastID(a.ID), SchoolID: a.SchoolID, CreatedBy: a.CreatedBy,
		Template: string(notify.TemplateAnnouncement), Category: content.CategoryNews, Params: AnnouncementParams(a),
		Urgent: a.Urgent, Important: a.Important, Audience: aud, State: content.BroadcastExpanding, CreatedAt: now}
	if _, _, err := content.Publish(ctx, h.Ledger, tasks.Expander(h.Tasks), b, func(stored *content.Broadcast) bool {
		return stored.SchoolID == a.SchoolID && stored.Template == b.Template
	}); err != nil {
		return err
	}
	if err := h.Store.FinishAnnouncement(ctx, a.ID, now); err != nil {
		return err
	}
	h.Log.Info("announcement sent", "announcement_id", a.ID, "broadcast_id", b.ID, "school_id", a.SchoolID)
	return nil
}

// audience turns an announcement's audience into a broadcast's: year
// groups become the school's classes of those year groups as they are at
// send time.
func (h *Announcements) audience(ctx context.Context, a *content.Announcement) (content.Audience, error) {
	aud := a.Audience
	out := content.Audience{AllParents: aud.WholeSchool, ClassIDs: slices.Clone(aud.ClassIDs), ParentIDs: slices.Clone(aud.ParentIDs)}
	if len(aud.YearGroups) > 0 {
		classes, err := h.Roster.ClassesOfSchool(ctx, a.SchoolID)
		if err != nil {
			return out, err
		}
		for _, c := range classes {
			if slices.Contains(aud.YearGroups, c.YearGroup) && !slices.Contains(out.ClassIDs, c.ID) {
				out.ClassIDs = append(out.ClassIDs, c.ID)
			}
		}
		slices.Sort(out.ClassIDs)
	}
	return out, nil
}

// Broadcast parameters of an announcement: its id, the original text and
// link, and each version's under the language's suffix ("title_cy"). The
// text lives with the broadcast so senders render it without another read.
const (
	paramAnnouncementID = "announcement_id"
	paramTitle          = "title"
	paramBody           = "body"
	paramLanguage       = "language"
	paramLink           = "link"
)

// AnnouncementParams are the broadcast parameters that carry a's text.
func AnnouncementParams(a *content.Announcement) map[string]string {
	p := map[string]string{paramAnnouncementID: a.ID, paramTitle: a.Title, paramBody: a.Body,
		paramLanguage: a.Language, paramLink: a.Links[a.Language]}
	for _, v := range a.Versions {
		p[paramTitle+"_"+v.Language] = v.Title
		p[paramBody+"_"+v.Language] = v.Body
		if l := a.Links[v.Language]; l != "" {
			p[paramLink+"_"+v.Language] = l
		}
	}
	return p
}

// announcementText is the version of an announcement broadcast a reader of
// lang gets: the staff-written version in that language, else the original.
func announcementText(b *content.Broadcast, schoolName, lang string) notify.Announcement {
	p := b.Params
	if l := content.PrimaryLanguage(lang); l != "" && l != p[paramLanguage] && p[paramTitle+"_"+l] != "" {
		return notify.Announcement{SchoolName: schoolName, Title: p[paramTitle+"_"+l], Body: p[paramBody+"_"+l],
			Link: p[paramLink+"_"+l], Language: l}
	}
	return notify.Announcement{SchoolName: schoolName, Title: p[paramTitle], Body: p[paramBody], Link: p[paramLink],
		Language: p[paramLanguage]}
}

// isAnnouncement reports whether b sends a staff-written announcement.
func isAnnouncement(b *content.Broadcast) bool {
	return b.Template == string(notify.TemplateAnnouncement)
}

// renderCache keeps an announcement's rendering per language for the pages
// of one task: every recipient of a language gets the same text.
type renderCache struct {
	mu sync.Mutex
	by map[string]notify.Rendered
}

// render is the message for a recipient reading lang: an announcement's
// own text, or the system template through system().
func (pc *pageContext) render(lang string, system func() (notify.Rendered, error)) (notify.Rendered, error) {
	if !isAnnouncement(pc.broadcast) {
		return system()
	}
	if pc.rendered == nil {
		pc.rendered = &renderCache{}
	}
	c := pc.rendered
	key := content.PrimaryLanguage(lang)
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.by[key]; ok {
		return r, nil
	}
	r, err := notify.RenderAnnouncement(announcementText(pc.broadcast, pc.school.Name, lang))
	if err != nil {
		return r, err
	}
	if c.by == nil {
		c.by = map[string]notify.Rendered{}
	}
	c.by[key] = r
	return r, nil
}

// inboxBatch is how many inbox items one write carries.
const inboxBatch = 500

// announcementInbox writes an announcement's inbox items as its expansion
// meets each recipient parent: the title in the parent's language, and the
// parent's children (and their classes) the announcement reached them
// through. Writing an item again is a no-op, so a re-run expansion simply
// writes them all again.
type announcementInbox struct {
	w       content.InboxWriter
	b       *content.Broadcast
	school  string
	now     time.Time
	kids    map[string][]string // parent id → children linked at the school, in the audience
	classOf map[string][]string // child id → classes (those in the audience, when it names classes)
	batch   []*content.InboxItem
}

// newAnnouncementInbox reads the school's children once to know, for each
// parent, which of their children the announcement is about.
func newAnnouncementInbox(ctx context.Context, roster content.Roster, w content.InboxWriter, b *content.Broadcast, now time.Time) (*announcementInbox, error) {
	ib := &announcementInbox{w: w, b: b, school: b.SchoolID, now: now, kids: map[string][]string{}, classOf: map[string][]string{}}
	children, err := roster.ChildrenOfSchool(ctx, b.SchoolID)
	if err != nil {
		return nil, err
	}
	classes := b.Audience.ClassIDs
	for _, k := range children {
		if k.SchoolLink.State != content.LinkLinked {
			continue
		}
		var in []string
		for _, c := range k.ClassIDs {
			if len(classes) == 0 || b.Audience.AllParents || slices.Contains(classes, c) {
				in = append(in, c)
			}
		}
		if len(classes) > 0 && !b.Audience.AllParents && len(in) == 0 {
			continue // a sibling outside the audience's classes
		}
		ib.classOf[k.ID] = in
		for _, l := range k.Parents {
			if l.State == content.LinkLinked {
				ib.kids[l.ParentID] = append(ib.kids[l.ParentID], k.ID)
			}
		}
	}
	return ib, nil
}

func (ib *announcementInbox) add(ctx context.Context, pc content.ParentContact) error {
	if pc.State == content.ParentClosed || pc.State == content.ParentErased {
		return nil
	}
	lang := pc.Language
	if l := pc.Prefs[content.CategoryNews].Language; l != "" {
		lang = l
	}
	text := announcementText(ib.b, "", lang)
	item := &content.InboxItem{ID: content.InboxItemID(pc.ID, ib.b.Params[paramAnnouncementID]), ParentID: pc.ID,
		SchoolID: ib.school, Kind: content.InboxAnnouncement, SourceID: ib.b.Params[paramAnnouncementID],
		Title: text.Title, Language: text.Language, Urgent: ib.b.Urgent, CreatedAt: ib.now}
	for _, k := range ib.kids[pc.ID] {
		item.ChildIDs = append(item.ChildIDs, k)
		for _, c := range ib.classOf[k] {
			if !slices.Contains(item.ClassIDs, c) {
				item.ClassIDs = append(item.ClassIDs, c)
			}
		}
	}
	ib.batch = append(ib.batch, item)
	if len(ib.batch) >= inboxBatch {
		return ib.flush(ctx)
	}
	return nil
}

func (ib *announcementInbox) flush(ctx context.Context) error {
	if len(ib.batch) == 0 {
		return nil
	}
	if err := ib.w.AddToInbox(ctx, ib.batch); err != nil {
		return fmt.Errorf("inbox of %s: %w", ib.b.ID, err)
	}
	ib.batch = ib.batch[:0]
	return nil
}

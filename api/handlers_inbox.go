package api

import (
	"context"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// The parent inbox: every announcement and conversation a parent
// received, newest first, each with its title in the parent's language.
// Listing reads the parent's own index document; opening an item reads
// it by id, checks it is the caller's, answers its content and marks it
// read. Another parent's item id is a 404 like an unknown one.

const (
	inboxDefaultLimit = 20
	inboxMaxLimit     = 100
	inboxCursorPrefix = "i1."
)

// AnnouncementText is one language's version of an announcement.
type AnnouncementText struct {
	Title string
	Body  string
}

// AnnouncementView is what the inbox and the staff counts read of an
// announcement: its texts, attachments, audience and the broadcast that
// sent it.
type AnnouncementView struct {
	ID          string
	SchoolID    string
	CreatedBy   string
	Language    string // the original's language
	Title, Body string // the original
	// Versions are staff-written versions by language.
	Versions      map[string]AnnouncementText
	AttachmentIDs []string
	// BroadcastID is the broadcast the announcement was sent as ("" until
	// it is sent).
	BroadcastID string
	// Audience: the classes it went to (year groups resolved to their
	// classes), or the whole school, or named parents.
	WholeSchool bool
	ClassIDs    []string
	ParentIDs   []string
}

// Text is the version in lang, else the original.
func (a *AnnouncementView) Text(lang string) (AnnouncementText, string) {
	if v, ok := a.Versions[lang]; ok && v.Title != "" {
		return v, lang
	}
	return AnnouncementText{Title: a.Title, Body: a.Body}, a.Language
}

// AnnouncementReader reads announcements for the inbox and the staff
// counts (CodeNotFound for an unknown id).
type AnnouncementReader interface {
	AnnouncementView(ctx context.Context, id string) (*AnnouncementView, error)
}

type inboxItemDTO struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	SourceID  string    `json:"source_id"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	Read      bool      `json:"read"`
	Urgent    bool      `json:"urgent"`
}

type inboxPageDTO struct {
	Items  []inboxItemDTO `json:"items"`
	Next   *string        `json:"next"`
	Unread int            `json:"unread"`
}

type attachmentLinkDTO struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	URL         string    `json:"url"`
	ExpiresAt   time.Time `json:"expires_at"`
}

type openedItemDTO struct {
	inboxItemDTO
	ReadAt      *time.Time          `json:"read_at,omitempty"`
	ReadVia     string              `json:"read_via,omitempty"`
	Language    string              `json:"language,omitempty"`
	Body        string              `json:"body,omitempty"`
	Attachments []attachmentLinkDTO `json:"attachments"`
}

func toInboxItemDTO(it *content.InboxItem) inboxItemDTO {
	return inboxItemDTO{ID: it.ID, Kind: string(it.Kind), SourceID: it.SourceID, Title: it.Title, CreatedAt: it.CreatedAt.UTC(),
		Read: !it.ReadAt.IsZero(), Urgent: it.Urgent}
}

// inboxSchools are the schools whose items the parent may see: those of
// the children they may read now. A parent cut off from a school
// (unlinked) no longer sees its announcements.
func inboxSchools(p *content.Principal) []string {
	out := []string{}
	if p.Parent == nil {
		return out
	}
	for _, l := range p.Parent.ReadableChildren() {
		if !slices.Contains(out, l.SchoolID) {
			out = append(out, l.SchoolID)
		}
	}
	return out
}

func (s *server) myInbox() fiber.Handler {
	return func(c *fiber.Ctx) error {
		fe := content.FieldErrors{}
		limit := queryLimit(c, fe, inboxDefaultLimit, inboxMaxLimit)
		var after content.InboxCursor
		if v := c.Query("cursor"); v != "" {
			cur, ok := decodeInboxCursor(v)
			if !ok {
				fe.Add("cursor", "must be a next from an earlier page")
			}
			after = cur
		}
		if err := fe.Err(); err != nil {
			return err
		}
		p := principal(c)
		page, err := s.Inbox.InboxPage(c.UserContext(), p.ID(), inboxSchools(p), after, limit)
		if err != nil {
			return err
		}
		out := inboxPageDTO{Items: make([]inboxItemDTO, 0, len(page.Items)), Unread: page.Unread}
		for _, it := range page.Items {
			out.Items = append(out.Items, toInboxItemDTO(it))
		}
		if !page.Next.IsZero() {
			next := encodeInboxCursor(page.Next)
			out.Next = &next
		}
		return c.JSON(out)
	}
}

// openInboxItem answers one of the caller's items with its content and
// marks it read (read_via app; a first read is kept).
func (s *server) openInboxItem() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		p := principal(c)
		notFound := content.Errorf(content.CodeNotFound, "no such inbox item")
		id := c.Params("itemId")
		parentID, _, ok := content.SplitInboxItemID(id)
		if !ok || parentID != p.ID() {
			return notFound
		}
		it, err := s.Inbox.InboxItem(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		if it.ParentID != p.ID() || !slices.Contains(inboxSchools(p), it.SchoolID) {
			return notFound
		}
		out := openedItemDTO{Attachments: []attachmentLinkDTO{}}
		if it.Kind == content.InboxAnnouncement && s.Announcements != nil {
			a, err := s.Announcements.AnnouncementView(ctx, it.SourceID)
			if err != nil && !content.IsCode(err, content.CodeNotFound) {
				return err
			}
			if a != nil && a.SchoolID == it.SchoolID {
				lang := it.Language
				if lang == "" {
					lang = p.Parent.Language
				}
				text, inLang := a.Text(lang)
				out.Body, out.Language = text.Body, inLang
				if out.Attachments, err = s.attachmentLinks(ctx, a); err != nil {
					return err
				}
			}
		}
		it, err = s.Inbox.MarkInboxRead(ctx, it.ID, content.ReadViaApp, s.Clock.Now())
		if err != nil {
			return err
		}
		out.inboxItemDTO = toInboxItemDTO(it)
		out.ReadAt, out.ReadVia = timePtr(it.ReadAt), it.ReadVia
		if out.Language == "" {
			out.Language = it.Language
		}
		return c.JSON(out)
	}
}

// attachmentLinks signs a short-lived URL for each of the announcement's
// attachments that belongs to its school.
func (s *server) attachmentLinks(ctx context.Context, a *AnnouncementView) ([]attachmentLinkDTO, error) {
	out := []attachmentLinkDTO{}
	exp := s.Clock.Now().Add(mediaURLTTL).Truncate(time.Second)
	for _, id := range a.AttachmentIDs {
		att, err := s.Attachments.Attachment(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if att.SchoolID != a.SchoolID {
			continue
		}
		out = append(out, attachmentLinkDTO{ID: att.ID, Name: att.Name, ContentType: att.ContentType, Size: att.Size,
			URL: "/v1/media/" + s.mediaToken(att.ID, mediaAttachment, exp), ExpiresAt: exp.UTC()})
	}
	return out, nil
}

// markInboxReadByPush marks the inbox item a push announced read (read_via
// push), when the push was an announcement's: its broadcast names the
// announcement in the announcementParam parameter (whatever its template).
func (s *server) markInboxReadByPush(ctx context.Context, parentID string, page *content.LedgerPage, at time.Time) error {
	b, err := s.Ledger.Broadcast(ctx, page.BroadcastID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	source := b.Params[announcementParam]
	if source == "" {
		return nil
	}
	_, err = s.Inbox.MarkInboxRead(ctx, content.InboxItemID(parentID, source), content.ReadViaPush, at)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	}
	return err
}

// announcementParam is the parameter of an announcement's broadcast that
// names the announcement.
const announcementParam = "announcement_id"

// encodeInboxCursor seals the last item's time and source id, as the
// message log does: opaque, checksummed, refused when edited.
func encodeInboxCursor(cur content.InboxCursor) string {
	return sealTimeIDCursor(inboxCursorPrefix, cur.CreatedAt, cur.SourceID)
}

func decodeInboxCursor(v string) (content.InboxCursor, bool) {
	at, id, ok := openTimeIDCursor(inboxCursorPrefix, v)
	return content.InboxCursor{CreatedAt: at, SourceID: id}, ok
}

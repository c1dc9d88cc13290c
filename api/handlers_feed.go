package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// The parent feed: per child, newest first, cursor-paged. A first page is
// the caller (already loaded by authenticate) and the feed head, which
// keeps a copy of the newest items: two lookups by _id (plus the school's
// time zone when not remembered). A later page is the caller and at most
// two bucket documents. Viewing it counts as
// activity for the inactivity clock through authenticate, which refreshes
// the account's last-active time at most once an hour from the principal
// it already holds.

const feedCursorPrefix = "f1."

// feedLimitMax is the most a client may ask for; the store serves at most
// content.FeedPageMax (one bucket's worth), and the page carries a cursor
// for the rest, which the contract allows.
const feedLimitMax = 50

type feedItemDTO struct {
	ID           string           `json:"id"`
	Kind         string           `json:"kind"`
	At           time.Time        `json:"at"`
	State        string           `json:"state"`
	AssignmentID string           `json:"assignment_id,omitempty"`
	Activity     *feedActivityDTO `json:"activity,omitempty"`
	DueAt        *time.Time       `json:"due_at,omitempty"`
	DueDate      string           `json:"due_date,omitempty"` // the day due_at falls on at the school
	TeacherName  string           `json:"teacher_name,omitempty"`
	AwardID      string           `json:"award_id,omitempty"`
	Title        string           `json:"title"`
	Reason       string           `json:"reason,omitempty"`
	Rating       *int             `json:"rating,omitempty"`
	Comment      string           `json:"comment,omitempty"`
	ReplyCount   int              `json:"reply_count"`
	LatestReply  *feedReplyDTO    `json:"latest_reply,omitempty"`
}

type feedActivityDTO struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Minutes int    `json:"minutes"`
}

type feedReplyDTO struct {
	Excerpt string    `json:"excerpt"`
	At      time.Time `json:"at"`
}

type feedPageDTO struct {
	Items      []feedItemDTO `json:"items"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// toFeedItemDTO draws i; loc is the school's zone, for the due date.
func toFeedItemDTO(i *content.FeedItem, loc *time.Location) feedItemDTO {
	d := feedItemDTO{ID: i.ID, Kind: string(i.Kind), At: i.At, State: string(i.State()), Title: i.Title,
		TeacherName: i.TeacherName, ReplyCount: i.ReplyCount(), Comment: i.Comment}
	if i.Kind == content.FeedActivity {
		d.AssignmentID = i.AssignmentID
		d.Activity = &feedActivityDTO{ID: i.ActivityID, Title: i.Title, Kind: string(i.ActivityKind),
			Subject: string(i.Subject), Minutes: i.Minutes}
	}
	if i.Kind == content.FeedAward {
		d.AwardID, d.Reason = i.AwardID, i.Reason
	}
	if !i.DueAt.IsZero() {
		due := i.DueAt
		d.DueAt = &due
		d.DueDate = content.DueDate(due, loc)
	}
	if i.Rating > 0 {
		r := i.Rating
		d.Rating = &r
	}
	if i.LatestReply != "" {
		d.LatestReply = &feedReplyDTO{Excerpt: i.LatestReply, At: i.LatestReplyAt}
	}
	return d
}

// feedChild checks the caller may read :childId's feed: a parent with a
// live link, or a link to a child who left the school (read-only; no
// lookup: the link is on the principal), or the child's school admins and
// the teachers of one of the child's classes.
func (s *server) feedChild(c *fiber.Ctx) (string, error) {
	p := principal(c)
	id := c.Params("childId")
	notFound := content.Errorf(content.CodeNotFound, "no such child")
	if p.Parent != nil {
		if !p.CanReadChild(id) {
			return "", notFound
		}
		return id, nil
	}
	ctx := c.UserContext()
	child, err := s.Roster.Child(ctx, id)
	if content.IsCode(err, content.CodeNotFound) {
		return "", notFound
	} else if err != nil {
		return "", err
	}
	sc, err := s.Roster.School(ctx, child.SchoolID)
	if err != nil {
		return "", err
	}
	if p.IsSchoolAdmin(sc) {
		return id, nil
	}
	var classes []*content.Class
	for _, cid := range child.ClassIDs {
		if cl, err := s.Roster.Class(ctx, cid); err == nil {
			classes = append(classes, cl)
		}
	}
	if !p.CanSeeChildAsStaff(sc, child, classes) {
		return "", notFound
	}
	return id, nil
}

func (s *server) childFeed() fiber.Handler {
	return func(c *fiber.Ctx) error {
		childID, err := s.feedChild(c)
		if err != nil {
			return err
		}
		fe := content.FieldErrors{}
		limit := queryLimit(c, fe, content.FeedPageDefault, feedLimitMax)
		before := int64(-1)
		if v := c.Query("cursor"); v != "" {
			n, ok := decodeFeedCursor(v)
			if !ok {
				fe.Add("cursor", "must be a next_cursor from an earlier page")
			}
			before = n
		}
		if err := fe.Err(); err != nil {
			return err
		}
		items, next, err := s.feedPage(c, childID, before, limit)
		if err != nil {
			return err
		}
		readerID, share, err := s.feedReader(c, childID, items)
		if err != nil {
			return err
		}
		out := feedPageDTO{Items: make([]feedItemDTO, 0, len(items))}
		lang := ""
		var loc *time.Location
		for _, it := range items {
			if loc == nil && !it.DueAt.IsZero() {
				if loc, err = s.childZone(c, childID); err != nil {
					return err
				}
			}
			r := it.ForReader(readerID, share)
			if r.Kind == content.FeedActivity {
				if lang == "" {
					lang = s.readerLanguage(c)
				}
				// A built-in activity reads in the reader's language.
				r.Title = s.activityTitle(r.ActivityID, r.Title, lang)
			}
			out.Items = append(out.Items, toFeedItemDTO(r, loc))
		}
		if next > 0 {
			out.NextCursor = feedCursorPrefix + strconv.FormatInt(next, 10)
		}
		return c.JSON(out)
	}
}

// feedPage reads the page: the newest one from the child's feed view when
// it keeps a current one, else from the feed, then keeps in the view what
// a full check of a parent found and the newest page it built, so the
// parent's next request is one read. A view that cannot be saved costs
// the next request a full read, nothing else.
func (s *server) feedPage(c *fiber.Ctx, childID string, before int64, limit int) ([]*content.FeedItem, int64, error) {
	ctx := c.UserContext()
	view, _ := c.Locals(localFeedView).(*content.FeedView)
	if before >= 0 || view == nil {
		return s.ParentFeed.FeedPage(ctx, childID, before, limit)
	}
	if view.HasPage && c.Locals(localFeedKept) != nil {
		items, next := view.FirstPage(limit)
		return items, next, nil
	}
	var keep []*content.FeedItem
	items, next := view.Page, view.Next
	if !view.HasPage {
		var err error
		if items, next, err = s.ParentFeed.FeedPage(ctx, childID, -1, content.FeedPageMax); err != nil {
			return nil, 0, err
		}
		keep = items
	}
	var access *content.FeedAccess
	if p := principal(c); c.Locals(localFeedKept) == nil && p.Parent != nil {
		if link, ok := p.Parent.ReadableChild(childID); ok {
			access = &content.FeedAccess{ParentID: p.ID(), Sessions: p.Parent.Sessions, Language: p.Parent.Language,
				SchoolID: link.SchoolID, CheckedAt: s.Clock.Now()}
		}
	}
	if len(keep) > 0 || access != nil {
		if err := s.ParentFeed.SaveFeedView(ctx, view, keep, next, access, s.Clock.Now()); err != nil {
			s.Log.Warn("feed view not saved", "err", err)
		}
	}
	page, n := content.CutFeedPage(items, next, limit)
	return page, n, nil
}

// feedReader says whose responses a page shows: a parent's own (readerID
// their id) unless the child's school shares family threads; staff see
// every parent's (readerID ""). The school is read only when a page holds
// another parent's response, so a page of one family's feed costs no more.
func (s *server) feedReader(c *fiber.Ctx, childID string, items []*content.FeedItem) (string, bool, error) {
	p := principal(c)
	if p.Parent == nil {
		return "", true, nil
	}
	others := false
	for _, it := range items {
		for _, r := range it.Responses {
			others = others || r.ParentID != p.ID()
		}
	}
	if !others {
		return p.ID(), false, nil
	}
	ctx := c.UserContext()
	link, _ := p.Parent.ReadableChild(childID)
	schoolID := link.SchoolID
	if schoolID == "" {
		k, err := s.Roster.Child(ctx, childID)
		if err != nil {
			return "", false, err
		}
		schoolID = k.SchoolID
	}
	sc, err := s.Roster.School(ctx, schoolID)
	if content.IsCode(err, content.CodeNotFound) {
		return p.ID(), false, nil
	} else if err != nil {
		return "", false, err
	}
	return p.ID(), sc.ShareFamilyThreads, nil
}

// decodeFeedCursor reads "f1.<position>": the position below which the
// next page starts. A position is not secret (it counts items in a feed the
// caller may read), so the cursor needs no seal.
func decodeFeedCursor(v string) (int64, bool) {
	raw, ok := strings.CutPrefix(v, feedCursorPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != raw {
		return 0, false
	}
	return n, true
}

// markFeedItemSeen: the parent opened an item. Only a linked parent; the
// item must be in this child's feed (its ID says whose it is).
func (s *server) markFeedItemSeen() fiber.Handler {
	return func(c *fiber.Ctx) error {
		childID, err := s.feedChild(c)
		if err != nil {
			return err
		}
		itemID := c.Params("itemId")
		if owner, _, ok := content.ParseFeedItemID(itemID); !ok || owner != childID {
			return content.Errorf(content.CodeNotFound, "no such feed item")
		}
		now := s.Clock.Now()
		first, err := s.ParentFeed.MarkFeedItemSeen(c.UserContext(), itemID, now)
		if err != nil {
			return err
		}
		if first {
			// A view counts once per item, for the child's, class's and
			// school's engagement.
			k, err := s.Roster.Child(c.UserContext(), childID)
			if err != nil {
				return err
			}
			s.countEngagement(c, content.EngageView, k, now)
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// childZone is the time zone of the child's school (needed only when a page
// has an item with a due date). A parent's link names the school, so only
// staff read the child; the zone itself is remembered (schoolZone).
func (s *server) childZone(c *fiber.Ctx, childID string) (*time.Location, error) {
	ctx := c.UserContext()
	schoolID := ""
	if p := principal(c); p.Parent != nil {
		link, _ := p.Parent.ReadableChild(childID)
		schoolID = link.SchoolID
	}
	if schoolID == "" {
		k, err := s.Roster.Child(ctx, childID)
		if err != nil {
			return nil, err
		}
		schoolID = k.SchoolID
	}
	return s.schoolZone(ctx, schoolID)
}

package api

import (
	"slices"
	"sort"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Staff counts for one announcement: deliveries by channel from the
// ledger pages of the broadcast that sent it (one read by _id per page),
// families who read it (opened in the app or the push opened: the
// announcement's inbox source document, one read) by class, and the
// families not reached (every message to them failed or was suppressed).
// The school's admins and the author see every family; a teacher of a
// class the announcement went to sees the families of their own classes
// only; anyone else is told it does not exist.

// notReachedMax bounds the families listed by name (the total is given).
const notReachedMax = 500

type channelCountsDTO struct {
	Pending    int `json:"pending"`
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Failed     int `json:"failed"`
	Suppressed int `json:"suppressed"`
	Unknown    int `json:"unknown"`
}

func (c *channelCountsDTO) add(s content.MessageState) {
	switch s {
	case content.StatePending, content.StateDeferred, content.StateSending:
		c.Pending++
	case content.StateSent:
		c.Sent++
	case content.StateDelivered, content.StateRead:
		c.Delivered++
	case content.StateFailed:
		c.Failed++
	case content.StateSuppressed:
		c.Suppressed++
	case content.StateUnknown:
		c.Unknown++
	}
}

type classStatsDTO struct {
	ClassID    string `json:"class_id"`
	Name       string `json:"name"`
	Families   int    `json:"families"`
	Read       int    `json:"read"`
	NotReached int    `json:"not_reached"`
}

type familyDTO struct {
	ParentID string `json:"parent_id"`
	Name     string `json:"name"`
}

type announcementStatsDTO struct {
	AnnouncementID  string                      `json:"announcement_id"`
	BroadcastID     string                      `json:"broadcast_id,omitempty"`
	Families        int                         `json:"families"`
	Read            int                         `json:"read"`
	ReadVia         map[string]int              `json:"read_via"`
	Channels        map[string]channelCountsDTO `json:"channels"`
	ByClass         []classStatsDTO             `json:"by_class"`
	NotReached      []familyDTO                 `json:"not_reached"`
	NotReachedTotal int                         `json:"not_reached_total"`
}

// familyReach is what the ledger says of one family.
type familyReach struct {
	entries, failed int
	pushRead        bool
}

func (s *server) announcementStats() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		p := principal(c)
		notFound := content.Errorf(content.CodeNotFound, "no such announcement")
		if s.Announcements == nil {
			return notFound
		}
		a, err := s.Announcements.AnnouncementView(ctx, c.Params("announcementId"))
		if content.IsCode(err, content.CodeNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		if a.SchoolID != sc.ID {
			return notFound
		}
		// A teacher who is neither admin nor author sees the families of
		// the targeted classes they teach, or nothing.
		var mine []string
		all := p.IsSchoolAdmin(sc) || a.CreatedBy == p.ID()
		classes := map[string]*content.Class{}
		for _, id := range a.ClassIDs {
			cl, err := s.Roster.Class(ctx, id)
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if cl.SchoolID != sc.ID {
				continue
			}
			classes[id] = cl
			if p.TeachesClass(cl) {
				mine = append(mine, id)
			}
		}
		if !all && len(mine) == 0 {
			return notFound
		}
		reads, err := s.Inbox.InboxReads(ctx, a.ID)
		if err != nil {
			return err
		}
		visible := func(pid string) bool {
			if all {
				return true
			}
			for _, cl := range reads.Classes[pid] {
				if slices.Contains(mine, cl) {
					return true
				}
			}
			return false
		}

		out := announcementStatsDTO{AnnouncementID: a.ID, BroadcastID: a.BroadcastID, ReadVia: map[string]int{},
			Channels: map[string]channelCountsDTO{"sms": {}, "email": {}, "push": {}}, ByClass: []classStatsDTO{}, NotReached: []familyDTO{}}
		families := map[string]*familyReach{}
		if a.BroadcastID != "" {
			if err := s.walkAnnouncementLedger(c, a.BroadcastID, func(e content.LedgerEntry) {
				if !visible(e.RecipientID) {
					return
				}
				ch := out.Channels[e.Channel]
				st := e.State()
				ch.add(st)
				out.Channels[e.Channel] = ch
				f := families[e.RecipientID]
				if f == nil {
					f = &familyReach{}
					families[e.RecipientID] = f
				}
				f.entries++
				if st == content.StateFailed || st == content.StateSuppressed {
					f.failed++
				}
				if st == content.StateRead {
					f.pushRead = true
				}
			}); err != nil {
				return err
			}
		}
		// Families with an inbox item count even before (or without) a
		// message on any channel.
		for pid := range reads.Classes {
			if visible(pid) && families[pid] == nil {
				families[pid] = &familyReach{}
			}
		}
		byClass := map[string]*classStatsDTO{}
		classOf := func(id string) *classStatsDTO {
			cs := byClass[id]
			if cs == nil {
				cs = &classStatsDTO{ClassID: id}
				byClass[id] = cs
			}
			return cs
		}
		var notReached []string
		for pid, f := range families {
			via, read := reads.Read[pid]
			if !read && f.pushRead {
				via, read = content.ReadViaPush, true
			}
			unreached := f.entries > 0 && f.failed == f.entries
			out.Families++
			if read {
				out.Read++
				out.ReadVia[via]++
			}
			if unreached {
				notReached = append(notReached, pid)
			}
			for _, cl := range reads.Classes[pid] {
				if !all && !slices.Contains(mine, cl) {
					continue
				}
				cs := classOf(cl)
				cs.Families++
				if read {
					cs.Read++
				}
				if unreached {
					cs.NotReached++
				}
			}
		}
		for id, cs := range byClass {
			cl, ok := classes[id]
			if !ok {
				got, err := s.Roster.Class(ctx, id)
				if err != nil && !content.IsCode(err, content.CodeNotFound) {
					return err
				}
				if err != nil || got.SchoolID != sc.ID {
					continue
				}
				cl = got
			}
			cs.Name = cl.Name
			out.ByClass = append(out.ByClass, *cs)
		}
		sort.Slice(out.ByClass, func(i, j int) bool { return out.ByClass[i].Name < out.ByClass[j].Name })
		sort.Strings(notReached)
		out.NotReachedTotal = len(notReached)
		for _, pid := range notReached[:min(len(notReached), notReachedMax)] {
			name := ""
			if par, err := s.Roster.Parent(ctx, pid); err == nil {
				name = par.FirstName + " " + par.LastName
			} else if !content.IsCode(err, content.CodeNotFound) {
				return err
			}
			out.NotReached = append(out.NotReached, familyDTO{ParentID: pid, Name: name})
		}
		return c.JSON(out)
	}
}

// walkAnnouncementLedger hands fn every entry of the broadcast's pages,
// and of the SMS pages that fell back for unread pushes.
func (s *server) walkAnnouncementLedger(c *fiber.Ctx, broadcastID string, fn func(content.LedgerEntry)) error {
	ctx := c.UserContext()
	b, err := s.Ledger.Broadcast(ctx, broadcastID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	for n := 0; n < maxStatusPages && (b.State == content.BroadcastExpanding || n < b.Pages); n++ {
		page, err := s.Ledger.LedgerPage(ctx, content.LedgerPageID(b.ID, n))
		if content.IsCode(err, content.CodeNotFound) {
			break
		} else if err != nil {
			return err
		}
		for _, e := range page.Entries {
			fn(e)
		}
		if !b.Important {
			continue
		}
		fb, err := s.Ledger.LedgerPage(ctx, content.FallbackPageID(b.ID, n))
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		for _, e := range fb.Entries {
			fn(e)
		}
	}
	return nil
}

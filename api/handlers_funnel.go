package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
)

// The invite funnel: for each family (parent) linked at the school, how
// far they got — imported, invited, invite delivered (or why it failed),
// joined, active in the last 30 days. Delivery comes from the ledger of
// the school's invite and reminder broadcasts, read page by page by _id.

const activeWindow = 30 * 24 * time.Hour

// maxFunnelBroadcasts bounds the school's message log the funnel walks.
const maxFunnelBroadcasts = 5000

type funnelCountsDTO struct {
	Imported       int            `json:"imported"`
	Invited        int            `json:"invited"`
	Delivered      int            `json:"delivered"`
	Sent           int            `json:"sent"`
	Failed         int            `json:"failed"`
	FailedByReason map[string]int `json:"failed_by_reason"`
	Joined         int            `json:"joined"`
	Active30d      int            `json:"active_30d"`
}

type funnelClassDTO struct {
	ClassID string `json:"class_id"`
	Name    string `json:"name"`
	funnelCountsDTO
}

type funnelDTO struct {
	School  *funnelCountsDTO `json:"school,omitempty"`
	Classes []funnelClassDTO `json:"classes"`
}

// familyRow is one parent's place in the funnel.
type familyRow struct {
	parent    *content.Parent
	children  []content.ChildLink // live links at the school
	invited   bool
	invitedAt time.Time
	delivery  string // not_invited | pending | sent | delivered | failed
	reason    string // for failed
}

func (r *familyRow) joined() bool {
	return r.parent.State == content.ParentActive || r.parent.State == content.ParentWarned
}

func (r *familyRow) add(c *funnelCountsDTO, now time.Time) {
	c.Imported++
	if r.invited {
		c.Invited++
	}
	switch r.delivery {
	case "delivered":
		c.Delivered++
	case "sent":
		c.Sent++
	case "failed":
		c.Failed++
		c.FailedByReason[r.reason]++
	}
	if r.joined() {
		c.Joined++
		if now.Sub(r.parent.LastActiveAt) <= activeWindow {
			c.Active30d++
		}
	}
}

// familyRows builds every linked family's row, sorted by parent id.
func (s *server) familyRows(ctx context.Context, sc *content.School) ([]*familyRow, *content.RosterSnapshot, error) {
	snap, err := s.Imports.RosterSnapshot(ctx, sc.ID)
	if err != nil {
		return nil, nil, err
	}
	invs, err := s.Imports.FamilyInvitesOfSchool(ctx, sc.ID)
	if err != nil {
		return nil, nil, err
	}
	invitedAt := make(map[string]time.Time, len(invs))
	for _, inv := range invs {
		invitedAt[inv.ParentID] = inv.FirstAt
	}
	delivery, err := s.inviteDelivery(ctx, sc.ID)
	if err != nil {
		return nil, nil, err
	}
	var rows []*familyRow
	for _, p := range snap.Parents {
		r := &familyRow{parent: p, invited: snap.Invited[p.ID], invitedAt: invitedAt[p.ID], delivery: "not_invited"}
		for _, cl := range p.Children {
			if cl.SchoolID == sc.ID && cl.State == content.LinkLinked {
				r.children = append(r.children, cl)
			}
		}
		if len(r.children) == 0 {
			continue
		}
		if d, ok := delivery[p.ID]; ok {
			r.delivery, r.reason, r.invited = d.state, d.reason, true
		} else if r.invited {
			r.delivery = "pending"
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *familyRow) int { return strings.Compare(a.parent.ID, b.parent.ID) })
	return rows, snap, nil
}

type deliveryOf struct {
	state, reason string
	rank          int
}

// deliveryRank orders a parent's invite outcomes: any delivered message
// counts as delivered, then sent, then failed, then still pending.
var deliveryRank = map[string]int{"pending": 1, "failed": 2, "sent": 3, "delivered": 4}

// inviteDelivery reads the ledger of every invite and reminder broadcast
// of the school and keeps each parent's best outcome.
func (s *server) inviteDelivery(ctx context.Context, schoolID string) (map[string]deliveryOf, error) {
	out := map[string]deliveryOf{}
	var after content.BroadcastCursor
	for seen := 0; seen < maxFunnelBroadcasts; {
		bs, err := s.Ledger.BroadcastsOfSchool(ctx, schoolID, "", after, 100)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			seen++
			if b.Template != string(notify.TemplateInvite) && b.Template != string(notify.TemplateInviteReminder) {
				continue
			}
			for n := 0; n < maxStatusPages && (b.State == content.BroadcastExpanding || n < b.Pages); n++ {
				page, err := s.Ledger.LedgerPage(ctx, content.LedgerPageID(b.ID, n))
				if content.IsCode(err, content.CodeNotFound) {
					break
				} else if err != nil {
					return nil, err
				}
				for _, e := range page.Entries {
					d := deliveryOf{state: "pending"}
					switch st := e.State(); st {
					case content.StateDelivered:
						d.state = "delivered"
					case content.StateSent:
						d.state = "sent"
					case content.StateFailed, content.StateSuppressed:
						d.state, d.reason = "failed", string(st)
						if e.ErrorCode != "" {
							d.reason = e.ErrorCode
						}
					}
					d.rank = deliveryRank[d.state]
					if prev, ok := out[e.RecipientID]; !ok || d.rank > prev.rank {
						out[e.RecipientID] = d
					}
				}
			}
		}
		if len(bs) < 100 {
			break
		}
		after = content.CursorAfter(bs[len(bs)-1])
	}
	return out, nil
}

// schoolFunnel answers admins with the school's totals and every class;
// teachers with the classes they teach.
func (s *server) schoolFunnel() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		p := principal(c)
		admin := p.IsSchoolAdmin(sc)
		rows, snap, err := s.familyRows(c.UserContext(), sc)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		out := funnelDTO{Classes: []funnelClassDTO{}}
		if admin {
			out.School = &funnelCountsDTO{FailedByReason: map[string]int{}}
			for _, r := range rows {
				r.add(out.School, now)
			}
		}
		classesOf := map[string][]string{} // child id → class ids
		for _, k := range snap.Children {
			if k.SchoolLink.State == content.LinkLinked {
				classesOf[k.ID] = k.ClassIDs
			}
		}
		byClass := map[string]*funnelClassDTO{}
		classes := slices.Clone(snap.Classes)
		slices.SortFunc(classes, func(a, b *content.Class) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
		for _, cl := range classes {
			if !admin && !p.TeachesClass(cl) {
				continue
			}
			out.Classes = append(out.Classes, funnelClassDTO{ClassID: cl.ID, Name: cl.Name,
				funnelCountsDTO: funnelCountsDTO{FailedByReason: map[string]int{}}})
		}
		for i := range out.Classes {
			byClass[out.Classes[i].ClassID] = &out.Classes[i]
		}
		for _, r := range rows {
			in := map[string]bool{}
			for _, cl := range r.children {
				for _, id := range classesOf[cl.ChildID] {
					in[id] = true
				}
			}
			for id := range in {
				if fc := byClass[id]; fc != nil {
					r.add(&fc.funnelCountsDTO, now)
				}
			}
		}
		return c.JSON(out)
	}
}

type familyChildDTO struct {
	ChildID   string `json:"child_id"`
	FirstName string `json:"first_name"`
	YearGroup string `json:"year_group"`
}

type familyStatusDTO struct {
	ParentID      string           `json:"parent_id"`
	FirstName     string           `json:"first_name"`
	LastName      string           `json:"last_name"`
	Language      string           `json:"language"`
	HasMobile     bool             `json:"has_mobile"`
	HasEmail      bool             `json:"has_email"`
	State         string           `json:"state"`
	Delivery      string           `json:"delivery"`
	FailureReason string           `json:"failure_reason,omitempty"`
	InvitedAt     *time.Time       `json:"invited_at,omitempty"`
	RemovalDueAt  *time.Time       `json:"removal_due_at,omitempty"`
	LastActiveAt  *time.Time       `json:"last_active_at,omitempty"`
	Children      []familyChildDTO `json:"children"`
}

type familyPageDTO struct {
	Items      []familyStatusDTO `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

func toFamilyStatusDTO(r *familyRow) familyStatusDTO {
	p := r.parent
	d := familyStatusDTO{ParentID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Language: p.Language,
		HasMobile: p.Phone != "", HasEmail: p.Email != "", State: string(p.State), Delivery: r.delivery,
		FailureReason: r.reason, InvitedAt: timePtr(r.invitedAt), Children: []familyChildDTO{}}
	if r.joined() {
		d.LastActiveAt = timePtr(p.LastActiveAt)
	}
	// The school's notice that a family who never joined will be removed
	// (the invited clock): shown from 30 days before, until a new invite
	// withdraws it or the family joins.
	if p.State == content.ParentInvited && !p.InviteNoticeAt.IsZero() {
		d.RemovalDueAt = timePtr(content.InviteRemovalOn(p.InviteNoticeAt, p.InviteNoticeFor))
	}
	for _, cl := range r.children {
		d.Children = append(d.Children, familyChildDTO{ChildID: cl.ChildID, FirstName: cl.FirstName, YearGroup: cl.YearGroup})
	}
	return d
}

const (
	familiesDefaultLimit = 50
	familiesMaxLimit     = 200
)

// funnelFamilies pages the per-family status list by parent id.
func (s *server) funnelFamilies() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		fe := content.FieldErrors{}
		limit := queryLimit(c, fe, familiesDefaultLimit, familiesMaxLimit)
		after := c.Query("cursor")
		if len(after) > 64 || strings.ContainsFunc(after, func(r rune) bool {
			return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z')
		}) {
			fe.Add("cursor", "must be a next_cursor from an earlier page")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		rows, _, err := s.familyRows(c.UserContext(), sc)
		if err != nil {
			return err
		}
		start, _ := slices.BinarySearchFunc(rows, after, func(r *familyRow, id string) int { return strings.Compare(r.parent.ID, id) })
		if after != "" && start < len(rows) && rows[start].parent.ID == after {
			start++
		}
		out := familyPageDTO{Items: []familyStatusDTO{}}
		end := min(start+limit, len(rows))
		for _, r := range rows[start:end] {
			out.Items = append(out.Items, toFamilyStatusDTO(r))
		}
		if end < len(rows) && end > start {
			out.NextCursor = rows[end-1].parent.ID
		}
		return c.JSON(out)
	}
}

// csvSafe keeps a cell from being run as a formula when the export is
// opened in a spreadsheet (OWASP CSV injection): a leading = + - @ tab or
// carriage return gets a single quote in front.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// funnelFamiliesCSV exports every family's status as CSV.
func (s *server) funnelFamiliesCSV() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		rows, _, err := s.familyRows(c.UserContext(), sc)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"parent_id", "first_name", "last_name", "children", "language", "has_mobile", "has_email",
			"state", "delivery", "failure_reason", "invited_at", "last_active_at"})
		ts := func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		}
		for _, r := range rows {
			d := toFamilyStatusDTO(r)
			kids := make([]string, 0, len(d.Children))
			for _, k := range d.Children {
				kids = append(kids, k.FirstName+" ("+k.YearGroup+")")
			}
			rec := []string{d.ParentID, d.FirstName, d.LastName, strings.Join(kids, "; "), d.Language,
				strconv.FormatBool(d.HasMobile), strconv.FormatBool(d.HasEmail), d.State, d.Delivery, d.FailureReason,
				ts(d.InvitedAt), ts(d.LastActiveAt)}
			for i := range rec {
				rec[i] = csvSafe(rec[i])
			}
			_ = w.Write(rec)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "funnel.export", sc.ID, "school:"+sc.ID)
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="families.csv"`)
		return c.Send(buf.Bytes())
	}
}

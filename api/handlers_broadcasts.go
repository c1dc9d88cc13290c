package api

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Broadcasts: a school admin (or a teacher, to their own classes) sends a
// system template to many parents. The API records the broadcast and
// queues its expansion; the worker writes the ledger and sends. The API
// never sees contacts or message bodies, only IDs and states.

// broadcastTemplate is a system template a broadcast may use: only those
// whose parameters (besides the school name, which the worker fills in)
// a request can supply.
type broadcastTemplate struct {
	category string   // notification preference category
	params   []string // request params the template needs
}

var broadcastTemplates = map[string]broadcastTemplate{
	"award":         {category: "awards", params: []string{"child_first_name", "teacher_name"}},
	"activity_set":  {category: "activities", params: []string{"child_first_name", "activity_title"}},
	"teacher_reply": {category: "replies", params: []string{"child_first_name", "teacher_name"}},
}

// Longest value of each parameter, in characters: short text that fits an SMS.
var broadcastParamMax = map[string]int{"child_first_name": 50, "teacher_name": 80, "activity_title": 120}

const maxAudienceClasses = 50

type broadcastParamsDTO struct {
	ChildFirstName *string `json:"child_first_name,omitempty"`
	TeacherName    *string `json:"teacher_name,omitempty"`
	ActivityTitle  *string `json:"activity_title,omitempty"`
}

func (p broadcastParamsDTO) byName() map[string]*string {
	return map[string]*string{"child_first_name": p.ChildFirstName, "teacher_name": p.TeacherName, "activity_title": p.ActivityTitle}
}

type audienceDTO struct {
	AllParents bool     `json:"all_parents,omitempty"`
	ClassIDs   []string `json:"class_ids,omitempty"`
}

type newBroadcastRequest struct {
	Template  string             `json:"template"`
	Params    broadcastParamsDTO `json:"params"`
	Audience  audienceDTO        `json:"audience"`
	Urgent    bool               `json:"urgent"`
	Important bool               `json:"important"`
}

type broadcastCountsDTO struct {
	Pending    int `json:"pending"`
	Deferred   int `json:"deferred"`
	Sending    int `json:"sending"`
	Unknown    int `json:"unknown"`
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Read       int `json:"read"`
	Failed     int `json:"failed"`
	Suppressed int `json:"suppressed"`
}

func (c *broadcastCountsDTO) add(s content.MessageState) {
	switch s {
	case content.StatePending:
		c.Pending++
	case content.StateDeferred:
		c.Deferred++
	case content.StateSending:
		c.Sending++
	case content.StateUnknown:
		c.Unknown++
	case content.StateSent:
		c.Sent++
	case content.StateDelivered:
		c.Delivered++
	case content.StateRead:
		c.Read++
	case content.StateFailed:
		c.Failed++
	case content.StateSuppressed:
		c.Suppressed++
	}
}

type broadcastDTO struct {
	ID         string              `json:"id"`
	State      string              `json:"state"`
	Template   string              `json:"template"`
	Audience   audienceDTO         `json:"audience"`
	Urgent     bool                `json:"urgent"`
	Important  bool                `json:"important"`
	CreatedAt  time.Time           `json:"created_at"`
	Pages      int                 `json:"pages"`
	Recipients int                 `json:"recipients"`
	Counts     *broadcastCountsDTO `json:"counts,omitempty"`
}

// toBroadcastDTO leaves out the parameters (a child's name may be one).
func toBroadcastDTO(b *content.Broadcast) broadcastDTO {
	return broadcastDTO{ID: b.ID, State: string(b.State), Template: b.Template,
		Audience: audienceDTO{AllParents: b.Audience.AllParents, ClassIDs: b.Audience.ClassIDs},
		Urgent:   b.Urgent, Important: b.Important, CreatedAt: b.CreatedAt, Pages: b.Pages, Recipients: b.Recipients}
}

type recipientStatusDTO struct {
	ParentID  string     `json:"parent_id"`
	Channel   string     `json:"channel"`
	State     string     `json:"state"`
	ErrorCode string     `json:"error_code,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

type recipientPageDTO struct {
	Items      []recipientStatusDTO `json:"items"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// validateBroadcast checks the body; it touches no store.
func validateBroadcast(req *newBroadcastRequest, fe content.FieldErrors) (broadcastTemplate, map[string]string) {
	tmpl, ok := broadcastTemplates[req.Template]
	if !ok {
		fe.Add("template", "must be one of award, activity_set, teacher_reply")
	}
	params := map[string]string{}
	for name, v := range req.Params.byName() {
		field := "params." + name
		if v == nil {
			if ok && slices.Contains(tmpl.params, name) {
				fe.Add(field, "required by this template")
			}
			continue
		}
		if ok && !slices.Contains(tmpl.params, name) {
			fe.Add(field, "not used by this template")
			continue
		}
		val := strings.TrimSpace(*v)
		if n := utf8.RuneCountInString(val); n == 0 || n > broadcastParamMax[name] {
			fe.Add(field, "must be 1 to "+strconv.Itoa(broadcastParamMax[name])+" characters")
		} else if !utf8.ValidString(val) || strings.ContainsFunc(val, unicode.IsControl) {
			fe.Add(field, "must be plain text on one line")
		}
		params[name] = val
	}
	a := req.Audience
	switch {
	case a.AllParents && len(a.ClassIDs) > 0:
		fe.Add("audience", "give all_parents or class_ids, not both")
	case !a.AllParents && len(a.ClassIDs) == 0:
		fe.Add("audience", "give all_parents: true or a list of class_ids")
	case len(a.ClassIDs) > maxAudienceClasses:
		fe.Add("audience.class_ids", "at most "+strconv.Itoa(maxAudienceClasses)+" classes")
	}
	seen := map[string]bool{}
	for _, id := range a.ClassIDs {
		if id == "" || len(id) > 64 || seen[id] {
			fe.Add("audience.class_ids", "must list distinct class ids")
		}
		seen[id] = true
	}
	return tmpl, params
}

func (s *server) createBroadcast() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		return s.idempotent(c, sc.ID, func() string { return content.NewID("brd") }, func(broadcastID string) error {
			ctx := c.UserContext()
			p := principal(c)
			var req newBroadcastRequest
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
			fe := content.FieldErrors{}
			tmpl, params := validateBroadcast(&req, fe)
			if err := fe.Err(); err != nil {
				return err
			}
			// Every class must be this school's (IDs in a body are never
			// trusted); a teacher may only message classes they teach.
			admin := p.IsSchoolAdmin(sc)
			if req.Audience.AllParents && !admin {
				return content.Errorf(content.CodeForbidden, "teachers may message their own classes only")
			}
			for _, id := range req.Audience.ClassIDs {
				cl, err := s.Roster.Class(ctx, id)
				if content.IsCode(err, content.CodeNotFound) || (err == nil && cl.SchoolID != sc.ID) {
					fe.Add("audience.class_ids", "must list classes of this school")
					continue
				} else if err != nil {
					return err
				}
				if !admin && !p.TeachesClass(cl) {
					return content.Errorf(content.CodeForbidden, "teachers may message their own classes only")
				}
			}
			if err := fe.Err(); err != nil {
				return err
			}
			now := s.Clock.Now()
			b := &content.Broadcast{ID: broadcastID, SchoolID: sc.ID, CreatedBy: p.ID(), Template: req.Template,
				Category: tmpl.category, Params: params, Urgent: req.Urgent, Important: req.Important,
				Audience: content.Audience{AllParents: req.Audience.AllParents, ClassIDs: req.Audience.ClassIDs},
				State:    content.BroadcastExpanding, IdempotencyKey: idempotencyRecordID(c), CreatedAt: now}
			// A retry of a request that failed after creating it (same id
			// from the idempotency record) carries on with that one.
			b, created, err := s.publish(ctx, b, func(prev *content.Broadcast) bool {
				return prev.SchoolID == sc.ID && prev.CreatedBy == p.ID()
			}, "the broadcast could not be queued; retry with the same Idempotency-Key")
			if err != nil {
				return err
			}
			if created {
				s.audit(c, p.Kind, p.ID(), "broadcast.create", sc.ID, "broadcast:"+b.ID)
				if b.Urgent {
					// Urgent sends ignore the school's quiet hours; each one
					// is audited.
					s.audit(c, p.Kind, p.ID(), "broadcast.urgent", sc.ID, "broadcast:"+b.ID)
				}
			}
			s.Log.Info("broadcast queued", "request_id", requestID(c), "broadcast_id", b.ID, "school_id", sc.ID)
			return c.Status(fiber.StatusAccepted).JSON(toBroadcastDTO(b))
		})
	}
}

// broadcastFor loads :broadcastId for the school's admins and the staff
// member who sent it; anyone else is told it does not exist.
func (s *server) broadcastFor(c *fiber.Ctx) (*content.Broadcast, error) {
	sc, err := s.schoolFor(c, anyStaff)
	if err != nil {
		return nil, err
	}
	p := principal(c)
	b, err := s.Ledger.Broadcast(c.UserContext(), c.Params("broadcastId"))
	if err != nil || b.SchoolID != sc.ID || !(p.IsSchoolAdmin(sc) || b.CreatedBy == p.ID()) {
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return nil, err
		}
		return nil, content.Errorf(content.CodeNotFound, "no such broadcast")
	}
	return b, nil
}

// maxStatusPages bounds the pages one status read walks (a broadcast to a
// whole large school is a few hundred pages).
const maxStatusPages = 2000

func (s *server) getBroadcast() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.broadcastFor(c)
		if err != nil {
			return err
		}
		counts := &broadcastCountsDTO{}
		// While expanding, Pages is not yet set: read until the first gap
		// (pages are written as a prefix).
		for n := 0; n < maxStatusPages && (b.State == content.BroadcastExpanding || n < b.Pages); n++ {
			page, err := s.Ledger.LedgerPage(c.UserContext(), content.LedgerPageID(b.ID, n))
			if content.IsCode(err, content.CodeNotFound) {
				break
			} else if err != nil {
				return err
			}
			for _, e := range page.Entries {
				counts.add(e.State())
			}
		}
		out := toBroadcastDTO(b)
		out.Counts = counts
		return c.JSON(out)
	}
}

// broadcastRecipients answers one ledger page per call: cursor is the page
// number, so paging costs one read by _id.
func (s *server) broadcastRecipients() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.broadcastFor(c)
		if err != nil {
			return err
		}
		n := 0
		if cur := c.Query("cursor"); cur != "" {
			v, err := strconv.Atoi(cur)
			if err != nil || v < 0 || v >= maxStatusPages || strconv.Itoa(v) != cur {
				return &content.Error{Code: content.CodeInvalid, Message: "the cursor is not valid",
					Fields: map[string]string{"cursor": "must be a next_cursor from an earlier page"}}
			}
			n = v
		}
		out := recipientPageDTO{Items: []recipientStatusDTO{}}
		page, err := s.Ledger.LedgerPage(c.UserContext(), content.LedgerPageID(b.ID, n))
		if content.IsCode(err, content.CodeNotFound) {
			return c.JSON(out)
		} else if err != nil {
			return err
		}
		for _, e := range page.Entries {
			out.Items = append(out.Items, recipientStatusDTO{ParentID: e.RecipientID, Channel: e.Channel,
				State: string(e.State()), ErrorCode: e.ErrorCode, UpdatedAt: timePtr(e.UpdatedAt)})
		}
		more := n+1 < b.Pages
		if b.State == content.BroadcastExpanding {
			more = len(page.Entries) == content.LedgerPageSize
		}
		if more {
			out.NextCursor = strconv.Itoa(n + 1)
		}
		return c.JSON(out)
	}
}

// publish is content.Publish over the API's ledger and queue. When the
// queue refuses the expansion the request fails 503 with unqueued as its
// message; a retry finds the broadcast created and carries on with it.
func (s *server) publish(ctx context.Context, b *content.Broadcast, same func(*content.Broadcast) bool,
	unqueued string) (*content.Broadcast, bool, error) {
	return content.Publish(ctx, s.Ledger, func(ctx context.Context, id string) error {
		if err := tasks.QueueExpansion(ctx, s.Tasks, id); err != nil {
			return content.Wrap(content.CodeUnavailable, err, unqueued)
		}
		return nil
	}, b, same)
}

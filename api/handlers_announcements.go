package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Announcements: staff write their own message to the whole school (admins),
// year groups (admins), classes (admins, or teachers to classes they
// teach) or named families (admins), optionally scheduled and with
// versions in other languages. The API stores the announcement and queues
// its send at send_at; the worker publishes it as a news broadcast at that
// time unless it was cancelled first. A sweep in the worker starts any
// that are due and unsent, so a lost queue entry delays a send by at most
// a minute and never drops it.

// maxScheduleAhead bounds how far ahead an announcement may be scheduled.
const maxScheduleAhead = 366 * 24 * time.Hour

type announcementAudienceDTO struct {
	WholeSchool bool     `json:"whole_school,omitempty"`
	YearGroups  []string `json:"year_groups,omitempty"`
	ClassIDs    []string `json:"class_ids,omitempty"`
	ParentIDs   []string `json:"parent_ids,omitempty"`
}

type announcementVersionDTO struct {
	Language string `json:"language"`
	Title    string `json:"title"`
	Body     string `json:"body"`
}

type newAnnouncementRequest struct {
	Title         string                   `json:"title"`
	Body          string                   `json:"body"`
	Language      string                   `json:"language"`
	Versions      []announcementVersionDTO `json:"versions"`
	Audience      announcementAudienceDTO  `json:"audience"`
	SendAt        *time.Time               `json:"send_at"`
	Urgent        bool                     `json:"urgent"`
	Important     bool                     `json:"important"`
	AttachmentIDs []string                 `json:"attachment_ids"`
}

type announcementDTO struct {
	ID            string                   `json:"id"`
	SchoolID      string                   `json:"school_id"`
	CreatedBy     string                   `json:"created_by"`
	Title         string                   `json:"title"`
	Body          string                   `json:"body"`
	Language      string                   `json:"language"`
	Versions      []announcementVersionDTO `json:"versions"`
	Audience      announcementAudienceDTO  `json:"audience"`
	SendAt        time.Time                `json:"send_at"`
	Urgent        bool                     `json:"urgent"`
	Important     bool                     `json:"important"`
	AttachmentIDs []string                 `json:"attachment_ids"`
	State         string                   `json:"state"`
	BroadcastID   string                   `json:"broadcast_id,omitempty"`
	CreatedAt     time.Time                `json:"created_at"`
	SentAt        *time.Time               `json:"sent_at,omitempty"`
	CancelledAt   *time.Time               `json:"cancelled_at,omitempty"`
}

func toAnnouncementDTO(a *content.Announcement) announcementDTO {
	out := announcementDTO{ID: a.ID, SchoolID: a.SchoolID, CreatedBy: a.CreatedBy, Title: a.Title, Body: a.Body,
		Language: a.Language, Versions: []announcementVersionDTO{},
		Audience: announcementAudienceDTO{WholeSchool: a.Audience.WholeSchool, YearGroups: a.Audience.YearGroups,
			ClassIDs: a.Audience.ClassIDs, ParentIDs: a.Audience.ParentIDs},
		SendAt: a.SendAt, Urgent: a.Urgent, Important: a.Important, AttachmentIDs: a.AttachmentIDs,
		State: string(a.State), BroadcastID: a.BroadcastID, CreatedAt: a.CreatedAt,
		SentAt: timePtr(a.SentAt), CancelledAt: timePtr(a.CancelledAt)}
	if out.AttachmentIDs == nil {
		out.AttachmentIDs = []string{}
	}
	for _, v := range a.Versions {
		out.Versions = append(out.Versions, announcementVersionDTO(v))
	}
	return out
}

type announcementListDTO struct {
	Items      []announcementDTO `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// readAnnouncement validates the body and checks every ID in it against
// the school and the caller's role. It returns the announcement to store
// (without id, state or links). Field problems answer 400 with every field
// at once; a teacher reaching beyond their classes answers 403 naming the
// field.
func (s *server) readAnnouncement(c *fiber.Ctx, sc *content.School) (*content.Announcement, error) {
	ctx := c.UserContext()
	p := principal(c)
	var req newAnnouncementRequest
	if err := decodeJSON(c, &req); err != nil {
		return nil, err
	}
	fe := content.FieldErrors{}
	a := &content.Announcement{SchoolID: sc.ID, CreatedBy: p.ID(), Title: strings.TrimSpace(req.Title),
		Body: strings.TrimSpace(req.Body), Language: strings.TrimSpace(req.Language), Urgent: req.Urgent,
		Important: req.Important}
	if problem := content.CheckAnnouncementTitle(a.Title); problem != "" {
		fe.Add("title", problem)
	}
	if problem := content.CheckAnnouncementBody(a.Body); problem != "" {
		fe.Add("body", problem)
	}
	if a.Language == "" {
		a.Language = content.PrimaryLanguage(sc.Language)
		if a.Language == "" {
			a.Language = "en"
		}
	} else if !content.ValidLanguageCode(a.Language) {
		fe.Add("language", "must be a lower-case language code such as en or cy")
	}
	if len(req.Versions) > content.AnnouncementVersionsMax {
		fe.Add("versions", "at most "+strconv.Itoa(content.AnnouncementVersionsMax)+" versions")
	}
	seenLang := map[string]bool{a.Language: true}
	for i, v := range req.Versions {
		f := "versions[" + strconv.Itoa(i) + "]."
		lang := strings.TrimSpace(v.Language)
		switch {
		case !content.ValidLanguageCode(lang):
			fe.Add(f+"language", "must be a lower-case language code such as cy or pl")
		case seenLang[lang]:
			fe.Add(f+"language", "must differ from the original's and every other version's language")
		}
		seenLang[lang] = true
		ver := content.AnnouncementVersion{Language: lang, Title: strings.TrimSpace(v.Title), Body: strings.TrimSpace(v.Body)}
		if problem := content.CheckAnnouncementTitle(ver.Title); problem != "" {
			fe.Add(f+"title", problem)
		}
		if problem := content.CheckAnnouncementBody(ver.Body); problem != "" {
			fe.Add(f+"body", problem)
		}
		a.Versions = append(a.Versions, ver)
	}
	now := s.Clock.Now()
	a.SendAt = now
	if req.SendAt != nil {
		switch at := req.SendAt.UTC(); {
		case !at.After(now):
			fe.Add("send_at", "must be in the future; leave it out to send now")
		case at.Sub(now) > maxScheduleAhead:
			fe.Add("send_at", "must be within a year")
		default:
			a.SendAt = at
		}
	}
	if len(req.AttachmentIDs) > content.AnnouncementAttachMax {
		fe.Add("attachment_ids", "at most "+strconv.Itoa(content.AnnouncementAttachMax)+" attachments")
	} else if !distinctIDs(req.AttachmentIDs) {
		fe.Add("attachment_ids", "must list distinct attachment ids")
	}
	aud := req.Audience
	kinds := 0
	for _, set := range []bool{aud.WholeSchool, len(aud.YearGroups) > 0, len(aud.ClassIDs) > 0, len(aud.ParentIDs) > 0} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		fe.Add("audience", "give one of whole_school: true, year_groups, class_ids or parent_ids")
	case kinds > 1:
		fe.Add("audience", "give only one of whole_school, year_groups, class_ids or parent_ids")
	case len(aud.YearGroups) > content.AnnouncementYearsMax:
		fe.Add("audience.year_groups", "at most "+strconv.Itoa(content.AnnouncementYearsMax)+" year groups")
	case len(aud.ClassIDs) > content.AnnouncementClassesMax:
		fe.Add("audience.class_ids", "at most "+strconv.Itoa(content.AnnouncementClassesMax)+" classes")
	case len(aud.ParentIDs) > content.AnnouncementParentsMax:
		fe.Add("audience.parent_ids", "at most "+strconv.Itoa(content.AnnouncementParentsMax)+" parents")
	}
	for field, ids := range map[string][]string{"audience.year_groups": aud.YearGroups, "audience.class_ids": aud.ClassIDs,
		"audience.parent_ids": aud.ParentIDs} {
		if !distinctIDs(ids) {
			fe.Add(field, "must list distinct, non-empty values")
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	// Who may reach whom: the whole school, year groups and named families
	// are the school's admins' to message; a teacher, their own classes.
	admin := p.IsSchoolAdmin(sc)
	if !admin && kinds == 1 && len(aud.ClassIDs) == 0 {
		field := "audience.whole_school"
		if len(aud.YearGroups) > 0 {
			field = "audience.year_groups"
		} else if len(aud.ParentIDs) > 0 {
			field = "audience.parent_ids"
		}
		return nil, &content.Error{Code: content.CodeForbidden, Message: "teachers may send announcements to their own classes only",
			Fields: map[string]string{field: "only a school admin may send to this audience"}}
	}
	a.Audience = content.AnnouncementAudience{WholeSchool: aud.WholeSchool, YearGroups: aud.YearGroups,
		ClassIDs: aud.ClassIDs, ParentIDs: aud.ParentIDs}
	for _, id := range aud.ClassIDs {
		cl, err := s.Roster.Class(ctx, id)
		if content.IsCode(err, content.CodeNotFound) || (err == nil && cl.SchoolID != sc.ID) {
			fe.Add("audience.class_ids", "must list classes of this school")
			continue
		} else if err != nil {
			return nil, err
		}
		if !admin && !p.TeachesClass(cl) {
			return nil, &content.Error{Code: content.CodeForbidden, Message: "teachers may send announcements to their own classes only",
				Fields: map[string]string{"audience.class_ids": "lists a class you do not teach"}}
		}
	}
	if len(aud.YearGroups) > 0 {
		classes, err := s.Roster.ClassesOfSchool(ctx, sc.ID)
		if err != nil {
			return nil, err
		}
		for _, y := range aud.YearGroups {
			if !slices.ContainsFunc(classes, func(cl *content.Class) bool { return cl.YearGroup == y }) {
				fe.Add("audience.year_groups", "must list year groups of this school's classes")
			}
		}
	}
	for _, id := range aud.ParentIDs {
		par, err := s.Roster.Parent(ctx, id)
		if content.IsCode(err, content.CodeNotFound) || (err == nil && !linkedAt(par, sc.ID)) {
			fe.Add("audience.parent_ids", "must list parents linked to a child at this school")
			continue
		} else if err != nil {
			return nil, err
		}
	}
	if len(req.AttachmentIDs) > 0 {
		if s.Attachments == nil {
			fe.Add("attachment_ids", "attachments are not available")
		} else {
			for _, id := range req.AttachmentIDs {
				at, err := s.Attachments.Attachment(ctx, id)
				if content.IsCode(err, content.CodeNotFound) || (err == nil && at.SchoolID != sc.ID) {
					fe.Add("attachment_ids", "must list attachments uploaded to this school")
					continue
				} else if err != nil {
					return nil, err
				}
			}
			a.AttachmentIDs = req.AttachmentIDs
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

// linkedAt reports whether the parent has a child linked at the school.
func linkedAt(p *content.Parent, schoolID string) bool {
	return slices.ContainsFunc(p.Children, func(l content.ChildLink) bool {
		return l.SchoolID == schoolID && l.State == content.LinkLinked
	})
}

func distinctIDs(ids []string) bool {
	seen := map[string]bool{}
	for _, id := range ids {
		if strings.TrimSpace(id) == "" || len(id) > 64 || seen[id] {
			return false
		}
		seen[id] = true
	}
	return true
}

func (s *server) createAnnouncement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		return s.idempotent(c, sc.ID, func() string { return content.NewID("ann") }, func(id string) error {
			ctx := c.UserContext()
			p := principal(c)
			a, err := s.readAnnouncement(c, sc)
			if err != nil {
				return err
			}
			a.ID, a.State, a.CreatedAt = id, content.AnnouncementScheduled, s.Clock.Now()
			a.Links = map[string]string{}
			for _, lang := range a.Languages() {
				a.Links[lang] = s.announcementLink(a.ID, lang, a.SendAt.Add(content.AnnouncementLinkTTL))
			}
			created := true
			if err := s.AnnouncementStore.CreateAnnouncement(ctx, a); content.IsCode(err, content.CodeConflict) {
				// A retry of a request that failed after storing it (same id
				// from the idempotency record) carries on with that one.
				stored, err := s.AnnouncementStore.Announcement(ctx, id)
				if err != nil {
					return err
				}
				if stored.SchoolID != sc.ID || stored.CreatedBy != p.ID() {
					return content.Errorf(content.CodeConflict, "this announcement already exists")
				}
				a, created = stored, false
			} else if err != nil {
				return err
			}
			if created {
				s.audit(c, p.Kind, p.ID(), "announcement.create", sc.ID, "announcement:"+a.ID)
				if a.Urgent {
					// Urgent sends ignore the school's quiet hours; each one
					// is audited.
					s.audit(c, p.Kind, p.ID(), "announcement.urgent", sc.ID, "announcement:"+a.ID)
				}
			}
			// The store is what is owed: when the queue refuses the task,
			// the worker's sweep starts the send within a minute of send_at.
			if t, err := tasks.NewSendAnnouncement(a.ID, a.SendAt); err != nil {
				return err
			} else if err := tasks.Enqueue(ctx, s.Tasks, t); err != nil {
				s.Log.Warn("announcement send not queued; the sweep will start it", "request_id", requestID(c),
					"announcement_id", a.ID, "err", err)
			}
			s.Log.Info("announcement stored", "request_id", requestID(c), "announcement_id", a.ID, "school_id", sc.ID)
			return c.Status(fiber.StatusAccepted).JSON(toAnnouncementDTO(a))
		})
	}
}

// announcementFor loads :announcementId for the school's admins and the
// staff member who wrote it; anyone else is told it does not exist.
func (s *server) announcementFor(c *fiber.Ctx) (*content.School, *content.Announcement, error) {
	sc, err := s.schoolFor(c, anyStaff)
	if err != nil {
		return nil, nil, err
	}
	p := principal(c)
	a, err := s.AnnouncementStore.Announcement(c.UserContext(), c.Params("announcementId"))
	if err != nil || a.SchoolID != sc.ID || !(p.IsSchoolAdmin(sc) || a.CreatedBy == p.ID()) {
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return nil, nil, err
		}
		return nil, nil, content.Errorf(content.CodeNotFound, "no such announcement")
	}
	return sc, a, nil
}

func (s *server) getAnnouncement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, a, err := s.announcementFor(c)
		if err != nil {
			return err
		}
		return c.JSON(toAnnouncementDTO(a))
	}
}

func (s *server) cancelAnnouncement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, a, err := s.announcementFor(c)
		if err != nil {
			return err
		}
		p := principal(c)
		was := a.State
		a, err = s.AnnouncementStore.CancelAnnouncement(c.UserContext(), a.ID, s.Clock.Now())
		if err != nil {
			return err
		}
		if was != content.AnnouncementCancelled {
			s.audit(c, p.Kind, p.ID(), "announcement.cancel", sc.ID, "announcement:"+a.ID)
		}
		return c.JSON(toAnnouncementDTO(a))
	}
}

// listAnnouncements answers the school's admins with every announcement,
// and other staff with those they wrote, newest first.
func (s *server) listAnnouncements() fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := s.schoolLogQuery(c)
		if err != nil {
			return err
		}
		as, err := s.AnnouncementStore.AnnouncementsOfSchool(c.UserContext(), q.school.ID, q.createdBy, q.after, q.limit+1)
		if err != nil {
			return err
		}
		out := announcementListDTO{}
		out.Items, out.NextCursor = logPage(as, q.limit, toAnnouncementDTO, func(a *content.Announcement) content.BroadcastCursor {
			return content.BroadcastCursor{CreatedAt: a.CreatedAt, ID: a.ID}
		})
		return c.JSON(out)
	}
}

// The public link an SMS carries when an announcement's body does not fit:
// /a/{token}, where the token names the announcement and one language and
// is signed with an expiry. It is the same for every family reading that
// language, so it carries nothing about any family; it shows only the
// announcement's text, and only once it has been sent.

// announcementLinkMAC is the truncated HMAC of a link's payload: 96 bits
// keep the link short and still unguessable.
func (s *server) announcementLinkMAC(payload string) string {
	m := hmac.New(sha256.New, s.HashKey)
	m.Write([]byte("announcement-link|" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

func (s *server) announcementLink(id, lang string, exp time.Time) string {
	payload := id + "." + lang + "." + strconv.FormatInt(exp.Unix(), 36)
	base := strings.TrimRight(s.PublicURL, "/")
	if base == "" {
		base = strings.TrimRight(s.AppURL, "/")
	}
	return base + "/a/" + payload + "." + s.announcementLinkMAC(payload)
}

// openAnnouncementLink checks a token's signature and expiry.
func (s *server) openAnnouncementLink(tok string) (id, lang string, ok bool) {
	if len(tok) > 200 {
		return "", "", false
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || !hmac.Equal([]byte(tok[i+1:]), []byte(s.announcementLinkMAC(tok[:i]))) {
		return "", "", false
	}
	parts := strings.Split(tok[:i], ".")
	if len(parts) != 3 {
		return "", "", false
	}
	exp, err := strconv.ParseInt(parts[2], 36, 64)
	if err != nil || !s.Clock.Now().Before(time.Unix(exp, 0)) {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// announcementPageCSP lets the page show its own inline styles and nothing
// else: no scripts, images, frames, forms or outside requests.
const announcementPageCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// announcementPage renders a sent announcement's text in the link's
// language as a small HTML page. Bad, expired and unknown links, and
// announcements not sent (scheduled, cancelled), all get the same 404.
func (s *server) announcementPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		notFound := content.Errorf(content.CodeNotFound, "no such announcement, or the link has expired")
		id, lang, ok := s.openAnnouncementLink(c.Params("token"))
		if !ok {
			return notFound
		}
		ctx := c.UserContext()
		a, err := s.AnnouncementStore.Announcement(ctx, id)
		if content.IsCode(err, content.CodeNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		if a.State != content.AnnouncementSending && a.State != content.AnnouncementSent {
			return notFound
		}
		sc, err := s.Roster.School(ctx, a.SchoolID)
		if content.IsCode(err, content.CodeNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		title, body, language := a.Version(lang)
		html, err := notify.AnnouncementHTML(notify.Announcement{SchoolName: sc.Name, Title: title, Body: body, Language: language})
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentSecurityPolicy, announcementPageCSP)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		c.Set(fiber.HeaderCacheControl, "private, max-age=300")
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.SendString(html)
	}
}

// AnnouncementViewsOf reads announcements from the announcement store for
// the inbox and the staff counts: texts by language, attachments, the
// broadcast that sent it and its audience, year groups resolved to the
// school's classes of those year groups now.
func AnnouncementViewsOf(store content.Announcements, roster content.Roster) AnnouncementReader {
	return announcementViews{store: store, roster: roster}
}

type announcementViews struct {
	store  content.Announcements
	roster content.Roster
}

func (v announcementViews) AnnouncementView(ctx context.Context, id string) (*AnnouncementView, error) {
	a, err := v.store.Announcement(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &AnnouncementView{ID: a.ID, SchoolID: a.SchoolID, CreatedBy: a.CreatedBy, Language: a.Language, Title: a.Title,
		Body: a.Body, Versions: map[string]AnnouncementText{}, AttachmentIDs: a.AttachmentIDs, BroadcastID: a.BroadcastID,
		WholeSchool: a.Audience.WholeSchool, ClassIDs: slices.Clone(a.Audience.ClassIDs), ParentIDs: a.Audience.ParentIDs}
	for _, ver := range a.Versions {
		out.Versions[ver.Language] = AnnouncementText{Title: ver.Title, Body: ver.Body}
	}
	if len(a.Audience.YearGroups) > 0 {
		classes, err := v.roster.ClassesOfSchool(ctx, a.SchoolID)
		if err != nil {
			return nil, err
		}
		for _, c := range classes {
			if slices.Contains(a.Audience.YearGroups, c.YearGroup) {
				out.ClassIDs = append(out.ClassIDs, c.ID)
			}
		}
	}
	return out, nil
}

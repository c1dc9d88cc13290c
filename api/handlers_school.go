package api

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Languages families can be written to in: those every system template
// exists in (notify/languages.go).
var supportedLanguages = map[string]bool{"en": true, "cy": true, "pl": true, "ur": true, "es": true, "ro": true, "ar": true}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

type access int

const (
	anyStaff access = iota
	adminOnly
)

// schoolFor loads :schoolId for a staff caller. A school the caller has no
// role at is "not found" (its existence is not confirmed); a school where
// the caller is a teacher but the action needs an admin is "forbidden".
func (s *server) schoolFor(c *fiber.Ctx, need access) (*content.School, error) {
	p := principal(c)
	sc, err := s.Roster.School(c.UserContext(), c.Params("schoolId"))
	if content.IsCode(err, content.CodeNotFound) {
		return nil, content.Errorf(content.CodeNotFound, "no such school")
	} else if err != nil {
		return nil, err
	}
	if !p.IsSchoolStaff(sc) {
		return nil, content.Errorf(content.CodeNotFound, "no such school")
	}
	if need == adminOnly && !p.IsSchoolAdmin(sc) {
		return nil, content.Errorf(content.CodeForbidden, "this needs a school admin")
	}
	return sc, nil
}

// mySchools lists the schools where the caller holds a role.
func (s *server) mySchools() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		ctx := c.UserContext()
		seen := map[string]bool{}
		out := []schoolDTO{}
		add := func(sc *content.School) {
			if !seen[sc.ID] {
				seen[sc.ID] = true
				out = append(out, toSchoolDTO(sc, p.RolesAt(sc), p.IsSchoolAdmin(sc)))
			}
		}
		for _, sr := range p.Staff.Schools {
			sc, err := s.Roster.School(ctx, sr.SchoolID)
			if content.IsCode(err, content.CodeNotFound) {
				continue
			} else if err != nil {
				return err
			}
			add(sc)
		}
		for _, t := range p.Staff.TrustAdmin {
			scs, err := s.Roster.SchoolsOfTrust(ctx, t)
			if err != nil {
				return err
			}
			for _, sc := range scs {
				add(sc)
			}
		}
		return c.JSON(listDTO[schoolDTO]{Items: out})
	}
}

func (s *server) getSchool() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		p := principal(c)
		return c.JSON(toSchoolDTO(sc, p.RolesAt(sc), p.IsSchoolAdmin(sc)))
	}
}

type schoolPatch struct {
	Name           *string        `json:"name"`
	TimeZone       *string        `json:"time_zone"`
	Language       *string        `json:"language"`
	QuietHours     *quietHoursDTO `json:"quiet_hours"`
	SMSBudgetPence *int64         `json:"sms_budget_pence"`
	// ShareFamilyThreads turns on (or off) parents seeing co-parents'
	// comments and the replies to them.
	ShareFamilyThreads *bool `json:"share_family_threads"`
}

// applySchoolSettings validates and applies the editable settings.
func applySchoolSettings(sc *content.School, name, tz, lang *string, quiet *quietHoursDTO, budget *int64, fe content.FieldErrors) {
	if name != nil {
		v := strings.TrimSpace(*name)
		if n := utf8.RuneCountInString(v); n < 2 || n > 120 {
			fe.Add("name", "must be 2 to 120 characters")
		} else {
			sc.Name = v
		}
	}
	if tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || *tz == "Local" {
			fe.Add("time_zone", "must be an IANA time zone such as Europe/London")
		} else {
			sc.TimeZone = *tz
		}
	}
	if lang != nil {
		if !supportedLanguages[*lang] {
			fe.Add("language", "must be one of en, cy, pl, ur, es, ro, ar")
		} else {
			sc.Language = *lang
		}
	}
	if quiet != nil {
		if !hhmm.MatchString(quiet.Start) {
			fe.Add("quiet_hours.start", "must be HH:MM (24-hour)")
		}
		if !hhmm.MatchString(quiet.End) {
			fe.Add("quiet_hours.end", "must be HH:MM (24-hour)")
		}
		sc.QuietStart, sc.QuietEnd = quiet.Start, quiet.End
	}
	if budget != nil {
		if *budget < 0 || *budget > 100_000_000 {
			fe.Add("sms_budget_pence", "must be between 0 and 100000000")
		} else {
			sc.SMSBudgetPence = *budget
		}
	}
}

func (s *server) patchSchool() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		var req schoolPatch
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		fe := content.FieldErrors{}
		applySchoolSettings(sc, req.Name, req.TimeZone, req.Language, req.QuietHours, req.SMSBudgetPence, fe)
		if err := fe.Err(); err != nil {
			return err
		}
		if req.ShareFamilyThreads != nil {
			sc.ShareFamilyThreads = *req.ShareFamilyThreads
		}
		if err := s.Roster.UpdateSchool(c.UserContext(), sc); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "school.update", sc.ID, "school:"+sc.ID)
		return c.JSON(toSchoolDTO(sc, p.RolesAt(sc), true))
	}
}

// trustFor loads :trustId for one of its trust admins; others get 404.
func (s *server) trustFor(c *fiber.Ctx) (*content.Trust, error) {
	p := principal(c)
	id := c.Params("trustId")
	if !slices.Contains(p.Staff.TrustAdmin, id) {
		return nil, content.Errorf(content.CodeNotFound, "no such trust")
	}
	return s.Roster.Trust(c.UserContext(), id)
}

func (s *server) trustSchools() fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := s.trustFor(c)
		if err != nil {
			return err
		}
		scs, err := s.Roster.SchoolsOfTrust(c.UserContext(), t.ID)
		if err != nil {
			return err
		}
		p := principal(c)
		out := make([]schoolDTO, 0, len(scs))
		for _, sc := range scs {
			out = append(out, toSchoolDTO(sc, p.RolesAt(sc), true))
		}
		return c.JSON(listDTO[schoolDTO]{Items: out})
	}
}

type newSchoolRequest struct {
	Name           string         `json:"name"`
	Country        string         `json:"country"`
	TimeZone       string         `json:"time_zone"`
	Language       string         `json:"language"`
	QuietHours     *quietHoursDTO `json:"quiet_hours"`
	SMSBudgetPence *int64         `json:"sms_budget_pence"`
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

func (s *server) createSchool() fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := s.trustFor(c)
		if err != nil {
			return err
		}
		var req newSchoolRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		sc := NewSchoolDefaults(t.ID, s.Clock.Now())
		fe := content.FieldErrors{}
		if req.Country != "" {
			if !countryCode.MatchString(req.Country) {
				fe.Add("country", "must be an ISO 3166 two-letter code such as GB")
			}
			sc.Country = req.Country
		}
		lang := req.Language
		if lang == "" {
			lang = sc.Language
		}
		tz := req.TimeZone
		if tz == "" {
			tz = sc.TimeZone
		}
		applySchoolSettings(sc, &req.Name, &tz, &lang, req.QuietHours, req.SMSBudgetPence, fe)
		if err := fe.Err(); err != nil {
			return err
		}
		if err := s.Roster.CreateSchool(c.UserContext(), sc); err != nil {
			return err
		}
		p := principal(c)
		s.audit(c, p.Kind, p.ID(), "school.create", sc.ID, "school:"+sc.ID)
		return c.Status(fiber.StatusCreated).JSON(toSchoolDTO(sc, p.RolesAt(sc), true))
	}
}

// NewSchoolDefaults is a new UK school: London time, English, quiet hours
// 20:00–07:30, £50 of SMS a month, subscription active.
func NewSchoolDefaults(trustID string, now time.Time) *content.School {
	return &content.School{ID: content.NewID("sch"), TrustID: trustID, Country: "GB", TimeZone: "Europe/London",
		Language: "en", QuietStart: "20:00", QuietEnd: "07:30", SMSBudgetPence: 5000,
		Subscription: content.Subscription{State: "active"}, CreatedAt: now}
}

// staffAtSchool checks that every id is a staff member of the school: IDs
// in a body are never trusted to belong to the caller's tenant.
func (s *server) staffAtSchool(ctx context.Context, sc *content.School, ids []string, field string, fe content.FieldErrors) {
	for _, id := range ids {
		st, err := s.Roster.Staff(ctx, id)
		if err != nil || !st.WorksAt(sc.ID) {
			fe.Add(field, "must list staff of this school")
			return
		}
	}
}

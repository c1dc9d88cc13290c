package api

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// ActivityLibrary is the built-in starter library (content/activities),
// loaded once at start. Each call names the language the text is wanted
// in; an activity without that translation comes back in English.
type ActivityLibrary interface {
	Get(id, lang string) (content.Activity, bool)
	Find(f content.ActivityFilter, lang string) []content.Activity
}

// activityTitle is the title of activity id in lang when it is a built-in
// one, else stored (what an assignment or feed item copied when it was set:
// a school's own activity, or one since removed from the library).
func (s *server) activityTitle(id, stored, lang string) string {
	if a, ok := s.Library.Get(id, lang); ok {
		return a.Title
	}
	return stored
}

// readerLanguage is the language built-in activity text is shown in to the
// caller: a parent's own language; for staff their (first) school's
// language. The library falls back to English for anything else.
func (s *server) readerLanguage(c *fiber.Ctx) string {
	p := principal(c)
	if p.Parent != nil {
		return cmp.Or(p.Parent.Language, "en")
	}
	if p.Staff != nil {
		for _, sr := range p.Staff.Schools {
			if len(sr.Roles) == 0 {
				continue
			}
			if sc, err := s.Roster.School(c.UserContext(), sr.SchoolID); err == nil {
				return cmp.Or(sc.Language, "en")
			}
			break
		}
	}
	return "en"
}

const (
	activityPageDefault  = 20
	activityPageMax      = 50
	activityCursorPrefix = "a1."
)

type activityDTO struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Kind       string    `json:"kind"`
	Subject    string    `json:"subject"`
	YearGroups []string  `json:"year_groups"`
	Minutes    int       `json:"minutes"`
	Language   string    `json:"language"`
	Summary    string    `json:"summary"`
	Materials  []string  `json:"materials"`
	Steps      []string  `json:"steps"`
	MediaURL   string    `json:"media_url,omitempty"`
	BuiltIn    bool      `json:"built_in"`
	SchoolID   string    `json:"school_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

func toActivityDTO(a *content.Activity) activityDTO {
	return activityDTO{ID: a.ID, Title: a.Title, Kind: string(a.Kind), Subject: string(a.Subject),
		YearGroups: orEmpty(a.YearGroups), Minutes: a.Minutes, Language: a.Language, Summary: a.Summary,
		Materials: orEmpty(a.Materials), Steps: orEmpty(a.Steps), MediaURL: a.MediaURL, BuiltIn: a.BuiltIn(),
		SchoolID: a.SchoolID, CreatedAt: a.CreatedAt}
}

type activityPageDTO struct {
	Items      []activityDTO `json:"items"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// callerSchools are the schools whose own activities the caller may see:
// a parent's children's schools, a staff member's schools.
func callerSchools(p *content.Principal) []string {
	var out []string
	if p.Parent != nil {
		for _, l := range p.Parent.Children {
			if l.Readable() && !slices.Contains(out, l.SchoolID) {
				out = append(out, l.SchoolID)
			}
		}
	}
	if p.Staff != nil {
		for _, sr := range p.Staff.Schools {
			if len(sr.Roles) > 0 && !slices.Contains(out, sr.SchoolID) {
				out = append(out, sr.SchoolID)
			}
		}
	}
	return out
}

// listActivities: the built-in library, then the caller's schools' own
// activities, filtered; offset-paged (the list is small and stable).
func (s *server) listActivities() fiber.Handler {
	return func(c *fiber.Ctx) error {
		f := content.ActivityFilter{YearGroup: c.Query("year_group"), Subject: content.Subject(c.Query("subject")),
			Kind: content.ActivityKind(c.Query("kind"))}
		fe := content.FieldErrors{}
		if err := f.Validate(); err != nil {
			if ce, ok := err.(*content.Error); ok {
				for k, v := range ce.Fields {
					fe.Add(k, v)
				}
			}
		}
		limit := queryLimit(c, fe, activityPageDefault, activityPageMax)
		offset := 0
		if v := c.Query("cursor"); v != "" {
			raw, ok := strings.CutPrefix(v, activityCursorPrefix)
			n, err := strconv.Atoi(raw)
			if !ok || err != nil || n < 1 || strconv.Itoa(n) != raw {
				fe.Add("cursor", "must be a next_cursor from an earlier page")
			}
			offset = n
		}
		if err := fe.Err(); err != nil {
			return err
		}
		all := s.Library.Find(f, s.readerLanguage(c))
		for _, sid := range callerSchools(principal(c)) {
			own, err := s.Activities.ActivitiesOfSchool(c.UserContext(), sid)
			if err != nil {
				return err
			}
			for _, a := range own {
				if f.Matches(a) {
					all = append(all, *a)
				}
			}
		}
		out := activityPageDTO{Items: []activityDTO{}}
		for i := offset; i < len(all) && len(out.Items) < limit; i++ {
			out.Items = append(out.Items, toActivityDTO(&all[i]))
		}
		if offset+limit < len(all) {
			out.NextCursor = activityCursorPrefix + strconv.Itoa(offset+limit)
		}
		return c.JSON(out)
	}
}

// visibleActivity finds an activity the caller may see: built-in, or one
// of the caller's schools' own. Anything else is 404.
func (s *server) visibleActivity(ctx context.Context, p *content.Principal, id, lang string) (*content.Activity, error) {
	if a, ok := s.Library.Get(id, lang); ok {
		return &a, nil
	}
	notFound := content.Errorf(content.CodeNotFound, "no such activity")
	a, err := s.Activities.Activity(ctx, id)
	if content.IsCode(err, content.CodeNotFound) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if !slices.Contains(callerSchools(p), a.SchoolID) {
		return nil, notFound
	}
	return a, nil
}

func (s *server) getActivity() fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, err := s.visibleActivity(c.UserContext(), principal(c), c.Params("activityId"), s.readerLanguage(c))
		if err != nil {
			return err
		}
		return c.JSON(toActivityDTO(a))
	}
}

type activityRequest struct {
	Title      *string   `json:"title"`
	Kind       *string   `json:"kind"`
	Subject    *string   `json:"subject"`
	YearGroups *[]string `json:"year_groups"`
	Minutes    *int      `json:"minutes"`
	Language   *string   `json:"language"`
	Summary    *string   `json:"summary"`
	Materials  *[]string `json:"materials"`
	Steps      *[]string `json:"steps"`
	MediaURL   *string   `json:"media_url"`
}

// apply copies the fields given onto a; on create every required field
// must be given (Validate names those missing).
func (r activityRequest) apply(a *content.Activity) {
	if r.Title != nil {
		a.Title = strings.TrimSpace(*r.Title)
	}
	if r.Kind != nil {
		a.Kind = content.ActivityKind(*r.Kind)
	}
	if r.Subject != nil {
		a.Subject = content.Subject(*r.Subject)
	}
	if r.YearGroups != nil {
		a.YearGroups = *r.YearGroups
	}
	if r.Minutes != nil {
		a.Minutes = *r.Minutes
	}
	if r.Language != nil {
		a.Language = *r.Language
	}
	if r.Summary != nil {
		a.Summary = strings.TrimSpace(*r.Summary)
	}
	if r.Materials != nil {
		a.Materials = *r.Materials
	}
	if r.Steps != nil {
		a.Steps = *r.Steps
	}
	if r.MediaURL != nil {
		a.MediaURL = strings.TrimSpace(*r.MediaURL)
	}
}

// createActivity: any staff member of the school authors one for it.
func (s *server) createActivity() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, anyStaff)
		if err != nil {
			return err
		}
		var req activityRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		a := &content.Activity{ID: content.NewID("act"), Language: "en", SchoolID: sc.ID,
			CreatedBy: principal(c).ID(), CreatedAt: s.Clock.Now()}
		req.apply(a)
		if err := a.Validate(); err != nil {
			return err
		}
		if err := s.Activities.CreateActivity(c.UserContext(), a); err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(toActivityDTO(a))
	}
}

// schoolActivity loads :activityId as one of :schoolId's own activities,
// for its staff; built-in ones cannot be changed (404 here: they are not
// the school's).
func (s *server) schoolActivity(c *fiber.Ctx) (*content.Activity, error) {
	sc, err := s.schoolFor(c, anyStaff)
	if err != nil {
		return nil, err
	}
	a, err := s.Activities.Activity(c.UserContext(), c.Params("activityId"))
	if content.IsCode(err, content.CodeNotFound) || (err == nil && a.SchoolID != sc.ID) {
		return nil, content.Errorf(content.CodeNotFound, "no such activity of this school")
	} else if err != nil {
		return nil, err
	}
	return a, nil
}

func (s *server) patchActivity() fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, err := s.schoolActivity(c)
		if err != nil {
			return err
		}
		var req activityRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		req.apply(a)
		if err := a.Validate(); err != nil {
			return err
		}
		if err := s.Activities.UpdateActivity(c.UserContext(), a); err != nil {
			return err
		}
		return c.JSON(toActivityDTO(a))
	}
}

// deleteActivity removes a school's activity from the library. Assignments
// already set keep what they copied of it.
func (s *server) deleteActivity() fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, err := s.schoolActivity(c)
		if err != nil {
			return err
		}
		if err := s.Activities.DeleteActivity(c.UserContext(), a.ID); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

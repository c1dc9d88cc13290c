package api

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Engagement dashboards. Counters are kept as events happen (sign-ins,
// views, completions, ratings, photos, comments) per child, class and
// school and ISO week (content/mongostore/engagement.go), so a dashboard
// is a few lookups by _id: weeks × scopes, never a scan.
//
// Teachers see their class's totals; the pupil-premium split is
// admin-only data, so only the school view (admins) carries it.

const (
	engagementWeeksDefault = 8
	engagementWeeksMax     = 26
)

type engagementWeekDTO struct {
	Week        string `json:"week"`
	SignIns     int64  `json:"sign_ins"`
	Views       int64  `json:"views"`
	Completions int64  `json:"completions"`
	Ratings     int64  `json:"ratings"`
	Photos      int64  `json:"photos"`
	Comments    int64  `json:"comments"`
}

type classEngagementDTO struct {
	ClassID string              `json:"class_id"`
	Weeks   []engagementWeekDTO `json:"weeks"`
}

type schoolEngagementDTO struct {
	SchoolID     string              `json:"school_id"`
	Weeks        []engagementWeekDTO `json:"weeks"`
	PupilPremium []engagementWeekDTO `json:"pupil_premium"`
	Other        []engagementWeekDTO `json:"other"`
	// The invite funnel is GET /v1/schools/{id}/funnel: it walks the
	// roster and the invite ledgers, so it stays off this view, which is
	// weeks × 3 lookups by _id.
}

func toEngagementWeeks(weeks []string, counts []content.EngagementCounts) []engagementWeekDTO {
	out := make([]engagementWeekDTO, len(weeks))
	for i, w := range weeks {
		c := counts[i]
		out[i] = engagementWeekDTO{Week: w, SignIns: c[content.EngageSignIn], Views: c[content.EngageView],
			Completions: c[content.EngageCompletion], Ratings: c[content.EngageRating], Photos: c[content.EngagePhoto],
			Comments: c[content.EngageComment]}
	}
	return out
}

// engagementWeeks reads ?weeks=N (1–26, default 8) into the week names,
// oldest first, ending with this week.
func (s *server) engagementWeeks(c *fiber.Ctx) ([]string, error) {
	n := engagementWeeksDefault
	if v := c.Query("weeks"); v != "" {
		w, err := strconv.Atoi(v)
		if err != nil || w < 1 || w > engagementWeeksMax {
			return nil, &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
				Fields: map[string]string{"weeks": "must be a whole number from 1 to " + strconv.Itoa(engagementWeeksMax)}}
		}
		n = w
	}
	return content.RecentWeeks(s.Clock.Now(), n), nil
}

// classEngagement: the class's teachers and the school's admins.
func (s *server) classEngagement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, cl, err := s.schoolClass(c, anyStaff)
		if err != nil {
			return err
		}
		weeks, err := s.engagementWeeks(c)
		if err != nil {
			return err
		}
		counts, err := s.Engagement.EngagementWeeks(c.UserContext(), content.ScopeClass, cl.ID, weeks)
		if err != nil {
			return err
		}
		return c.JSON(classEngagementDTO{ClassID: cl.ID, Weeks: toEngagementWeeks(weeks, counts)})
	}
}

// schoolEngagementData reads the school's totals and its split.
func (s *server) schoolEngagementData(c *fiber.Ctx) (*content.School, []string, schoolEngagementDTO, error) {
	sc, err := s.schoolFor(c, adminOnly)
	if err != nil {
		return nil, nil, schoolEngagementDTO{}, err
	}
	weeks, err := s.engagementWeeks(c)
	if err != nil {
		return nil, nil, schoolEngagementDTO{}, err
	}
	out := schoolEngagementDTO{SchoolID: sc.ID}
	for _, part := range []struct {
		scope string
		into  *[]engagementWeekDTO
	}{{content.ScopeSchool, &out.Weeks}, {content.ScopeSchoolPP, &out.PupilPremium}, {content.ScopeSchoolOther, &out.Other}} {
		counts, err := s.Engagement.EngagementWeeks(c.UserContext(), part.scope, sc.ID, weeks)
		if err != nil {
			return nil, nil, schoolEngagementDTO{}, err
		}
		*part.into = toEngagementWeeks(weeks, counts)
	}
	return sc, weeks, out, nil
}

// schoolEngagement: the school's admins.
func (s *server) schoolEngagement() fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, _, out, err := s.schoolEngagementData(c)
		if err != nil {
			return err
		}
		return c.JSON(out)
	}
}

// schoolEngagementCSV is the admin view as CSV, with a row per class too.
// Every text cell is neutralised against formula injection (a class name
// such as =HYPERLINK(…) opens as text in a spreadsheet).
func (s *server) schoolEngagementCSV() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, weeks, out, err := s.schoolEngagementData(c)
		if err != nil {
			return err
		}
		classes, err := s.Roster.ClassesOfSchool(c.UserContext(), sc.ID)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"group", "name", "week", "sign_ins", "views", "completions", "ratings", "photos", "comments"})
		rows := func(group, name string, ws []engagementWeekDTO) {
			for _, r := range ws {
				_ = w.Write([]string{group, csvCell(name), csvCell(r.Week), num(r.SignIns), num(r.Views), num(r.Completions),
					num(r.Ratings), num(r.Photos), num(r.Comments)})
			}
		}
		rows("school", sc.Name, out.Weeks)
		rows("pupil_premium", sc.Name, out.PupilPremium)
		rows("other", sc.Name, out.Other)
		for _, cl := range classes {
			counts, err := s.Engagement.EngagementWeeks(c.UserContext(), content.ScopeClass, cl.ID, weeks)
			if err != nil {
				return err
			}
			rows("class", cl.Name, toEngagementWeeks(weeks, counts))
		}
		w.Flush()
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="engagement-`+sc.ID+`.csv"`)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(buf.Bytes())
	}
}

func num(v int64) string { return strconv.FormatInt(v, 10) }

// csvCell neutralises a cell a spreadsheet would run as a formula (OWASP
// CSV injection): leading = + - @, tab or carriage return get a quote.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// recordSignIn counts a parent's sign-in once for each linked child (the
// per-child, per-class and school counters; a family with two children at
// the school counts twice at school level: engagement is measured per
// child). A failure is logged: the sign-in has succeeded.
func (s *server) recordSignIn(c *fiber.Ctx, kind content.AccountKind, accountID string) {
	if kind != content.KindParent {
		return
	}
	ctx := c.UserContext()
	p, err := s.Roster.Parent(ctx, accountID)
	if err != nil {
		s.Log.Warn("sign-in not counted", "request_id", requestID(c), "err", err)
		return
	}
	now := s.Clock.Now()
	for _, l := range p.Children {
		if l.State != content.LinkLinked {
			continue
		}
		k, err := s.Roster.Child(ctx, l.ChildID)
		if err != nil {
			s.Log.Warn("sign-in not counted", "request_id", requestID(c), "err", err)
			continue
		}
		s.countEngagement(c, content.EngageSignIn, k, now)
	}
}

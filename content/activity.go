package content

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// ActivityKind is how a family does an activity.
type ActivityKind string

const (
	ActivityVideo    ActivityKind = "video"    // watch a short video, then do what it shows
	ActivityGame     ActivityKind = "game"     // play a game together
	ActivityTogether ActivityKind = "activity" // a thing to make, find or do together
)

// ActivityKinds lists every kind, in the order menus show them.
var ActivityKinds = []ActivityKind{ActivityVideo, ActivityGame, ActivityTogether}

// Subject is the area of learning an activity supports.
type Subject string

const (
	SubjectReading   Subject = "reading"
	SubjectPhonics   Subject = "phonics"
	SubjectMaths     Subject = "maths"
	SubjectScience   Subject = "science"
	SubjectTalk      Subject = "talk"
	SubjectWellbeing Subject = "wellbeing"
)

// Subjects lists every subject, in the order menus show them.
var Subjects = []Subject{SubjectReading, SubjectPhonics, SubjectMaths, SubjectScience, SubjectTalk, SubjectWellbeing}

// ValidActivityKind reports whether k is one of ActivityKinds.
func ValidActivityKind(k ActivityKind) bool {
	for _, v := range ActivityKinds {
		if v == k {
			return true
		}
	}
	return false
}

// ValidSubject reports whether s is one of Subjects.
func ValidSubject(s Subject) bool {
	for _, v := range Subjects {
		if v == s {
			return true
		}
	}
	return false
}

// Limits on an activity's text, so a school-authored one fits the app's
// card and detail screens and a stored document stays small.
const (
	ActivityTitleMax    = 80  // characters
	ActivitySummaryMax  = 600 // characters
	ActivityItemMax     = 300 // characters per material or step
	ActivityMaterialMax = 15  // items
	ActivityStepsMax    = 12  // items
	ActivityMinutesMax  = 120
)

// Activity is something a family does at home: a video to watch and act on, a
// game, or a thing to do together. Built-in activities (the starter library)
// have no SchoolID; a school's own activities carry it and their author.
type Activity struct {
	ID         string
	Title      string
	Kind       ActivityKind
	Subject    Subject
	YearGroups []string // values from YearGroups
	Minutes    int      // how long it takes, start to finish
	Language   string   // language tag of the text, e.g. "en", "cy"
	Summary    string   // one short paragraph: what and why; for a video, what it shows
	Materials  []string // everyday things needed; may be empty
	Steps      []string // in order; the app numbers them
	MediaURL   string   // https; required for a video, optional otherwise
	SchoolID   string   // "" for built-in
	CreatedBy  string   // staff ID for a school's own activity
	CreatedAt  time.Time
}

// BuiltIn reports whether the activity is from the starter library.
func (a *Activity) BuiltIn() bool { return a.SchoolID == "" }

// ForYearGroup reports whether the activity suits year group y.
func (a *Activity) ForYearGroup(y string) bool {
	for _, v := range a.YearGroups {
		if v == y {
			return true
		}
	}
	return false
}

// Validate reports every field that would make the activity unfit to show
// a family, as a CodeInvalid error whose Fields name each one.
func (a *Activity) Validate() error {
	fe := FieldErrors{}
	if strings.TrimSpace(a.ID) == "" {
		fe.Add("id", "required")
	}
	checkActivityText(fe, "title", a.Title, ActivityTitleMax)
	if !ValidActivityKind(a.Kind) {
		fe.Add("kind", "must be one of video, game, activity")
	}
	if !ValidSubject(a.Subject) {
		fe.Add("subject", "must be one of reading, phonics, maths, science, talk, wellbeing")
	}
	if len(a.YearGroups) == 0 {
		fe.Add("year_groups", "give at least one year group")
	}
	seen := map[string]bool{}
	for i, y := range a.YearGroups {
		field := fmt.Sprintf("year_groups[%d]", i)
		switch {
		case !ValidYearGroup(y):
			fe.Add(field, "must be one of "+strings.Join(YearGroups, ", "))
		case seen[y]:
			fe.Add(field, "repeated")
		}
		seen[y] = true
	}
	if a.Minutes < 1 || a.Minutes > ActivityMinutesMax {
		fe.Add("minutes", fmt.Sprintf("must be between 1 and %d", ActivityMinutesMax))
	}
	if !validActivityLanguage(a.Language) {
		fe.Add("language", "must be a language tag such as en or cy")
	}
	checkActivityText(fe, "summary", a.Summary, ActivitySummaryMax)
	if len(a.Materials) > ActivityMaterialMax {
		fe.Add("materials", fmt.Sprintf("at most %d items", ActivityMaterialMax))
	}
	for i, m := range a.Materials {
		checkActivityText(fe, fmt.Sprintf("materials[%d]", i), m, ActivityItemMax)
	}
	switch {
	case len(a.Steps) == 0:
		fe.Add("steps", "give at least one step")
	case len(a.Steps) > ActivityStepsMax:
		fe.Add("steps", fmt.Sprintf("at most %d steps", ActivityStepsMax))
	}
	for i, s := range a.Steps {
		checkActivityText(fe, fmt.Sprintf("steps[%d]", i), s, ActivityItemMax)
	}
	switch {
	case a.MediaURL != "" && !validActivityMediaURL(a.MediaURL):
		fe.Add("media_url", "must be an https address")
	case a.MediaURL == "" && a.Kind == ActivityVideo:
		fe.Add("media_url", "required for a video")
	}
	if a.SchoolID != "" && strings.TrimSpace(a.CreatedBy) == "" {
		fe.Add("created_by", "required for a school's own activity")
	}
	return fe.Err()
}

// checkActivityText records a problem when v is blank, too long, not UTF-8
// or holds control characters (line breaks are allowed).
func checkActivityText(fe FieldErrors, field, v string, limit int) {
	switch {
	case strings.TrimSpace(v) == "":
		fe.Add(field, "required")
	case !utf8.ValidString(v):
		fe.Add(field, "must be UTF-8 text")
	case utf8.RuneCountInString(v) > limit:
		fe.Add(field, fmt.Sprintf("at most %d characters", limit))
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }):
		fe.Add(field, "must not hold control characters")
	}
}

// validActivityLanguage accepts a lower-case primary language subtag with an
// optional region ("en", "cy", "en-gb"): enough to pick a template or a
// voice, without pretending to parse all of BCP 47.
func validActivityLanguage(v string) bool {
	lang, region, hasRegion := strings.Cut(v, "-")
	if !isLowerLetters(lang, 2, 3) {
		return false
	}
	return !hasRegion || isLowerLetters(region, 2, 3) || isDigits(region, 3)
}

func isLowerLetters(s string, shortest, longest int) bool {
	if len(s) < shortest || len(s) > longest {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validActivityMediaURL accepts an absolute https URL with a host and no user info:
// the app opens it, so nothing else (javascript:, data:, http) is allowed.
func validActivityMediaURL(v string) bool {
	if len(v) > 2048 {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// ActivityFilter narrows a list of activities; a zero field matches all.
type ActivityFilter struct {
	YearGroup string
	Subject   Subject
	Kind      ActivityKind
}

// Validate reports filter values that could never match, so a typo in a
// query is a 400 rather than an empty page.
func (f ActivityFilter) Validate() error {
	fe := FieldErrors{}
	if f.YearGroup != "" && !ValidYearGroup(f.YearGroup) {
		fe.Add("year_group", "must be one of "+strings.Join(YearGroups, ", "))
	}
	if f.Subject != "" && !ValidSubject(f.Subject) {
		fe.Add("subject", "must be one of reading, phonics, maths, science, talk, wellbeing")
	}
	if f.Kind != "" && !ValidActivityKind(f.Kind) {
		fe.Add("kind", "must be one of video, game, activity")
	}
	return fe.Err()
}

// Matches reports whether a passes every set field of the filter.
func (f ActivityFilter) Matches(a *Activity) bool {
	if f.YearGroup != "" && !a.ForYearGroup(f.YearGroup) {
		return false
	}
	if f.Subject != "" && a.Subject != f.Subject {
		return false
	}
	return f.Kind == "" || a.Kind == f.Kind
}

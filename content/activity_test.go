package content

import (
	"strings"
	"testing"
)

func validActivity() Activity {
	return Activity{
		ID:         "act_1",
		Title:      "Sink or float?",
		Kind:       ActivityTogether,
		Subject:    SubjectScience,
		YearGroups: []string{"N", "R"},
		Minutes:    15,
		Language:   "en",
		Summary:    "Guess, then test, which things float.",
		Materials:  []string{"a bowl of water"},
		Steps:      []string{"Fill the bowl.", "Guess.", "Test."},
	}
}

func TestActivityValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *Activity)
		field  string // "" means valid
	}{
		{"valid", func(*Activity) {}, ""},
		{"school activity with author", func(a *Activity) { a.SchoolID, a.CreatedBy = "s1", "st1" }, ""},
		{"video with https media", func(a *Activity) { a.Kind, a.MediaURL = ActivityVideo, "https://media.hometime.example/v.mp4" }, ""},
		{"language with region", func(a *Activity) { a.Language = "en-gb" }, ""},
		{"no materials is fine", func(a *Activity) { a.Materials = nil }, ""},
		{"missing id", func(a *Activity) { a.ID = " " }, "id"},
		{"blank title", func(a *Activity) { a.Title = "  " }, "title"},
		{"long title", func(a *Activity) { a.Title = strings.Repeat("é", ActivityTitleMax+1) }, "title"},
		{"control characters", func(a *Activity) { a.Title = "bad\x00title" }, "title"},
		{"unknown kind", func(a *Activity) { a.Kind = "quiz" }, "kind"},
		{"unknown subject", func(a *Activity) { a.Subject = "history" }, "subject"},
		{"no year groups", func(a *Activity) { a.YearGroups = nil }, "year_groups"},
		{"bad year group", func(a *Activity) { a.YearGroups = []string{"R", "Y7"} }, "year_groups[1]"},
		{"repeated year group", func(a *Activity) { a.YearGroups = []string{"R", "R"} }, "year_groups[1]"},
		{"zero minutes", func(a *Activity) { a.Minutes = 0 }, "minutes"},
		{"too many minutes", func(a *Activity) { a.Minutes = ActivityMinutesMax + 1 }, "minutes"},
		{"missing language", func(a *Activity) { a.Language = "" }, "language"},
		{"upper-case language", func(a *Activity) { a.Language = "EN" }, "language"},
		{"missing summary", func(a *Activity) { a.Summary = "" }, "summary"},
		{"blank material", func(a *Activity) { a.Materials = []string{"cup", ""} }, "materials[1]"},
		{"too many materials", func(a *Activity) { a.Materials = make([]string, ActivityMaterialMax+1) }, "materials"},
		{"no steps", func(a *Activity) { a.Steps = nil }, "steps"},
		{"blank step", func(a *Activity) { a.Steps = []string{"one", " ", "three"} }, "steps[1]"},
		{"too many steps", func(a *Activity) { a.Steps = slicesOf("step", ActivityStepsMax+1) }, "steps"},
		{"video without media", func(a *Activity) { a.Kind = ActivityVideo }, "media_url"},
		{"http media", func(a *Activity) { a.MediaURL = "http://media.hometime.example/v.mp4" }, "media_url"},
		{"javascript media", func(a *Activity) { a.MediaURL = "javascript:alert(1)" }, "media_url"},
		{"media with user info", func(a *Activity) { a.MediaURL = "https://u:p@media.hometime.example/v" }, "media_url"},
		{"school activity without author", func(a *Activity) { a.SchoolID = "s1" }, "created_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validActivity()
			tt.change(&a)
			err := a.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !IsCode(err, CodeInvalid) {
				t.Fatalf("Validate() = %v, want code %s", err, CodeInvalid)
			}
			fields := err.(*Error).Fields
			if _, ok := fields[tt.field]; !ok {
				t.Fatalf("Validate() fields = %v, want a problem for %q", fields, tt.field)
			}
		})
	}
}

func slicesOf(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestActivityFilter(t *testing.T) {
	a := validActivity() // science, activity, N and R
	tests := []struct {
		name   string
		filter ActivityFilter
		want   bool
	}{
		{"zero filter matches all", ActivityFilter{}, true},
		{"year group in list", ActivityFilter{YearGroup: "R"}, true},
		{"year group not in list", ActivityFilter{YearGroup: "Y3"}, false},
		{"subject", ActivityFilter{Subject: SubjectScience}, true},
		{"other subject", ActivityFilter{Subject: SubjectMaths}, false},
		{"kind", ActivityFilter{Kind: ActivityTogether}, true},
		{"other kind", ActivityFilter{Kind: ActivityGame}, false},
		{"all three", ActivityFilter{YearGroup: "N", Subject: SubjectScience, Kind: ActivityTogether}, true},
		{"all but one", ActivityFilter{YearGroup: "N", Subject: SubjectScience, Kind: ActivityVideo}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.Matches(&a); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestActivityFilterValidate(t *testing.T) {
	tests := []struct {
		filter ActivityFilter
		field  string
	}{
		{ActivityFilter{}, ""},
		{ActivityFilter{YearGroup: "Y6", Subject: SubjectTalk, Kind: ActivityGame}, ""},
		{ActivityFilter{YearGroup: "Year 6"}, "year_group"},
		{ActivityFilter{Subject: "art"}, "subject"},
		{ActivityFilter{Kind: "podcast"}, "kind"},
	}
	for _, tt := range tests {
		err := tt.filter.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%+v: Validate() = %v", tt.filter, err)
			}
			continue
		}
		var fields map[string]string
		if e, ok := err.(*Error); ok && e.Code == CodeInvalid {
			fields = e.Fields
		}
		if _, ok := fields[tt.field]; !ok {
			t.Errorf("%+v: Validate() = %v, want a problem for %q", tt.filter, err, tt.field)
		}
	}
}

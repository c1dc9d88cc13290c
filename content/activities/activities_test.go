package activities

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

// testMediaBase serves the videos in tests (HOMETIME_ACTIVITY_MEDIA_BASE_URL).
const testMediaBase = "https://media.hometime.test/starter"

// mustStarter is every built-in activity, videos included, in English.
func mustStarter(t *testing.T) []content.Activity {
	t.Helper()
	l, err := Load(Options{MediaBaseURL: testMediaBase})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return l.All()
}

func TestStarterLibrary(t *testing.T) {
	all := mustStarter(t)
	if len(all) < 44 {
		t.Fatalf("%d activities, want at least 44", len(all))
	}
	idPattern := regexp.MustCompile(`^act_starter_\d{3}$`)
	ids, titles := map[string]bool{}, map[string]bool{}
	for _, a := range all {
		t.Run(a.ID, func(t *testing.T) {
			if err := a.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if !idPattern.MatchString(a.ID) {
				t.Errorf("id %q does not look like act_starter_NNN", a.ID)
			}
			if ids[a.ID] {
				t.Errorf("id %q repeated", a.ID)
			}
			if titles[strings.ToLower(a.Title)] {
				t.Errorf("title %q repeated", a.Title)
			}
			ids[a.ID], titles[strings.ToLower(a.Title)] = true, true
			if !a.BuiltIn() || a.CreatedBy != "" {
				t.Errorf("built-in activity has SchoolID %q, CreatedBy %q", a.SchoolID, a.CreatedBy)
			}
			if a.Minutes < 10 || a.Minutes > 20 {
				t.Errorf("minutes %d, want 10 to 20", a.Minutes)
			}
			if n := len(a.Steps); n < 3 || n > 7 {
				t.Errorf("%d steps, want 3 to 7", n)
			}
			if len(a.Materials) == 0 {
				t.Errorf("no materials listed")
			}
			if a.Language != "en" {
				t.Errorf("language %q, want en", a.Language)
			}
			if a.CreatedAt.IsZero() {
				t.Errorf("no CreatedAt")
			}
			// The app numbers the steps; numbers in the text would double up.
			for i, s := range a.Steps {
				if regexp.MustCompile(`^\s*\d+[.)]`).MatchString(s) {
					t.Errorf("step %d is numbered in its text: %q", i, s)
				}
			}
			if a.Kind == content.ActivityVideo {
				if a.MediaURL != testMediaBase+"/"+a.ID+".mp4" {
					t.Errorf("video media URL %q is not %s/%s.mp4", a.MediaURL, testMediaBase, a.ID)
				}
				// A family that cannot play the video can still do it.
				if !strings.Contains(strings.ToLower(a.Steps[0]), "if you cannot play it") {
					t.Errorf("video's first step does not say what to do without the video: %q", a.Steps[0])
				}
			}
		})
	}
}

// Every year group has something in every subject, and the counts the
// issue asks for hold with room to spare.
func TestStarterCoverage(t *testing.T) {
	all := mustStarter(t)
	perYear, perSubject, perKind := map[string]int{}, map[content.Subject]int{}, map[content.ActivityKind]int{}
	cell := map[string]int{} // year group + "/" + subject
	for _, a := range all {
		perSubject[a.Subject]++
		perKind[a.Kind]++
		for _, y := range a.YearGroups {
			perYear[y]++
			cell[y+"/"+string(a.Subject)]++
		}
	}
	for _, y := range content.YearGroups {
		if perYear[y] < 4 {
			t.Errorf("year group %s has %d activities, want at least 4", y, perYear[y])
		}
		for _, s := range content.Subjects {
			if cell[y+"/"+string(s)] == 0 {
				t.Errorf("year group %s has no %s activity", y, s)
			}
		}
	}
	for _, s := range content.Subjects {
		if perSubject[s] < 5 {
			t.Errorf("subject %s has %d activities, want at least 5", s, perSubject[s])
		}
	}
	for _, k := range content.ActivityKinds {
		if perKind[k] < 5 {
			t.Errorf("kind %s has %d activities, want at least 5", k, perKind[k])
		}
	}
	t.Logf("per year group %v; per subject %v; per kind %v", perYear, perSubject, perKind)
}

// British spelling and no brand names: a cheap guard on the library's text.
func TestStarterWording(t *testing.T) {
	banned := regexp.MustCompile(`\b(color\w*|favorite\w*|moms?|math|center|flashlight|cookies?|lego|play-doh|sellotape|blu[ -]tack|post-it|youtube)\b`)
	for _, a := range mustStarter(t) {
		text := strings.ToLower(strings.Join(append(append([]string{a.Title, a.Summary}, a.Materials...), a.Steps...), " "))
		if w := banned.FindString(text); w != "" {
			t.Errorf("%s uses %q", a.ID, w)
		}
	}
}

func TestLibraryFind(t *testing.T) {
	l, err := Load(Options{MediaBaseURL: testMediaBase})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter content.ActivityFilter
	}{
		{"everything", content.ActivityFilter{}},
		{"nursery", content.ActivityFilter{YearGroup: "N"}},
		{"year 6 maths", content.ActivityFilter{YearGroup: "Y6", Subject: content.SubjectMaths}},
		{"phonics games", content.ActivityFilter{Subject: content.SubjectPhonics, Kind: content.ActivityGame}},
		{"videos", content.ActivityFilter{Kind: content.ActivityVideo}},
		{"reception wellbeing videos", content.ActivityFilter{YearGroup: "R", Subject: content.SubjectWellbeing, Kind: content.ActivityVideo}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := l.Find(tt.filter, "en")
			want := 0
			for _, a := range l.All() {
				if tt.filter.Matches(&a) {
					want++
				}
			}
			if len(got) != want || want == 0 {
				t.Fatalf("Find returned %d, want %d (and more than none)", len(got), want)
			}
			for _, a := range got {
				if tt.filter.YearGroup != "" && !a.ForYearGroup(tt.filter.YearGroup) ||
					tt.filter.Subject != "" && a.Subject != tt.filter.Subject ||
					tt.filter.Kind != "" && a.Kind != tt.filter.Kind {
					t.Errorf("%s does not match %+v", a.ID, tt.filter)
				}
			}
		})
	}
	if got := l.Find(content.ActivityFilter{YearGroup: "Y9"}, "en"); len(got) != 0 {
		t.Errorf("unknown year group matched %d activities", len(got))
	}
}

// Callers get copies: changing what Get, All or Find returns leaves the
// library as it was.
func TestLibraryReturnsCopies(t *testing.T) {
	l, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := l.Get("act_starter_001", "en")
	if !ok {
		t.Fatal("act_starter_001 missing")
	}
	title, step := a.Title, a.Steps[0]
	a.Title, a.Steps[0], a.YearGroups[0] = "changed", "changed", "Y6"
	l.All()[0].Steps[1] = "changed"
	l.Find(content.ActivityFilter{}, "en")[0].Materials[0] = "changed"
	b, _ := l.Get("act_starter_001", "en")
	if b.Title != title || b.Steps[0] != step || b.YearGroups[0] == "Y6" || b.Steps[1] == "changed" || b.Materials[0] == "changed" {
		t.Fatalf("library changed through a returned copy: %+v", b)
	}
	if _, ok := l.Get("act_starter_999", "en"); ok {
		t.Fatal("Get found an activity that does not exist")
	}
}

func TestParseRefusesBadLibraries(t *testing.T) {
	good := `{"id":"act_starter_001","title":"One","kind":"game","subject":"maths","year_groups":["R"],"minutes":10,"language":"en","summary":"s","materials":["m"],"steps":["a","b","c"]}`
	tests := []struct {
		name, data string
	}{
		{"not JSON", `{`},
		{"empty", `[]`},
		{"unknown field", `[{"id":"x","colour":"red"}]`},
		{"invalid activity", `[{"id":"act_starter_001","title":"One","kind":"quiz"}]`},
		{"repeated id", `[` + good + `,` + strings.Replace(good, `"One"`, `"Two"`, 1) + `]`},
		{"repeated title", `[` + good + `,` + strings.Replace(good, "001", "002", 1) + `]`},
		{"a video without its file", `[` + strings.Replace(good, `"game"`, `"video"`, 1) + `]`},
		{"a media file that is a path", `[` + strings.Replace(good, `"steps"`, `"media_file":"../x.mp4","steps"`, 1) + `]`},
	}
	if _, err := parse([]byte(`[`+good+`]`), nil, Options{}); err != nil {
		t.Fatalf("parse of a good library: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse([]byte(tt.data), nil, Options{MediaBaseURL: testMediaBase}); err == nil {
				t.Fatal("parse accepted a bad library")
			}
		})
	}
}

package activities

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/hometime-edu/hometime/content"
)

// Videos are served from the configured base URL; without one they are
// not in the library at all, so a family is never shown a dead link.
func TestMediaBaseURL(t *testing.T) {
	t.Parallel()
	all := mustStarter(t)
	videos := 0
	for _, a := range all {
		if a.Kind == content.ActivityVideo {
			videos++
		}
	}
	if videos == 0 {
		t.Fatal("the library has no videos to hide")
	}

	hidden, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if hidden.Len() != len(all)-videos {
		t.Fatalf("without a base URL the library has %d activities, want %d (all but the %d videos)", hidden.Len(), len(all)-videos, videos)
	}
	if got := hidden.Find(content.ActivityFilter{Kind: content.ActivityVideo}, "en"); len(got) != 0 {
		t.Fatalf("without a base URL %d videos are listed", len(got))
	}
	if _, ok := hidden.Get("act_starter_002", "en"); ok {
		t.Fatal("without a base URL a video is found by ID")
	}
	for _, a := range hidden.All() {
		if a.MediaURL != "" {
			t.Fatalf("%s has media %q without a base URL", a.ID, a.MediaURL)
		}
	}

	served, err := Load(Options{MediaBaseURL: "https://videos.example-school.test/hometime/"})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := served.Get("act_starter_002", "en"); !ok || a.MediaURL != "https://videos.example-school.test/hometime/act_starter_002.mp4" {
		t.Fatalf("served video: %v %q", ok, a.MediaURL)
	}

	for _, bad := range []string{"http://videos.test", "videos.test/x", "https://user@videos.test", "https://videos.test/x?sig=1", "https://"} {
		if _, err := Load(Options{MediaBaseURL: bad}); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
}

// A parent reads an activity in their language where the library has it,
// in English where it does not; a region subtag reads the language.
func TestLocalizedSelection(t *testing.T) {
	t.Parallel()
	cy, err := os.ReadFile("testdata/cy.json")
	if err != nil {
		t.Fatal(err)
	}
	l, err := parse(starterJSON, map[string][]byte{"cy": cy}, Options{MediaBaseURL: testMediaBase})
	if err != nil {
		t.Fatal(err)
	}
	en, _ := l.Get("act_starter_001", "en")
	for _, lang := range []string{"cy", "cy-GB", "CY"} {
		a, ok := l.Get("act_starter_001", lang)
		if !ok || a.Language != "cy" || a.Title != "Bag stori" || len(a.Steps) != len(en.Steps) || a.Steps[0] == en.Steps[0] ||
			a.Materials[0] != "hoff lyfr lluniau" || a.Kind != en.Kind || a.Minutes != en.Minutes {
			t.Fatalf("Get(%q) = %+v", lang, a)
		}
	}
	for _, lang := range []string{"en", "", "fr", "pl"} {
		if a, _ := l.Get("act_starter_001", lang); a.Language != "en" || a.Title != en.Title {
			t.Fatalf("Get(%q) = %q in %q, want the English", lang, a.Title, a.Language)
		}
	}
	// An activity Welsh lacks falls back to English, saying so.
	if a, _ := l.Get("act_starter_003", "cy"); a.Language != "en" || a.Title == "" {
		t.Fatalf("fallback: %+v", a)
	}
	found := l.Find(content.ActivityFilter{YearGroup: "N", Subject: content.SubjectReading}, "cy")
	if len(found) == 0 || found[0].ID != "act_starter_001" || found[0].Title != "Bag stori" {
		t.Fatalf("Find in Welsh: %+v", found)
	}
	// The copy is the caller's: changing it leaves the translation as it was.
	a, _ := l.Get("act_starter_001", "cy")
	a.Steps[0] = "changed"
	if b, _ := l.Get("act_starter_001", "cy"); b.Steps[0] == "changed" {
		t.Fatal("translation changed through a returned copy")
	}
}

func TestParseRefusesBadTranslations(t *testing.T) {
	t.Parallel()
	good := `{"act_starter_001":{"title":"Bag stori","summary":"s","materials":["a","b","c"],"steps":["1","2","3","4","5"]}}`
	if _, err := parse(starterJSON, map[string][]byte{"cy": []byte(good)}, Options{}); err != nil {
		t.Fatalf("a good translation: %v", err)
	}
	tests := []struct{ name, lang, data string }{
		{"not JSON", "cy", `{`},
		{"a language the system does not message in", "fr", good},
		{"English, which is the library itself", "en", good},
		{"unknown activity", "cy", strings.Replace(good, "001", "999", 1)},
		{"unknown field", "cy", strings.Replace(good, `"summary"`, `"colour":"red","summary"`, 1)},
		{"a step short", "cy", strings.Replace(good, `,"5"]`, `]`, 1)},
		{"a material more", "cy", strings.Replace(good, `"c"]`, `"c","d"]`, 1)},
		{"blank title", "cy", strings.Replace(good, `"Bag stori"`, `" "`, 1)},
		{"blank step", "cy", strings.Replace(good, `"3"`, `""`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse(starterJSON, map[string][]byte{tt.lang: []byte(tt.data)}, Options{}); err == nil {
				t.Fatal("parse accepted a bad translation")
			}
		})
	}
}

// placeholder catches text left marked as unfinished. The markers are
// upper case: "todo" is Spanish for "all".
var placeholder = regexp.MustCompile(`\b(TODO|TBD|FIXME|XXX)\b|(?i:lorem ipsum)|[\[\]{}<>]|\?\?`)

// TestTranslationsComplete: every built-in activity is written in every
// language families are messaged in: every field, as many materials and
// steps as the English, nothing left as a placeholder or in English, and
// Arabic and Urdu in their own (right-to-left) script.
func TestTranslationsComplete(t *testing.T) {
	t.Parallel()
	l, err := Load(Options{MediaBaseURL: testMediaBase})
	if err != nil {
		t.Fatal(err)
	}
	english := l.All()
	for _, lang := range Languages() {
		if lang == "en" {
			continue
		}
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			raw, err := translationFiles.ReadFile("i18n/" + lang + ".json")
			if err != nil {
				t.Fatalf("no translation file for %s: %v", lang, err)
			}
			var file map[string]json.RawMessage
			if err := json.Unmarshal(raw, &file); err != nil {
				t.Fatal(err)
			}
			if len(file) != len(english) {
				t.Errorf("%d activities translated, the library has %d", len(file), len(english))
			}
			rtl := lang == "ar" || lang == "ur"
			for _, en := range english {
				tr, ok := l.Translation(lang, en.ID)
				if !ok {
					t.Errorf("%s: missing", en.ID)
					continue
				}
				a, _ := l.Get(en.ID, lang)
				if a.Language != lang || a.Title != tr.Title {
					t.Errorf("%s: Get in %s gives %q in %q", en.ID, lang, a.Title, a.Language)
				}
				if len(tr.Materials) != len(en.Materials) || len(tr.Steps) != len(en.Steps) {
					t.Errorf("%s: %d materials and %d steps, the English %d and %d", en.ID, len(tr.Materials), len(tr.Steps), len(en.Materials), len(en.Steps))
				}
				if tr.Summary == en.Summary || tr.Title == en.Title && slices.Equal(tr.Steps, en.Steps) {
					t.Errorf("%s: left in English", en.ID)
				}
				texts := append(append([]string{tr.Title, tr.Summary}, tr.Materials...), tr.Steps...)
				for i, s := range texts {
					if strings.TrimSpace(s) == "" {
						t.Errorf("%s: text %d is blank", en.ID, i)
					}
					if m := placeholder.FindString(s); m != "" {
						t.Errorf("%s: placeholder %q in %q", en.ID, m, s)
					}
				}
				for i, s := range tr.Steps {
					if regexp.MustCompile(`^\s*\d+[.)]`).MatchString(s) {
						t.Errorf("%s: step %d is numbered in its text: %q", en.ID, i, s)
					}
				}
				for _, s := range []string{tr.Title, tr.Summary} {
					if arabic := strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }); arabic != rtl {
						t.Errorf("%s: %q: in Arabic script %v, want %v", en.ID, s, arabic, rtl)
					}
				}
			}
		})
	}
}

// Package activities is Hometime's built-in starter library: activities
// written for families, embedded in the binary and checked when loaded, so a
// bad edit to the library fails at start (and in tests), never in front of a
// parent.
package activities

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
)

//go:embed starter.json
var starterJSON []byte

// translationFiles holds the library's text in the other languages families
// are messaged in: i18n/<lang>.json, an object keyed by activity ID (the
// format is described in i18n/FORMAT.md).
//
//go:embed i18n
var translationFiles embed.FS

// Published is the CreatedAt of every built-in activity: the library ships
// with the binary, so it has no per-activity creation time.
func Published() time.Time { return time.Date(2026, time.September, 1, 0, 0, 0, 0, time.UTC) }

// Languages are the languages the library is written in: English (the
// library's own, and the fallback) and the other languages families are
// messaged in. A translation file for any other language is refused.
func Languages() []string { return []string{"en", "cy", "pl", "ur", "es", "ro", "ar"} }

// activityJSON is the library file's shape; content.Activity carries no tags.
type activityJSON struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Kind       string   `json:"kind"`
	Subject    string   `json:"subject"`
	YearGroups []string `json:"year_groups"`
	Minutes    int      `json:"minutes"`
	Language   string   `json:"language"`
	Summary    string   `json:"summary"`
	Materials  []string `json:"materials"`
	Steps      []string `json:"steps"`
	// MediaFile is a video's file name under Options.MediaBaseURL.
	MediaFile string `json:"media_file,omitempty"`
}

func (j activityJSON) toActivity() content.Activity {
	return content.Activity{
		ID:         j.ID,
		Title:      j.Title,
		Kind:       content.ActivityKind(j.Kind),
		Subject:    content.Subject(j.Subject),
		YearGroups: j.YearGroups,
		Minutes:    j.Minutes,
		Language:   j.Language,
		Summary:    j.Summary,
		Materials:  j.Materials,
		Steps:      j.Steps,
		CreatedAt:  Published(),
	}
}

// Text is the part of an activity a translation gives: what a family reads.
type Text struct {
	Title     string   `json:"title"`
	Summary   string   `json:"summary"`
	Materials []string `json:"materials"`
	Steps     []string `json:"steps"`
}

// Options configure how the library is served.
type Options struct {
	// MediaBaseURL is the https address under which the built-in videos
	// are served: a video's MediaURL is this base, a slash and its file
	// name. Empty hides the video activities: a family is never shown a
	// link that goes nowhere.
	MediaBaseURL string
}

// Library is the loaded, validated starter library. It is read-only: every
// method returns copies, so callers may change what they get.
type Library struct {
	list []content.Activity
	byID map[string]int
	// text holds the translations: language, then activity ID. English is
	// the activities themselves.
	text map[string]map[string]Text
}

// Load parses and validates the embedded library and its translations.
func Load(o Options) (*Library, error) {
	files := map[string][]byte{}
	entries, err := translationFiles.ReadDir("i18n")
	if err != nil {
		return nil, fmt.Errorf("starter library translations: %w", err)
	}
	for _, e := range entries {
		lang, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		b, err := translationFiles.ReadFile("i18n/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("starter library translations: %w", err)
		}
		files[lang] = b
	}
	return parse(starterJSON, files, o)
}

// parse decodes a library file and checks every activity, and that IDs and
// titles are unique and nothing is school-owned; then each translation
// (language to file).
func parse(data []byte, translations map[string][]byte, o Options) (*Library, error) {
	base := strings.TrimRight(strings.TrimSpace(o.MediaBaseURL), "/")
	if base != "" {
		if u, err := url.Parse(base); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("activity media base URL %q: must be an https address with no query", o.MediaBaseURL)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw []activityJSON
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("starter library: decode: %w", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("starter library: empty")
	}
	l := &Library{byID: make(map[string]int, len(raw)), text: map[string]map[string]Text{}}
	ids, titles := map[string]bool{}, map[string]string{}
	for i, r := range raw {
		a := r.toActivity()
		if r.MediaFile != "" {
			if strings.ContainsAny(r.MediaFile, "/?#%\\") || url.PathEscape(r.MediaFile) != r.MediaFile {
				return nil, fmt.Errorf("starter library: activity %d (%q): media_file %q must be a plain file name", i, a.ID, r.MediaFile)
			}
			// Without a base URL the address is checked as if served.
			a.MediaURL = cmp.Or(base, "https://media.invalid") + "/" + r.MediaFile
		}
		if a.Kind == content.ActivityVideo && r.MediaFile == "" {
			return nil, fmt.Errorf("starter library: activity %d (%q): a video needs its media_file", i, a.ID)
		}
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("starter library: activity %d (%q): %w", i, a.ID, err)
		}
		if ids[a.ID] {
			return nil, fmt.Errorf("starter library: activity %d: id %q repeated", i, a.ID)
		}
		if other, dup := titles[a.Title]; dup {
			return nil, fmt.Errorf("starter library: activity %q: title %q already used by %q", a.ID, a.Title, other)
		}
		ids[a.ID], titles[a.Title] = true, a.ID
		if base == "" {
			if a.Kind == content.ActivityVideo {
				continue // no base URL, no videos: hidden, never a dead link
			}
			a.MediaURL = ""
		}
		l.byID[a.ID] = len(l.list)
		l.list = append(l.list, a)
	}
	english := map[string]activityJSON{}
	for _, r := range raw {
		english[r.ID] = r
	}
	for lang, b := range translations {
		tr, err := parseTranslation(lang, b, english)
		if err != nil {
			return nil, err
		}
		l.text[lang] = tr
	}
	return l, nil
}

// parseTranslation decodes one language's file and checks each entry
// against the English activity it translates: a known ID, every field
// written, as many materials and steps, within the same limits. An
// activity it leaves out is shown in English.
func parseTranslation(lang string, b []byte, english map[string]activityJSON) (map[string]Text, error) {
	if lang == "en" || !slices.Contains(Languages(), lang) {
		return nil, fmt.Errorf("starter library translation %q: not one of the languages %v other than English", lang, Languages())
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var tr map[string]Text
	if err := dec.Decode(&tr); err != nil {
		return nil, fmt.Errorf("starter library translation %s: decode: %w", lang, err)
	}
	titles := map[string]string{}
	for id, t := range tr {
		en, ok := english[id]
		if !ok {
			return nil, fmt.Errorf("starter library translation %s: no activity %q", lang, id)
		}
		if len(t.Materials) != len(en.Materials) || len(t.Steps) != len(en.Steps) {
			return nil, fmt.Errorf("starter library translation %s: %s has %d materials and %d steps, the English %d and %d",
				lang, id, len(t.Materials), len(t.Steps), len(en.Materials), len(en.Steps))
		}
		a := en.toActivity()
		a.Language, a.MediaURL = lang, "https://media.invalid/x"
		a.Title, a.Summary, a.Materials, a.Steps = strings.TrimSpace(t.Title), strings.TrimSpace(t.Summary), t.Materials, t.Steps
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("starter library translation %s: %s: %w", lang, id, err)
		}
		if other, dup := titles[a.Title]; dup {
			return nil, fmt.Errorf("starter library translation %s: %s: title %q already used by %s", lang, id, a.Title, other)
		}
		titles[a.Title] = id
		tr[id] = Text{Title: a.Title, Summary: a.Summary, Materials: t.Materials, Steps: t.Steps}
	}
	return tr, nil
}

// Translation returns lang's text of the activity, if that language has it.
func (l *Library) Translation(lang, id string) (Text, bool) {
	t, ok := l.text[lang][id]
	if !ok {
		return Text{}, false
	}
	t.Materials, t.Steps = slices.Clone(t.Materials), slices.Clone(t.Steps)
	return t, true
}

// Len is the number of activities in the library.
func (l *Library) Len() int { return len(l.list) }

// All returns a copy of every activity, in library order.
func (l *Library) All() []content.Activity {
	out := make([]content.Activity, len(l.list))
	for i := range l.list {
		out[i] = clone(&l.list[i])
	}
	return out
}

// Get returns a copy of the activity with the given ID, in language lang
// when the library has it in that language, else in English (the copy's
// Language says which).
func (l *Library) Get(id, lang string) (content.Activity, bool) {
	i, ok := l.byID[id]
	if !ok {
		return content.Activity{}, false
	}
	return l.in(&l.list[i], lang), true
}

// Find returns copies of the activities the filter matches, in library
// order, each in language lang where the library has it (see Get).
func (l *Library) Find(f content.ActivityFilter, lang string) []content.Activity {
	var out []content.Activity
	for i := range l.list {
		if f.Matches(&l.list[i]) {
			out = append(out, l.in(&l.list[i], lang))
		}
	}
	return out
}

// in is a copy of a in lang, or in English when lang has no text for it.
// Only the primary subtag counts: "cy-GB" reads Welsh.
func (l *Library) in(a *content.Activity, lang string) content.Activity {
	c := clone(a)
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	if t, ok := l.text[primary][a.ID]; ok {
		c.Language, c.Title, c.Summary = primary, t.Title, t.Summary
		c.Materials, c.Steps = slices.Clone(t.Materials), slices.Clone(t.Steps)
	}
	return c
}

func clone(a *content.Activity) content.Activity {
	c := *a
	c.YearGroups = slices.Clone(a.YearGroups)
	c.Materials = slices.Clone(a.Materials)
	c.Steps = slices.Clone(a.Steps)
	return c
}

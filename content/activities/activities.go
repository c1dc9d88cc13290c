// Package activities is Hometime's built-in starter library: activities
// written for families, embedded in the binary and checked when loaded, so a
// bad edit to the library fails at start (and in tests), never in front of a
// parent.
package activities

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hometime-edu/hometime/content"
)

//go:embed starter.json
var starterJSON []byte

// Published is the CreatedAt of every built-in activity: the library ships
// with the binary, so it has no per-activity creation time.
func Published() time.Time { return time.Date(2026, time.September, 1, 0, 0, 0, 0, time.UTC) }

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
	MediaURL   string   `json:"media_url,omitempty"`
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
		MediaURL:   j.MediaURL,
		CreatedAt:  Published(),
	}
}

// Library is the loaded, validated starter library. It is read-only: every
// method returns copies, so callers may change what they get.
type Library struct {
	list []content.Activity
	byID map[string]int
}

// Load parses and validates the embedded library.
func Load() (*Library, error) {
	return parse(starterJSON)
}

// Starter returns copies of every built-in activity, in library order.
func Starter() ([]content.Activity, error) {
	l, err := Load()
	if err != nil {
		return nil, err
	}
	return l.All(), nil
}

// parse decodes a library file and checks every activity, and that IDs and
// titles are unique and nothing is school-owned.
func parse(data []byte) (*Library, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw []activityJSON
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("starter library: decode: %w", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("starter library: empty")
	}
	l := &Library{byID: make(map[string]int, len(raw))}
	titles := map[string]string{}
	for i, r := range raw {
		a := r.toActivity()
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("starter library: activity %d (%q): %w", i, a.ID, err)
		}
		if _, dup := l.byID[a.ID]; dup {
			return nil, fmt.Errorf("starter library: activity %d: id %q repeated", i, a.ID)
		}
		if other, dup := titles[a.Title]; dup {
			return nil, fmt.Errorf("starter library: activity %q: title %q already used by %q", a.ID, a.Title, other)
		}
		l.byID[a.ID] = len(l.list)
		titles[a.Title] = a.ID
		l.list = append(l.list, a)
	}
	return l, nil
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

// Get returns a copy of the activity with the given ID.
func (l *Library) Get(id string) (content.Activity, bool) {
	i, ok := l.byID[id]
	if !ok {
		return content.Activity{}, false
	}
	return clone(&l.list[i]), true
}

// Find returns copies of the activities the filter matches, in library order.
func (l *Library) Find(f content.ActivityFilter) []content.Activity {
	var out []content.Activity
	for i := range l.list {
		if f.Matches(&l.list[i]) {
			out = append(out, clone(&l.list[i]))
		}
	}
	return out
}

func clone(a *content.Activity) content.Activity {
	c := *a
	c.YearGroups = slices.Clone(a.YearGroups)
	c.Materials = slices.Clone(a.Materials)
	c.Steps = slices.Clone(a.Steps)
	return c
}

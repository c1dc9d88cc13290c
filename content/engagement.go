package content

import (
	"context"
	"fmt"
	"time"
)

// EngagementKind is one kind of thing a family does that the school's
// engagement picture counts.
type EngagementKind string

const (
	EngageSignIn     EngagementKind = "sign_ins"
	EngageView       EngagementKind = "views"
	EngageCompletion EngagementKind = "completions"
	EngageRating     EngagementKind = "ratings"
	EngagePhoto      EngagementKind = "photos"
	EngageComment    EngagementKind = "comments"
)

// EngagementKinds lists every kind, in the order dashboards and CSVs show them.
var EngagementKinds = []EngagementKind{EngageSignIn, EngageView, EngageCompletion, EngageRating, EngagePhoto, EngageComment}

// EngagementEvent is one counted event about one child. The recorder adds
// it to the child's, each of the child's classes' and the school's counters
// for the ISO week of At, and to the school's pupil-premium or other split.
type EngagementEvent struct {
	Kind         EngagementKind
	SchoolID     string
	ClassIDs     []string
	ChildID      string
	PupilPremium bool
	At           time.Time
}

// EventFor builds the event for a child.
func EventFor(kind EngagementKind, k *Child, at time.Time) EngagementEvent {
	return EngagementEvent{Kind: kind, SchoolID: k.SchoolID, ClassIDs: k.ClassIDs, ChildID: k.ID, PupilPremium: k.PupilPremium, At: at}
}

// EngagementRecorder counts events as they happen. Callers (sign-in, the
// feed, submissions) hold this small interface only.
type EngagementRecorder interface {
	RecordEngagement(ctx context.Context, e EngagementEvent) error
}

// EngagementCounts are one scope's counts for one week.
type EngagementCounts map[EngagementKind]int64

// Engagement scopes: whose counters a document holds.
const (
	ScopeChild       = "child"
	ScopeClass       = "class"
	ScopeSchool      = "school"
	ScopeSchoolPP    = "school-pp"    // the school's pupil-premium children
	ScopeSchoolOther = "school-other" // the school's other children
	ScopeClassPP     = "class-pp"
	ScopeClassOther  = "class-other"
)

// ISOWeek names the ISO 8601 week of t in UTC, e.g. "2026-W47".
func ISOWeek(t time.Time) string {
	y, w := t.UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// RecentWeeks names the n ISO weeks ending with the one holding now, oldest first.
func RecentWeeks(now time.Time, n int) []string {
	out := make([]string, n)
	for i := 0; i < n; i++ {
		out[n-1-i] = ISOWeek(now.AddDate(0, 0, -7*i))
	}
	return out
}

// EngagementDocID is the _id of one scope's counters for one week, e.g.
// "eng:school:sch_1:2026-W47".
func EngagementDocID(scope, id, week string) string {
	return "eng:" + scope + ":" + id + ":" + week
}

// Engagement reads the counters back: one lookup by _id per scope and week.
type Engagement interface {
	EngagementRecorder
	// EngagementWeeks returns the counts of a scope for each week, in the
	// order given; a week with no document has zero counts.
	EngagementWeeks(ctx context.Context, scope, id string, weeks []string) ([]EngagementCounts, error)
}

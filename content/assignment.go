package content

import (
	"context"
	"time"
)

// AssignmentState is where an assignment is: scheduled until its release
// time, then released (in the feed, parents notified); or withdrawn before
// release.
type AssignmentState string

const (
	AssignmentScheduled AssignmentState = "scheduled"
	AssignmentReleased  AssignmentState = "released"
	AssignmentWithdrawn AssignmentState = "withdrawn"
)

// AssignmentStates lists every assignment state.
var AssignmentStates = []AssignmentState{AssignmentScheduled, AssignmentReleased, AssignmentWithdrawn}

// Limits on one assignment.
const (
	AssignmentActivitiesMax = 10
	AssignmentChildrenMax   = 200
	// AssignmentReleaseAhead bounds how far ahead a release may be set.
	AssignmentReleaseAhead = 365 * 24 * time.Hour
)

// AssignedActivity is what an assignment keeps of each activity when it is
// set: enough to draw the feed card and word the notification without
// reading the library again (an authored activity may later change or go).
type AssignedActivity struct {
	ID      string
	Title   string // in English for a built-in activity
	Kind    ActivityKind
	Subject Subject
	Minutes int
	// Titles are a built-in activity's title in the other languages
	// families are messaged in (language → title), so the release's
	// notification names it in each parent's language.
	Titles map[string]string
}

// Assignment is one or more activities set by a teacher for a class, or for
// chosen children of it, from a release time until a due date.
type Assignment struct {
	ID          string
	SchoolID    string
	ClassID     string
	Activities  []AssignedActivity
	ChildIDs    []string // empty: the whole class at release time
	SetBy       string   // staff ID
	TeacherName string   // as families see it, e.g. "Mrs Khan"
	ReleaseAt   time.Time
	DueAt       time.Time
	State       AssignmentState
	ReleasedAt  time.Time
	BroadcastID string // the release's notification, once released
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ReleaseBroadcastID is the notification broadcast of an assignment's
// release, fixed so a retried release creates it once.
func ReleaseBroadcastID(assignmentID string) string { return "brd_" + assignmentID }

// FeedKey is the feed item key of one activity of an assignment.
func (a *Assignment) FeedKey(activityID string) string {
	return "asg:" + a.ID + ":" + activityID
}

// Assignments stores assignments. Reads and plain writes are by _id; the
// changes that race a release are conditional on the state the caller saw.
type Assignments interface {
	CreateAssignment(ctx context.Context, a *Assignment) error
	Assignment(ctx context.Context, id string) (*Assignment, error)
	// UpdateScheduledAssignment replaces a, but only while it is still
	// scheduled for releaseAt (what the caller read): CodeConflict if a
	// release or another edit got there first.
	UpdateScheduledAssignment(ctx context.Context, a *Assignment, releaseAt time.Time) error
	// StartRelease moves a scheduled assignment to released, if it is still
	// scheduled for releaseAt, and reports whether the caller should carry
	// out the release: true also when it was already released for that
	// time (a retry after a crash finishes the work), false when it was
	// withdrawn or re-timed.
	StartRelease(ctx context.Context, id string, releaseAt, at time.Time) (bool, error)
	// AssignmentsOfClass lists a class's assignments, newest release first.
	AssignmentsOfClass(ctx context.Context, classID string) ([]*Assignment, error)
	// SetAssignmentDue moves a released assignment's due date from was
	// (what the caller read) to dueAt: CodeConflict if it is not released
	// or its due date changed meanwhile.
	SetAssignmentDue(ctx context.Context, id string, was, dueAt, at time.Time) error
	// ReleasedAssignmentsDue lists released assignments due in [from, to),
	// for the due-date reminder sweep.
	ReleasedAssignmentsDue(ctx context.Context, from, to time.Time) ([]*Assignment, error)
}

// Activities stores school-authored activities (the built-in library is
// read-only and lives in content/activities).
type Activities interface {
	CreateActivity(ctx context.Context, a *Activity) error
	Activity(ctx context.Context, id string) (*Activity, error)
	UpdateActivity(ctx context.Context, a *Activity) error
	DeleteActivity(ctx context.Context, id string) error
	// ActivitiesOfSchool lists a school's own activities, oldest first.
	ActivitiesOfSchool(ctx context.Context, schoolID string) ([]*Activity, error)
}

package mongostore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	colAssignments = "assignments"
	colActivities  = "activities"
)

var (
	_ content.Assignments = (*Store)(nil)
	_ content.Activities  = (*Store)(nil)
)

type assignedActivityDoc struct {
	ID      string            `bson:"id"`
	Title   string            `bson:"title"`
	Kind    string            `bson:"kind"`
	Subject string            `bson:"subject"`
	Minutes int               `bson:"minutes"`
	Titles  map[string]string `bson:"titles,omitempty"`
}

type assignmentDoc struct {
	ID          string                `bson:"_id"`
	SchoolID    string                `bson:"schoolId"`
	ClassID     string                `bson:"classId"`
	Activities  []assignedActivityDoc `bson:"activities"`
	ChildIDs    []string              `bson:"childIds"`
	SetBy       string                `bson:"setBy"`
	TeacherName string                `bson:"teacherName"`
	ReleaseAt   time.Time             `bson:"releaseAt"`
	DueAt       time.Time             `bson:"dueAt"`
	State       string                `bson:"state"`
	ReleasedAt  time.Time             `bson:"releasedAt,omitempty"`
	BroadcastID string                `bson:"broadcastId,omitempty"`
	CreatedAt   time.Time             `bson:"createdAt"`
	UpdatedAt   time.Time             `bson:"updatedAt"`
}

func toAssignmentDoc(a *content.Assignment) assignmentDoc {
	d := assignmentDoc{ID: a.ID, SchoolID: a.SchoolID, ClassID: a.ClassID, ChildIDs: nonNil(a.ChildIDs),
		SetBy: a.SetBy, TeacherName: a.TeacherName, ReleaseAt: a.ReleaseAt, DueAt: a.DueAt, State: string(a.State),
		ReleasedAt: a.ReleasedAt, BroadcastID: a.BroadcastID, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		Activities: []assignedActivityDoc{}}
	for _, x := range a.Activities {
		d.Activities = append(d.Activities, assignedActivityDoc{ID: x.ID, Title: x.Title, Kind: string(x.Kind),
			Subject: string(x.Subject), Minutes: x.Minutes, Titles: x.Titles})
	}
	return d
}

func (d *assignmentDoc) toContent() *content.Assignment {
	a := &content.Assignment{ID: d.ID, SchoolID: d.SchoolID, ClassID: d.ClassID, ChildIDs: d.ChildIDs,
		SetBy: d.SetBy, TeacherName: d.TeacherName, ReleaseAt: d.ReleaseAt.UTC(), DueAt: d.DueAt.UTC(),
		State: content.AssignmentState(d.State), ReleasedAt: d.ReleasedAt, BroadcastID: d.BroadcastID,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	for _, x := range d.Activities {
		a.Activities = append(a.Activities, content.AssignedActivity{ID: x.ID, Title: x.Title,
			Kind: content.ActivityKind(x.Kind), Subject: content.Subject(x.Subject), Minutes: x.Minutes, Titles: x.Titles})
	}
	return a
}

func (s *Store) CreateAssignment(ctx context.Context, a *content.Assignment) error {
	return s.insert(ctx, colAssignments, toAssignmentDoc(a), "assignment")
}

func (s *Store) Assignment(ctx context.Context, id string) (*content.Assignment, error) {
	d, err := getByID[assignmentDoc](ctx, s, colAssignments, id, "assignment")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

// UpdateScheduledAssignment is conditional on state and release time, which
// the embedded store checks by scanning the collection: acceptable for an
// edit a teacher makes by hand, never on a hot path.
func (s *Store) UpdateScheduledAssignment(ctx context.Context, a *content.Assignment, releaseAt time.Time) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(colAssignments).ReplaceOne(ctx, bson.D{{Key: "_id", Value: a.ID},
		{Key: "state", Value: string(content.AssignmentScheduled)}, {Key: "releaseAt", Value: releaseAt}}, toAssignmentDoc(a))
	if err != nil {
		return mapErr(err, "assignment")
	}
	if res.MatchedCount == 0 {
		return content.Errorf(content.CodeConflict, "the assignment has been released or changed; reload it")
	}
	return nil
}

func (s *Store) StartRelease(ctx context.Context, id string, releaseAt, at time.Time) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(colAssignments).UpdateOne(ctx, bson.D{{Key: "_id", Value: id},
		{Key: "state", Value: string(content.AssignmentScheduled)}, {Key: "releaseAt", Value: releaseAt}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: string(content.AssignmentReleased)},
			{Key: "releasedAt", Value: at}, {Key: "broadcastId", Value: content.ReleaseBroadcastID(id)}}}})
	if err != nil {
		return false, mapErr(err, "assignment")
	}
	if res.MatchedCount == 1 {
		return true, nil
	}
	d, err := getByID[assignmentDoc](ctx, s, colAssignments, id, "assignment")
	if err != nil {
		return false, err
	}
	return d.State == string(content.AssignmentReleased) && d.ReleaseAt.Equal(releaseAt), nil
}

func (s *Store) AssignmentsOfClass(ctx context.Context, classID string) ([]*content.Assignment, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	cur, err := s.r(colAssignments).Find(ctx, bson.D{{Key: "classId", Value: classID}},
		options.Find().SetSort(bson.D{{Key: "releaseAt", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		return nil, mapErr(err, "assignments")
	}
	var ds []*assignmentDoc
	if err := cur.All(ctx, &ds); err != nil {
		return nil, mapErr(err, "assignments")
	}
	out := make([]*content.Assignment, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.toContent())
	}
	return out, nil
}

// SetAssignmentDue is conditional on state and the due date read, so it
// never moves a withdrawn assignment or undoes another edit.
func (s *Store) SetAssignmentDue(ctx context.Context, id string, was, dueAt, at time.Time) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(colAssignments).UpdateOne(ctx, bson.D{{Key: "_id", Value: id},
		{Key: "state", Value: string(content.AssignmentReleased)}, {Key: "dueAt", Value: was}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "dueAt", Value: dueAt}, {Key: "updatedAt", Value: at}}}})
	if err != nil {
		return mapErr(err, "assignment")
	}
	if res.MatchedCount == 0 {
		return content.Errorf(content.CodeConflict, "the assignment has been withdrawn or changed; reload it")
	}
	return nil
}

// ReleasedAssignmentsDue filters on the due date (indexed on MongoDB; the
// embedded store scans the collection, which the reminder sweep does a few
// times an hour, off any request path).
func (s *Store) ReleasedAssignmentsDue(ctx context.Context, from, to time.Time) ([]*content.Assignment, error) {
	ds, err := findAll[assignmentDoc](ctx, s, colAssignments, bson.D{
		{Key: "dueAt", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}},
		{Key: "state", Value: string(content.AssignmentReleased)}}, "assignments")
	if err != nil {
		return nil, err
	}
	out := make([]*content.Assignment, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.toContent())
	}
	slices.SortFunc(out, func(a, b *content.Assignment) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

type activityDoc struct {
	ID         string    `bson:"_id"`
	Title      string    `bson:"title"`
	Kind       string    `bson:"kind"`
	Subject    string    `bson:"subject"`
	YearGroups []string  `bson:"yearGroups"`
	Minutes    int       `bson:"minutes"`
	Language   string    `bson:"language"`
	Summary    string    `bson:"summary"`
	Materials  []string  `bson:"materials"`
	Steps      []string  `bson:"steps"`
	MediaURL   string    `bson:"mediaUrl,omitempty"`
	SchoolID   string    `bson:"schoolId"`
	CreatedBy  string    `bson:"createdBy"`
	CreatedAt  time.Time `bson:"createdAt"`
}

func toActivityDoc(a *content.Activity) activityDoc {
	return activityDoc{ID: a.ID, Title: a.Title, Kind: string(a.Kind), Subject: string(a.Subject),
		YearGroups: nonNil(a.YearGroups), Minutes: a.Minutes, Language: a.Language, Summary: a.Summary,
		Materials: nonNil(a.Materials), Steps: nonNil(a.Steps), MediaURL: a.MediaURL, SchoolID: a.SchoolID,
		CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt}
}

func (d *activityDoc) toContent() *content.Activity {
	return &content.Activity{ID: d.ID, Title: d.Title, Kind: content.ActivityKind(d.Kind), Subject: content.Subject(d.Subject),
		YearGroups: d.YearGroups, Minutes: d.Minutes, Language: d.Language, Summary: d.Summary,
		Materials: d.Materials, Steps: d.Steps, MediaURL: d.MediaURL, SchoolID: d.SchoolID,
		CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt}
}

func (s *Store) CreateActivity(ctx context.Context, a *content.Activity) error {
	return s.insert(ctx, colActivities, toActivityDoc(a), "activity")
}

func (s *Store) Activity(ctx context.Context, id string) (*content.Activity, error) {
	d, err := getByID[activityDoc](ctx, s, colActivities, id, "activity")
	if err != nil {
		return nil, err
	}
	return d.toContent(), nil
}

func (s *Store) UpdateActivity(ctx context.Context, a *content.Activity) error {
	return s.replaceByID(ctx, colActivities, a.ID, toActivityDoc(a), "activity")
}

func (s *Store) DeleteActivity(ctx context.Context, id string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.c(colActivities).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return mapErr(err, "activity")
	}
	if res.DeletedCount == 0 {
		return mapErr(mongo.ErrNoDocuments, "activity")
	}
	return nil
}

func (s *Store) ActivitiesOfSchool(ctx context.Context, schoolID string) ([]*content.Activity, error) {
	ds, err := findAll[activityDoc](ctx, s, colActivities, bson.D{{Key: "schoolId", Value: schoolID}}, "activities")
	if err != nil {
		return nil, err
	}
	out := make([]*content.Activity, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.toContent())
	}
	slices.SortFunc(out, func(a, b *content.Activity) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

package mongostore

import (
	"context"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colParentChanges holds the marks a message sender reads instead of each
// recipient's record (content.ParentChanges): one document per school and
// UTC day, "<schoolId>:<YYYYMMDD>", with
//
//	p.<parentId>  the latest change that day to a parent linked at the school
//	all           the latest change that named no parents (a roster import)
//
// A sender holding snapshots taken at T reads the day documents from T to
// now (one read, two across midnight) and reads again only the parents
// marked since T. Marks are the writing process's wall clock; readers
// allow changeSkew for clocks that differ between processes.
const colParentChanges = "parent_changes"

// changeSkew is how far apart the wall clocks of the processes writing
// marks and taking snapshots may be.
const changeSkew = time.Minute

// changeDays is the most day documents a reader reads; snapshots older
// than that are all read again (they are rare: a deferred night's worth).
const changeDays = 3

// changesPerMark is the most parent ids one write marks by name; more
// mark the school's "all" instead.
const changesPerMark = 100

var _ content.ParentChanges = (*Store)(nil)

type parentChangesDoc struct {
	ID       string               `bson:"_id"`
	SchoolID string               `bson:"schoolId"`
	Parents  map[string]time.Time `bson:"p,omitempty"`
	All      time.Time            `bson:"all,omitempty"`
}

func parentChangesID(schoolID string, day time.Time) string {
	return schoolID + ":" + day.UTC().Format("20060102")
}

// markParentsChanged marks parentIDs changed now under each school.
// Best effort it is not: a mark that cannot be written fails the caller's
// write after the fact, so the caller's retry marks again.
func (s *Store) markParentsChanged(ctx context.Context, schoolIDs []string, parentIDs []string) error {
	now := time.Now().UTC()
	seen := map[string]bool{}
	for _, school := range schoolIDs {
		if school == "" || seen[school] {
			continue
		}
		seen[school] = true
		maxes := bson.D{}
		for _, id := range parentIDs {
			if strings.ContainsAny(id, ".$") || len(parentIDs) > changesPerMark {
				maxes = bson.D{{Key: "all", Value: now}}
				break
			}
			maxes = append(maxes, bson.E{Key: "p." + id, Value: now})
		}
		if len(maxes) == 0 {
			continue
		}
		if err := s.upsertChanges(ctx, school, now, maxes); err != nil {
			return err
		}
	}
	return nil
}

// markSchoolChanged marks every parent of the school changed now.
func (s *Store) markSchoolChanged(ctx context.Context, schoolID string) error {
	now := time.Now().UTC()
	return s.upsertChanges(ctx, schoolID, now, bson.D{{Key: "all", Value: now}})
}

func (s *Store) upsertChanges(ctx context.Context, schoolID string, now time.Time, maxes bson.D) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colParentChanges).UpdateOne(ctx, bson.D{{Key: "_id", Value: parentChangesID(schoolID, now)}},
		bson.D{{Key: "$max", Value: maxes}, {Key: "$setOnInsert", Value: bson.D{{Key: "schoolId", Value: schoolID}}}},
		options.UpdateOne().SetUpsert(true))
	return mapErr(err, "parent changes")
}

func (s *Store) ParentsChangedSince(ctx context.Context, schoolID string, since time.Time) (map[string]bool, bool, error) {
	from := since.Add(-changeSkew).UTC()
	to := time.Now().Add(changeSkew).UTC()
	first := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	if since.IsZero() || to.Sub(first) > changeDays*24*time.Hour {
		return nil, true, nil
	}
	ids := map[string]bool{}
	for day := first; !day.After(to); day = day.AddDate(0, 0, 1) {
		d, err := getByID[parentChangesDoc](ctx, s, colParentChanges, parentChangesID(schoolID, day), "parent changes")
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return nil, false, err
		}
		if !d.All.IsZero() && !d.All.Before(from) {
			return nil, true, nil
		}
		for id, at := range d.Parents {
			if !at.Before(from) {
				ids[id] = true
			}
		}
	}
	return ids, false, nil
}

// parentSchools lists the schools of a parent's links.
func parentSchools(links []content.ChildLink) []string {
	out := make([]string, 0, len(links))
	for _, l := range links {
		out = append(out, l.SchoolID)
	}
	return out
}

// parentSchoolsDoc is the projection of a parent's links: the schools
// (for change marks) and the children (for feed access counts).
type parentSchoolsDoc struct {
	Children []struct {
		SchoolID string `bson:"schoolId"`
		ChildID  string `bson:"childId"`
	} `bson:"children"`
}

func (d *parentSchoolsDoc) childIDs() []string {
	if d == nil {
		return nil
	}
	out := make([]string, 0, len(d.Children))
	for _, c := range d.Children {
		out = append(out, c.ChildID)
	}
	return out
}

func (d *parentSchoolsDoc) schools() []string {
	if d == nil {
		return nil
	}
	out := make([]string, 0, len(d.Children))
	for _, c := range d.Children {
		out = append(out, c.SchoolID)
	}
	return out
}

// schoolsOfParent reads the schools a stored parent is linked at (none
// when there is no such parent).
func (s *Store) schoolsOfParent(ctx context.Context, id string) ([]string, error) {
	d, err := getByID[parentSchoolsDoc](ctx, s, colParents, id, "parent")
	if content.IsCode(err, content.CodeNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return d.schools(), nil
}

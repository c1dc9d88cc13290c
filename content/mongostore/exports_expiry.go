package mongostore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// An export archive lives no longer than its link: the export sweep deletes
// it once the link has expired, and an erasure deletes at once every
// archive holding the erased parent's data. The export record stays (IDs
// and dates only), marked archiveGoneAt, and reads as expired, so the
// requester sees why the link no longer works and may ask again.

// DeleteExpiredExports deletes the archive of every ready export whose link
// expired by now. A rerun finds nothing left (archiveGoneAt is set). The
// exports collection is small (a record per request); the filter scans.
func (s *Store) DeleteExpiredExports(ctx context.Context, now time.Time) (int64, error) {
	return s.dropExportArchives(ctx, bson.D{{Key: "state", Value: content.ExportReady},
		{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now.UTC()}}},
		{Key: "archiveGoneAt", Value: bson.D{{Key: "$exists", Value: false}}}}, now)
}

// dropExportArchives deletes the archive files of the exports matching
// filter and marks each record's archive gone at now. With now zero (an
// erasure, which has no clock of its own here) the link is also ended at
// once: expiresAt becomes the time the archive was ready, which the API
// reads as expired; archiveGoneAt is then the wall-clock time. A file
// already gone is fine.
func (s *Store) dropExportArchives(ctx context.Context, filter bson.D, now time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	ds, err := findAll[exportDoc](ctx, s, colExports, filter, "exports")
	if err != nil {
		return 0, err
	}
	bucket := s.exportBucket()
	var n int64
	for _, d := range ds {
		if err := bucket.Delete(ctx, d.ID); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			return n, mapErr(err, "export file")
		}
		set := bson.D{{Key: "archiveGoneAt", Value: now.UTC()}}
		if now.IsZero() {
			set = bson.D{{Key: "archiveGoneAt", Value: time.Now().UTC()}, {Key: "expiresAt", Value: d.ReadyAt}}
		}
		if err := s.updateByID(ctx, colExports, d.ID, bson.D{{Key: "$set", Value: set}}, "export"); err != nil &&
			!content.IsCode(err, content.CodeNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// eraseExportsHolding deletes every export archive that holds the parent's
// data: their own exports (records too, as before), the exports of the
// co-parents who share a child with them (a parent's export carries the
// child's record, which names every linked parent, and the shared
// submissions and replies), and every export of the schools the parent is
// linked at (a school export lists its parents' contacts); any made
// before this stage ran holds them.
// Exports still queued are left: they are built after the erasure, from
// what is left. It runs before the parent's links are removed, which it
// reads.
func eraseExportsHolding(ctx context.Context, s *Store, id string) (int64, error) {
	n, err := eraseExportsOfParent(ctx, s, id)
	if err != nil {
		return n, err
	}
	p, err := getByID[parentDoc](ctx, s, colParents, id, "parent")
	if content.IsCode(err, content.CodeNotFound) {
		return n, nil
	} else if err != nil {
		return n, err
	}
	var schools, childIDs []string
	for _, l := range p.Children {
		if l.SchoolID != "" && !slices.Contains(schools, l.SchoolID) {
			schools = append(schools, l.SchoolID)
		}
		childIDs = append(childIDs, l.ChildID)
	}
	var coParents []string
	for _, cid := range childIDs {
		k, err := getByID[childDoc](ctx, s, colChildren, cid, "child")
		if content.IsCode(err, content.CodeNotFound) {
			continue
		} else if err != nil {
			return n, err
		}
		for _, l := range k.Parents {
			if l.ParentID != id && !slices.Contains(coParents, l.ParentID) {
				coParents = append(coParents, l.ParentID)
			}
		}
	}
	ready := bson.E{Key: "state", Value: content.ExportReady}
	gone := bson.E{Key: "archiveGoneAt", Value: bson.D{{Key: "$exists", Value: false}}}
	if len(coParents) > 0 {
		m, err := s.dropExportArchives(ctx, bson.D{{Key: "parentId", Value: bson.D{{Key: "$in", Value: coParents}}}, ready, gone}, time.Time{})
		if n += m; err != nil {
			return n, err
		}
	}
	if len(schools) > 0 {
		m, err := s.dropExportArchives(ctx, bson.D{{Key: "schoolId", Value: bson.D{{Key: "$in", Value: schools}}}, ready, gone}, time.Time{})
		if n += m; err != nil {
			return n, err
		}
	}
	return n, nil
}

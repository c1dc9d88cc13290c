package mongostore

import (
	"context"
	"fmt"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A child's feed view (content.FeedView) is one more document in the feed
// collection, "v:<childId>":
//
//	wv        the feed's change count, raised after every write to the
//	          child's head or buckets
//	pg, pv    the kept newest page as one binary value (the embedded
//	          store's cost of reading a document grows with its number of
//	          values far more than with its bytes; encodeFeedPage), and
//	          the change count it was built at; pt when
//	rp        the parents whose responses the kept page holds, so erasing
//	          a parent's responses finds the pages to drop
//	av.<pid>  the parent's access change count, raised after every write
//	          that could take their access away
//	a.<pid>   the parent's kept access (content.FeedAccess) and the access
//	          count it was checked at
//
// The view is never the record: a missing or stale one is built again from
// the head, the buckets and the parent's record.
type feedViewDoc struct {
	ID          string                   `bson:"_id"`
	ChildID     string                   `bson:"c"`
	Version     int64                    `bson:"wv,omitempty"`
	Page        []byte                   `bson:"pg,omitempty"`
	PageVersion int64                    `bson:"pv,omitempty"`
	PageAt      time.Time                `bson:"pt,omitempty"`
	Access      map[string]feedAccessDoc `bson:"a,omitempty"`
	Revoked     map[string]int64         `bson:"av,omitempty"`
}

type feedAccessDoc struct {
	Version  int64     `bson:"v"`
	Sessions []string  `bson:"s"`
	Language string    `bson:"l,omitempty"`
	SchoolID string    `bson:"sc,omitempty"`
	At       time.Time `bson:"t"`
}

func feedViewID(childID string) string { return "v:" + childID }

func (s *Store) FeedView(ctx context.Context, childID string, now time.Time) (*content.FeedView, error) {
	v := &content.FeedView{ChildID: childID, Access: map[string]content.FeedAccess{}, AccessVersion: map[string]int64{}}
	d, err := getByID[feedViewDoc](ctx, s, colFeed, feedViewID(childID), "feed view")
	if content.IsCode(err, content.CodeNotFound) {
		return v, nil
	} else if err != nil {
		return nil, err
	}
	v.PageVersion = d.Version
	for pid, n := range d.Revoked {
		v.AccessVersion[pid] = n
	}
	fresh := func(at time.Time, ttl time.Duration) bool {
		return !at.IsZero() && now.Sub(at) < ttl && at.Sub(now) < changeSkew
	}
	if len(d.Page) > 0 && d.PageVersion == d.Version && fresh(d.PageAt, content.FeedPageTTL) {
		items, next, err := decodeFeedPage(childID, d.Page)
		if err != nil {
			return nil, fmt.Errorf("feed view of %s: %w", childID, err)
		}
		v.Page, v.Next, v.HasPage = items, next, true
	}
	for pid, a := range d.Access {
		if a.Version == d.Revoked[pid] && fresh(a.At, content.FeedAccessTTL) {
			v.Access[pid] = content.FeedAccess{ParentID: pid, Sessions: a.Sessions, Language: a.Language,
				SchoolID: a.SchoolID, CheckedAt: a.At}
		}
	}
	return v, nil
}

func (s *Store) SaveFeedView(ctx context.Context, base *content.FeedView, items []*content.FeedItem, next int64, access *content.FeedAccess, now time.Time) error {
	set := bson.D{}
	if items != nil {
		b, parents := encodeFeedPage(items, next)
		set = append(set, bson.E{Key: "pg", Value: bson.Binary{Data: b}}, bson.E{Key: "pv", Value: base.PageVersion},
			bson.E{Key: "pt", Value: now}, bson.E{Key: "rp", Value: nonNil(parents)})
	}
	if access != nil {
		if err := validFeedParent(access.ParentID); err != nil {
			return err
		}
		set = append(set, bson.E{Key: "a." + access.ParentID, Value: feedAccessDoc{
			Version: base.AccessVersion[access.ParentID], Sessions: nonNil(access.Sessions),
			Language: access.Language, SchoolID: access.SchoolID, At: access.CheckedAt}})
	}
	if len(set) == 0 {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colFeed).UpdateOne(ctx, bson.D{{Key: "_id", Value: feedViewID(base.ChildID)}},
		bson.D{{Key: "$set", Value: set}, {Key: "$setOnInsert", Value: bson.D{{Key: "c", Value: base.ChildID}}}},
		options.UpdateOne().SetUpsert(true))
	return mapErr(err, "feed view")
}

// feedChanged raises the child's feed change count and drops the kept
// page. Every write to a child's head or buckets calls it after the write,
// so a page built from what was there before is stale.
func (s *Store) feedChanged(ctx context.Context, childID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colFeed).UpdateOne(ctx, bson.D{{Key: "_id", Value: feedViewID(childID)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "wv", Value: int64(1)}}},
			{Key: "$unset", Value: bson.D{{Key: "pg", Value: ""}, {Key: "rp", Value: ""}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "c", Value: childID}}}},
		options.UpdateOne().SetUpsert(true))
	return mapErr(err, "feed view")
}

// feedAccessChanged raises the parent's access change count on the views
// of childIDs and drops their kept access. Every write that could take a
// parent's access away (a session ended, the account closed or erased, a
// link changed) calls it after the write, with the children linked before
// and after it.
func (s *Store) feedAccessChanged(ctx context.Context, parentID string, childIDs []string) error {
	if validFeedParent(parentID) != nil {
		return nil // such an id never names a kept access
	}
	seen := map[string]bool{}
	for _, child := range childIDs {
		if child == "" || seen[child] {
			continue
		}
		seen[child] = true
		if err := s.bumpFeedAccess(ctx, parentID, child); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) bumpFeedAccess(ctx context.Context, parentID, childID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colFeed).UpdateOne(ctx, bson.D{{Key: "_id", Value: feedViewID(childID)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "av." + parentID, Value: int64(1)}}},
			{Key: "$unset", Value: bson.D{{Key: "a." + parentID, Value: ""}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "c", Value: childID}}}},
		options.UpdateOne().SetUpsert(true))
	return mapErr(err, "feed view")
}

// parentFeedAccessChanged is feedAccessChanged for the children the stored
// parent is linked to now, plus extra (those it was linked to before).
func (s *Store) parentFeedAccessChanged(ctx context.Context, parentID string, extra ...string) error {
	now, err := s.parentChildIDs(ctx, parentID)
	if err != nil {
		return err
	}
	return s.feedAccessChanged(ctx, parentID, append(now, extra...))
}

// parentChildIDs reads the children a stored parent is linked to (none
// when there is no such parent).
func (s *Store) parentChildIDs(ctx context.Context, id string) ([]string, error) {
	d, err := getByID[parentSchoolsDoc](ctx, s, colParents, id, "parent")
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return nil, err
	}
	return d.childIDs(), nil
}

// dropFeedPagesOf drops every kept page holding a response of the parent
// (after their responses were erased from the record).
func (s *Store) dropFeedPagesOf(ctx context.Context, parentID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colFeed).UpdateMany(ctx, bson.D{{Key: "rp", Value: parentID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "wv", Value: int64(1)}}},
			{Key: "$unset", Value: bson.D{{Key: "pg", Value: ""}, {Key: "rp", Value: ""}}}})
	return mapErr(err, "feed views")
}

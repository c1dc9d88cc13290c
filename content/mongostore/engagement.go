package mongostore

import (
	"context"
	"errors"
	"sync"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ content.Engagement = (*Store)(nil)

// Engagement counters: one document per scope and ISO week with a
// composite _id (content.EngagementDocID), each event an upserting $inc by
// _id. A dashboard reads a few of them by _id and never scans.

// RecordEngagement adds one event to the child's, each class's (with its
// pupil-premium split) and the school's (with its split) counters for the
// week: an unordered bulk of lone-_id upserts.
func (s *Store) RecordEngagement(ctx context.Context, e content.EngagementEvent) error {
	week := content.ISOWeek(e.At)
	split := func(pp, other string) string {
		if e.PupilPremium {
			return pp
		}
		return other
	}
	type target struct{ scope, id string }
	targets := []target{{content.ScopeSchool, e.SchoolID}, {split(content.ScopeSchoolPP, content.ScopeSchoolOther), e.SchoolID}}
	if e.ChildID != "" {
		targets = append(targets, target{content.ScopeChild, e.ChildID})
	}
	for _, c := range e.ClassIDs {
		targets = append(targets, target{content.ScopeClass, c}, target{split(content.ScopeClassPP, content.ScopeClassOther), c})
	}
	models := make([]mongo.WriteModel, 0, len(targets))
	for _, t := range targets {
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: content.EngagementDocID(t.scope, t.id, week)}}).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: string(e.Kind), Value: int64(1)}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "scope", Value: t.scope}, {Key: "ref", Value: t.id}, {Key: "week", Value: week}}}}).
			SetUpsert(true))
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c(colEngagement).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return mapErr(err, "engagement")
}

// EngagementWeeks looks the weeks up by _id side by side (at most
// engagementReaders at once), so a dashboard of many weeks costs a few
// lookups' latency rather than one per week.
func (s *Store) EngagementWeeks(ctx context.Context, scope, id string, weeks []string) ([]content.EngagementCounts, error) {
	out := make([]content.EngagementCounts, len(weeks))
	errs := make([]error, len(weeks))
	sem := make(chan struct{}, engagementReaders)
	var wg sync.WaitGroup
	for i, w := range weeks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = s.engagementWeek(ctx, content.EngagementDocID(scope, id, w))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

const engagementReaders = 8

func (s *Store) engagementWeek(ctx context.Context, docID string) (content.EngagementCounts, error) {
	counts := content.EngagementCounts{}
	d, err := getByID[bson.M](ctx, s, colEngagement, docID, "engagement")
	if content.IsCode(err, content.CodeNotFound) {
		return counts, nil
	} else if err != nil {
		return nil, err
	}
	for _, k := range content.EngagementKinds {
		switch v := (*d)[string(k)].(type) {
		case int64:
			counts[k] = v
		case int32:
			counts[k] = int64(v)
		case float64:
			counts[k] = int64(v)
		}
	}
	return counts, nil
}

package mongostore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colSuppressions holds one document per suppressed contact, keyed by the
// contact's keyed hash (content.SuppressionKey): never the contact itself,
// and looked up by _id only. It is permanent: retention and erasure leave it.
const colSuppressions = "suppressions"

var _ content.Suppressions = (*Store)(nil)

// suppressionDoc keeps every reason a contact is suppressed for, each with
// the first time it was recorded. A contact is suppressed while any reason
// remains; START removes only "stop", so a bounce or an erasure outlives it.
type suppressionDoc struct {
	Key     string               `bson:"_id"`
	Channel string               `bson:"channel"`
	Reasons map[string]time.Time `bson:"reasons"`
}

func (d *suppressionDoc) active() bool { return len(d.Reasons) > 0 }

// Suppress upserts the contact's document and records the reason with
// $min, so a repeat keeps the first time and the write is one atomic,
// idempotent update by _id whatever order repeats arrive in.
func (s *Store) Suppress(ctx context.Context, sup *content.Suppression) error {
	switch {
	case sup.Key == "":
		return content.Errorf(content.CodeInvalid, "a suppression needs a key")
	case sup.Channel != content.SuppressionSMS && sup.Channel != content.SuppressionEmail:
		return content.Errorf(content.CodeInvalid, "unknown suppression channel %q", sup.Channel)
	case !sup.Reason.Valid():
		return content.Errorf(content.CodeInvalid, "unknown suppression reason %q", sup.Reason)
	case sup.At.IsZero():
		return content.Errorf(content.CodeInvalid, "a suppression needs a time")
	}
	// The filter first: a check never misses a suppression that exists.
	if err := s.addToFilter(ctx, sup.Key); err != nil {
		return err
	}
	update := bson.D{
		{Key: "$setOnInsert", Value: bson.D{{Key: "channel", Value: sup.Channel}}},
		{Key: "$min", Value: bson.D{{Key: "reasons." + string(sup.Reason), Value: sup.At.UTC().Truncate(time.Millisecond)}}},
	}
	write := func() error {
		ctx, cancel := s.ctx(ctx)
		defer cancel()
		_, err := s.c(colSuppressions).UpdateOne(ctx, bson.D{{Key: "_id", Value: sup.Key}}, update, options.UpdateOne().SetUpsert(true))
		return err
	}
	err := write()
	if mongo.IsDuplicateKeyError(err) {
		// Two first suppressions raced to insert; the loser's update now
		// finds the document.
		err = write()
	}
	return mapErr(err, "suppression")
}

// Unsuppress removes the "stop" reason and reports whether it was there.
// The document stays (possibly with no reasons): deleting it could race
// with a concurrent Suppress for another reason and lose that.
func (s *Store) Unsuppress(ctx context.Context, key string) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var before suppressionDoc
	err := s.c(colSuppressions).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "reasons." + string(content.SuppressStop), Value: ""}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if err != nil {
		if err = mapErr(err, "suppression"); content.IsCode(err, content.CodeNotFound) {
			return false, nil
		}
		return false, err
	}
	_, had := before.Reasons[string(content.SuppressStop)]
	return had, nil
}

func (s *Store) IsSuppressed(ctx context.Context, key string) (bool, error) {
	d, err := getByID[suppressionDoc](ctx, s, colSuppressions, key, "suppression")
	if content.IsCode(err, content.CodeNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return d.active(), nil
}

// SuppressedAmong checks each distinct key through one Check: only keys
// the suppression filter cannot rule out are looked up, each by _id (on the
// embedded store an $in scans the whole collection).
func (s *Store) SuppressedAmong(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	check, err := s.Check(ctx)
	if err != nil {
		return nil, fmt.Errorf("check suppressions: %w", err)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		yes, err := check.IsSuppressed(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("check suppressions: %w", err)
		}
		if yes {
			out[k] = true
		}
	}
	return out, nil
}

func (s *Store) Suppression(ctx context.Context, key string) (*content.Suppression, error) {
	d, err := getByID[suppressionDoc](ctx, s, colSuppressions, key, "suppression")
	if err != nil {
		return nil, err
	}
	if !d.active() {
		return nil, mapErr(mongo.ErrNoDocuments, "suppression")
	}
	reasons := make([]string, 0, len(d.Reasons))
	for r := range d.Reasons {
		reasons = append(reasons, r)
	}
	// Earliest first; the same instant is ordered by name, so the answer
	// does not depend on map order.
	sort.Slice(reasons, func(i, j int) bool {
		ti, tj := d.Reasons[reasons[i]], d.Reasons[reasons[j]]
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return reasons[i] < reasons[j]
	})
	first := reasons[0]
	return &content.Suppression{Key: d.Key, Channel: d.Channel, Reason: content.SuppressionReason(first), At: d.Reasons[first].UTC()}, nil
}

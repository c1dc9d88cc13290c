package mongostore

import (
	"context"
	"fmt"
	"sync"

	"github.com/hometime-edu/hometime/content"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colSuppressionFilter lets a batch of sends skip the suppression lookup
// for contacts that cannot be suppressed. Every send checks its contact's
// key, and nearly every key is not on the list: looking each up by _id is a
// store round trip per message for an answer that is almost always "no".
//
// The filter holds the first filterPrefixLen hex characters of every key
// ever suppressed, in filterShards documents by the key's first character
// ("s:0" … "s:f", field p), and a version document ("v") with a counter per
// shard, bumped after each addition. A check reads the version document
// once (Check), reloads only shards whose counter moved since this process
// last read them, and looks up by _id only the keys whose prefix is
// present: with 100,000 suppressions a key that is not suppressed matches a
// 32-bit prefix about once in 40,000 checks.
//
// Suppress adds the prefix and bumps the counter before it writes the
// suppression, each a single-document atomic write, so a check that starts
// after a suppression exists sees the counter moved and the prefix in the
// shard it reloads. A crash in between leaves a prefix with no suppression:
// a wasted lookup, never a missed one. Prefixes are never removed (START
// lifts a suppression; its prefix only costs a lookup). Prefixes of keyed
// hashes say nothing about a contact.
const colSuppressionFilter = "suppression_filter"

const (
	filterVersionID = "v"
	filterPrefixLen = 8 // hex characters: 32 bits
)

// filterShards are the shard names: the first hex character of a key.
var filterShards = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"}

type filterVersionDoc struct {
	ID string `bson:"_id"`
	// Built is set once the filter holds every suppression (Init fills it
	// from the list when it is missing, as on a store that predates it).
	Built    bool             `bson:"built"`
	Versions map[string]int64 `bson:"v"`
}

type filterShardDoc struct {
	ID       string   `bson:"_id"`
	Prefixes []string `bson:"p"`
}

// suppressionFilter is this process's copy of the shards it has read.
type suppressionFilter struct {
	mu       sync.Mutex
	versions map[string]int64               // shard → counter its copy was read at
	prefixes map[string]map[string]struct{} // shard → prefixes
}

// filterPlace is where a key's prefix is kept; ok is false for a key that
// is not a lower-case hex keyed hash (nothing content makes), which is then
// always looked up.
func filterPlace(key string) (shard, prefix string, ok bool) {
	if len(key) < filterPrefixLen {
		return "", "", false
	}
	for i := range filterPrefixLen {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", "", false
		}
	}
	return key[:1], key[:filterPrefixLen], true
}

// addToFilter records key's prefix and then bumps its shard's counter.
func (s *Store) addToFilter(ctx context.Context, key string) error {
	shard, prefix, ok := filterPlace(key)
	if !ok {
		return nil
	}
	if err := s.upsertByID(ctx, colSuppressionFilter, "s:"+shard,
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "p", Value: prefix}}}}); err != nil {
		return mapErr(err, "suppression filter")
	}
	return mapErr(s.upsertByID(ctx, colSuppressionFilter, filterVersionID,
		bson.D{{Key: "$inc", Value: bson.D{{Key: "v." + shard, Value: int64(1)}}}}), "suppression filter")
}

// upsertByID applies update to the document with _id, creating it if need
// be; two first writers racing to insert retry once as an update.
func (s *Store) upsertByID(ctx context.Context, coll, id string, update bson.D) error {
	write := func() error {
		ctx, cancel := s.ctx(ctx)
		defer cancel()
		_, err := s.c(coll).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update, options.UpdateOne().SetUpsert(true))
		return err
	}
	err := write()
	if mongo.IsDuplicateKeyError(err) {
		err = write()
	}
	return err
}

// buildSuppressionFilter fills the filter from the list when it is not
// marked built (a store that predates it, or a build cut short), then marks
// it built and bumps every counter so each process rereads it. Concurrent
// builds are harmless: additions are idempotent.
func (s *Store) buildSuppressionFilter(ctx context.Context) error {
	v, err := getByID[filterVersionDoc](ctx, s, colSuppressionFilter, filterVersionID, "suppression filter")
	if err == nil && v.Built {
		return nil
	}
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		return err
	}
	cur, err := s.c(colSuppressions).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return mapErr(err, "suppressions")
	}
	byShard := map[string][]string{}
	for cur.Next(ctx) {
		var d struct {
			Key string `bson:"_id"`
		}
		if err := cur.Decode(&d); err != nil {
			cur.Close(ctx)
			return mapErr(err, "suppressions")
		}
		if shard, prefix, ok := filterPlace(d.Key); ok {
			byShard[shard] = append(byShard[shard], prefix)
		}
	}
	if err := cur.Err(); err != nil {
		cur.Close(ctx)
		return mapErr(err, "suppressions")
	}
	cur.Close(ctx)
	for shard, prefixes := range byShard {
		if err := s.upsertByID(ctx, colSuppressionFilter, "s:"+shard, bson.D{{Key: "$addToSet",
			Value: bson.D{{Key: "p", Value: bson.D{{Key: "$each", Value: prefixes}}}}}}); err != nil {
			return fmt.Errorf("build suppression filter: %w", mapErr(err, "suppression filter"))
		}
	}
	inc := bson.D{}
	for _, shard := range filterShards {
		inc = append(inc, bson.E{Key: "v." + shard, Value: int64(1)})
	}
	if err := s.upsertByID(ctx, colSuppressionFilter, filterVersionID, bson.D{
		{Key: "$set", Value: bson.D{{Key: "built", Value: true}}}, {Key: "$inc", Value: inc}}); err != nil {
		return fmt.Errorf("build suppression filter: %w", mapErr(err, "suppression filter"))
	}
	return nil
}

// suppressionCheck is one batch's view of the filter.
type suppressionCheck struct {
	s        *Store
	prefixes map[string]map[string]struct{} // nil: no usable filter, look every key up
}

func (c *suppressionCheck) IsSuppressed(ctx context.Context, key string) (bool, error) {
	if c.prefixes != nil {
		if shard, prefix, ok := filterPlace(key); ok {
			if _, maybe := c.prefixes[shard][prefix]; !maybe {
				return false, nil
			}
		}
	}
	return c.s.IsSuppressed(ctx, key)
}

// Check reads the filter's counters and brings this process's copy of any
// shard that moved up to date: one lookup by _id, plus one per shard that
// changed since the last check.
func (s *Store) Check(ctx context.Context) (content.SuppressionCheck, error) {
	v, err := getByID[filterVersionDoc](ctx, s, colSuppressionFilter, filterVersionID, "suppression filter")
	if content.IsCode(err, content.CodeNotFound) || (err == nil && !v.Built) {
		return &suppressionCheck{s: s}, nil // not built yet: exact lookups
	} else if err != nil {
		return nil, err
	}
	f := s.filter
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.versions == nil {
		f.versions, f.prefixes = map[string]int64{}, map[string]map[string]struct{}{}
	}
	for _, shard := range filterShards {
		want := v.Versions[shard]
		if have, ok := f.versions[shard]; ok && have >= want {
			continue
		}
		d, err := getByID[filterShardDoc](ctx, s, colSuppressionFilter, "s:"+shard, "suppression filter")
		if err != nil && !content.IsCode(err, content.CodeNotFound) {
			return nil, err
		}
		set := map[string]struct{}{}
		if d != nil {
			for _, p := range d.Prefixes {
				set[p] = struct{}{}
			}
		}
		// Read after the counter: it holds at least what the counter says.
		f.versions[shard], f.prefixes[shard] = want, set
	}
	// Shard sets are replaced, never changed in place, so the check can
	// keep them without the lock.
	view := make(map[string]map[string]struct{}, len(f.prefixes))
	for shard, set := range f.prefixes {
		view[shard] = set
	}
	return &suppressionCheck{s: s, prefixes: view}, nil
}

package mongostore_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// countingStore is a Store on db through a client of its own that counts
// the finds it sends, as a second process would see the database.
func countingStore(t *testing.T, db *mongo.Database) (*mongostore.Store, *atomic.Int64) {
	t.Helper()
	var finds atomic.Int64
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" {
			finds.Add(1)
		}
	}}
	cl, err := mongo.Connect(options.Client().ApplyURI(mongotest.URI()).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Disconnect(context.Background()) })
	return mongostore.New(cl.Database(db.Name()), 0), &finds
}

func suppressStop(t *testing.T, s *mongostore.Store, key string) {
	t.Helper()
	if err := s.Suppress(context.Background(), &content.Suppression{Key: key, Channel: content.SuppressionSMS,
		Reason: content.SuppressStop, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func checkKeys(t *testing.T, s *mongostore.Store, keys ...string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	check, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range keys {
		yes, err := check.IsSuppressed(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = yes
	}
	return out
}

// A check sees every suppression recorded before it, including one another
// process recorded after this one last read the filter; keys it can rule
// out cost no lookup.
func TestSuppressionCheckSkipsLookupsAndSeesOtherProcesses(t *testing.T) {
	t.Parallel()
	db := mongotest.NewDatabase(t)
	sender, finds := countingStore(t, db)
	webhook := mongostore.New(db, 0)

	clear := make([]string, 100)
	for i := range clear {
		clear[i] = smsKey(t, fmt.Sprintf("+4479111%05d", i))
	}
	stopped := smsKey(t, "+447911199999")
	suppressStop(t, webhook, stopped)

	got := checkKeys(t, sender, append([]string{stopped}, clear...)...)
	if !got[stopped] {
		t.Fatal("a suppression recorded before the check was missed")
	}
	for _, k := range clear {
		if got[k] {
			t.Fatalf("key %s… reported suppressed", k[:8])
		}
	}
	// A check reads the counters, then the shards this process has not
	// read; 101 keys cost one lookup: the suppressed one.
	first := finds.Load()
	if first > 1+16+1 {
		t.Fatalf("first check of 101 keys made %d finds, want at most 18", first)
	}
	finds.Store(0)
	got = checkKeys(t, sender, clear...)
	if n := finds.Load(); n != 1 {
		t.Fatalf("a second check of 100 keys that cannot be suppressed made %d finds, want 1 (the counters)", n)
	}

	// Another process suppresses one of them: the next check sees it.
	suppressStop(t, webhook, clear[42])
	finds.Store(0)
	got = checkKeys(t, sender, clear...)
	if !got[clear[42]] {
		t.Fatal("a suppression recorded by another process before the check was missed")
	}
	if n := finds.Load(); n != 3 {
		t.Fatalf("check after one new suppression made %d finds, want 3 (counters, its shard, its key)", n)
	}

	// START lifts it: the prefix stays but the lookup says no.
	if _, err := webhook.Unsuppress(context.Background(), clear[42]); err != nil {
		t.Fatal(err)
	}
	if got := checkKeys(t, sender, clear[42]); got[clear[42]] {
		t.Fatal("a lifted suppression still reported")
	}
}

// A key sharing a suppressed key's prefix is looked up, not taken for it.
func TestSuppressionCheckPrefixMatchIsLookedUp(t *testing.T) {
	t.Parallel()
	s := mongotest.NewStore(t)
	stopped := smsKey(t, stopPhone)
	suppressStop(t, s, stopped)
	twin := stopped[:8] + strings.Repeat("0", len(stopped)-8)
	if twin == stopped {
		twin = stopped[:8] + strings.Repeat("1", len(stopped)-8)
	}
	got := checkKeys(t, s, stopped, twin, "not-a-hex-key")
	if !got[stopped] || got[twin] || got["not-a-hex-key"] {
		t.Fatalf("check = %v, want only the suppressed key", got)
	}
}

// A store whose list predates the filter (or whose filter was lost) is
// checked key by key until Init builds the filter from the list.
func TestSuppressionFilterIsBuiltFromTheList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mongotest.NewDatabase(t)
	s := mongostore.New(db, 0)
	old := smsKey(t, "+447911100001")
	// A suppression written without the filter, then the filter gone.
	if _, err := db.Collection("suppressions").InsertOne(ctx, bson.D{{Key: "_id", Value: old},
		{Key: "channel", Value: "sms"}, {Key: "reasons", Value: bson.D{{Key: "stop", Value: time.Now()}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("suppression_filter").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if got := checkKeys(t, s, old); !got[old] {
		t.Fatal("before the filter is built, a suppression on the list was missed")
	}
	// A suppression recorded now creates the counters but not "built".
	recent := smsKey(t, "+447911100002")
	suppressStop(t, s, recent)
	if got := checkKeys(t, s, old, recent); !got[old] || !got[recent] {
		t.Fatalf("with the filter half there, check = %v", got)
	}
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Built bool `bson:"built"`
	}
	if err := db.Collection("suppression_filter").FindOne(ctx, bson.D{{Key: "_id", Value: "v"}}).Decode(&v); err != nil || !v.Built {
		t.Fatalf("after Init the filter is not marked built: %+v, %v", v, err)
	}
	fresh := mongostore.New(db, 0) // another process, nothing read yet
	if got := checkKeys(t, fresh, old, recent, smsKey(t, "+447911100003")); !got[old] || !got[recent] || len(got) != 3 {
		t.Fatalf("after the build, check = %v", got)
	}
	if got := checkKeys(t, s, old, recent); !got[old] || !got[recent] {
		t.Fatalf("after the build, the first process's check = %v", got)
	}
}

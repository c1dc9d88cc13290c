package embedded_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	_ "modernc.org/sqlite" // the driver Fix uses; the tests read the same files to inspect indexes
)

// shared is the one embedded store of this test binary: starting it is
// cheap, but one store with a fresh database per test is what production
// code sees (one store, many databases). A start-up failure is kept and
// reported by every test rather than ending the binary from TestMain.
var shared struct {
	store  *embedded.Store
	client *mongo.Client
	err    error
	dbs    atomic.Int64
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hometime-embedded-test-")
	if err == nil {
		defer os.RemoveAll(dir)
		shared.store, err = embedded.Start(context.Background(), dir, nil)
	}
	if err == nil {
		shared.client, err = mongo.Connect(options.Client().ApplyURI(shared.store.URI()))
	}
	shared.err = err

	m.Run() // since Go 1.15 the test binary exits with m.Run's code when TestMain returns

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Disconnect before Close: the store gives connected clients 3 s to leave.
	if shared.client != nil {
		if err := shared.client.Disconnect(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "disconnect from embedded store:", err)
		}
	}
	if shared.store != nil {
		if err := shared.store.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close embedded store:", err)
		}
	}
}

// newDatabase returns a database no other test uses, dropped at the end.
func newDatabase(t *testing.T, ctx context.Context, purpose string) *mongo.Database {
	t.Helper()
	if shared.err != nil {
		t.Fatalf("embedded store did not start: %v", shared.err)
	}
	db := shared.client.Database(fmt.Sprintf("t%02d_%s", shared.dbs.Add(1), purpose))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop %s: %v", db.Name(), err)
		}
	})
	return db
}

func mustCreate(t *testing.T, ctx context.Context, db *mongo.Database, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := db.CreateCollection(ctx, name); err != nil {
			t.Fatalf("create %s.%s: %v", db.Name(), name, err)
		}
	}
}

func docID(i int) string { return fmt.Sprintf("family:%06d", i) }

// seed inserts n documents shaped like small app documents, in batches as a
// seeding script would.
func seed(t *testing.T, ctx context.Context, coll *mongo.Collection, n int) {
	t.Helper()
	const batch = 5000
	for from := 0; from < n; from += batch {
		docs := make([]any, 0, batch)
		for i := from; i < min(from+batch, n); i++ {
			docs = append(docs, bson.D{{Key: "_id", Value: docID(i)}, {Key: "n", Value: i}, {Key: "school", Value: "s1"}})
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			t.Fatalf("seed %s: %v", coll.Name(), err)
		}
	}
}

// probe times single operations by _id on one collection of n documents.
// Ids step through the collection by a prime so samples spread over all of
// it rather than its first pages.
type probe struct {
	coll  *mongo.Collection
	n     int
	next  int
	finds []time.Duration
	sets  []time.Duration
}

func (p *probe) id() (string, int) {
	p.next++
	i := (p.next * 7919) % p.n
	return docID(i), i
}

func (p *probe) find(t *testing.T, ctx context.Context) {
	t.Helper()
	id, want := p.id()
	start := time.Now()
	var doc struct {
		N int `bson:"n"`
	}
	err := p.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	p.finds = append(p.finds, time.Since(start))
	if err != nil || doc.N != want {
		t.Fatalf("find %s in %s: n=%d err=%v", id, p.coll.Name(), doc.N, err)
	}
}

func (p *probe) set(t *testing.T, ctx context.Context) {
	t.Helper()
	id, _ := p.id()
	start := time.Now()
	// A new value each time, so every update really writes.
	res, err := p.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "seen", Value: p.next}}}})
	p.sets = append(p.sets, time.Since(start))
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("update %s in %s: %+v err=%v", id, p.coll.Name(), res, err)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestFixKeepsIDOperationsFlat proves the _id expression index Fix creates: with
// it, FindOne and UpdateOne by string _id cost the same at 50k documents as
// at 1k; without it they scan and cost grows with the collection.
func TestFixKeepsIDOperationsFlat(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const small, large = 1_000, 50_000

	fixed := newDatabase(t, ctx, "fixed")
	mustCreate(t, ctx, fixed, "small", "large")
	// The start-up order the app follows: create every collection, fix, serve.
	if err := shared.store.Fix(ctx, fixed.Name()); err != nil {
		t.Fatal(err)
	}
	unfixed := newDatabase(t, ctx, "unfixed")
	mustCreate(t, ctx, unfixed, "large")

	seedStart := time.Now()
	seed(t, ctx, fixed.Collection("small"), small)
	seed(t, ctx, fixed.Collection("large"), large)
	seed(t, ctx, unfixed.Collection("large"), large)
	t.Logf("seeded %d documents in %s", small+2*large, time.Since(seedStart).Round(time.Millisecond))

	smallP := &probe{coll: fixed.Collection("small"), n: small}
	largeP := &probe{coll: fixed.Collection("large"), n: large}
	unfixedP := &probe{coll: unfixed.Collection("large"), n: large}

	// Warm connections, statement caches and pages, then drop those timings.
	for _, p := range []*probe{smallP, largeP, unfixedP} {
		for range 3 {
			p.find(t, ctx)
			p.set(t, ctx)
		}
		p.finds, p.sets = nil, nil
	}

	// Alternate small and large so a noisy neighbour on the machine slows
	// both sides of the ratio alike.
	const samples = 300
	for range samples {
		smallP.find(t, ctx)
		largeP.find(t, ctx)
	}
	for range samples {
		smallP.set(t, ctx)
		largeP.set(t, ctx)
	}
	// A scan costs tens of milliseconds here, so a few samples are plenty.
	const scanSamples = 15
	for range scanSamples {
		unfixedP.find(t, ctx)
		largeP.find(t, ctx)
		unfixedP.set(t, ctx)
		largeP.set(t, ctx)
	}

	findSmall, findLarge, findUnfixed := median(smallP.finds), median(largeP.finds), median(unfixedP.finds)
	setSmall, setLarge, setUnfixed := median(smallP.sets), median(largeP.sets), median(unfixedP.sets)
	t.Logf("FindOne by _id, median: fixed %dk %s, fixed %dk %s, unfixed %dk %s",
		small/1000, findSmall, large/1000, findLarge, large/1000, findUnfixed)
	t.Logf("UpdateOne $set by _id, median: fixed %dk %s, fixed %dk %s, unfixed %dk %s",
		small/1000, setSmall, large/1000, setLarge, large/1000, setUnfixed)

	tests := []struct {
		name            string
		fast, slow      time.Duration
		atMost, atLeast float64
		because         string
	}{
		{"find: 50k within 2× of 1k", findSmall, findLarge, 2, 0, "the fix should make a lookup independent of size"},
		{"update: 50k within 2× of 1k", setSmall, setLarge, 2, 0, "the fix should make an update independent of size"},
		{"find: unfixed 50k at least 10× fixed", findLarge, findUnfixed, 0, 10, "without the fix FerretDB scans"},
		{"update: unfixed 50k at least 10× fixed", setLarge, setUnfixed, 0, 10, "without the fix FerretDB scans"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ratio := float64(tc.slow) / float64(tc.fast)
			if tc.atMost > 0 && ratio > tc.atMost {
				t.Errorf("ratio %.1f > %.0f (%s vs %s): %s", ratio, tc.atMost, tc.slow, tc.fast, tc.because)
			}
			if tc.atLeast > 0 && ratio < tc.atLeast {
				t.Errorf("ratio %.1f < %.0f (%s vs %s): %s", ratio, tc.atLeast, tc.slow, tc.fast, tc.because)
			}
		})
	}
}

// idIndexes counts the expression indexes on _ferretdb_sjson->'$._id' of a
// collection's table and reports whether SQLite would answer FerretDB's
// lone-_id query with one of them.
func idIndexes(t *testing.T, ctx context.Context, database, collection string) (count int, planUsesIndex bool) {
	t.Helper()
	path := filepath.Join(shared.store.Dir(), database+".sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	var table string
	if err := db.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table); err != nil {
		t.Fatalf("table of %s.%s: %v", database, collection, err)
	}
	err = db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE '%''$._id''%'`, table).Scan(&count)
	if err != nil {
		t.Fatalf("indexes of %s: %v", table, err)
	}
	// The statement FerretDB 1.24 issues for {_id: "…"} (backends/sqlite/collection.go).
	rows, err := db.QueryContext(ctx,
		fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), `"x"`)
	if err != nil {
		t.Fatalf("plan on %s: %v", table, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("plan on %s: %v", table, err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("plan on %s: %v", table, err)
	}
	return count, strings.Contains(strings.Join(plan, "; "), "USING INDEX")
}

// TestFixIsIdempotentAndCoversLateCollections: Fix runs at every start-up
// and after any collection is (re)created, so repeating it must be harmless
// and must pick up what was created since.
func TestFixIsIdempotentAndCoversLateCollections(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db := newDatabase(t, ctx, "refix")
	mustCreate(t, ctx, db, "early")
	if err := shared.store.Fix(ctx, db.Name()); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, ctx, db, "late")
	if n, used := idIndexes(t, ctx, db.Name(), "late"); n != 0 || used {
		t.Fatalf("late collection before the second Fix: %d indexes, plan uses index %v; want neither", n, used)
	}
	for i := range 2 { // second Fix covers "late"; a third must change nothing
		if err := shared.store.Fix(ctx, db.Name()); err != nil {
			t.Fatalf("Fix #%d: %v", i+2, err)
		}
	}

	for _, coll := range []string{"early", "late"} {
		t.Run(coll, func(t *testing.T) {
			n, used := idIndexes(t, ctx, db.Name(), coll)
			if n != 1 || !used {
				t.Errorf("%d _id expression indexes, plan uses index %v; want exactly 1, used", n, used)
			}
			if _, err := db.Collection(coll).InsertOne(ctx, bson.D{{Key: "_id", Value: "k1"}}); err != nil {
				t.Fatal(err)
			}
			if err := db.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: "k1"}}).Err(); err != nil {
				t.Errorf("find k1 after Fix: %v", err)
			}
		})
	}
}

// TestFixUnknownDatabase: Fix must fail rather than create an empty SQLite
// file, which the store would then take for a database.
func TestFixUnknownDatabase(t *testing.T) {
	if shared.err != nil {
		t.Fatalf("embedded store did not start: %v", shared.err)
	}
	const name = "never_created"
	if err := shared.store.Fix(t.Context(), name); err == nil {
		t.Error("Fix of a database that does not exist succeeded")
	}
	if _, err := os.Stat(filepath.Join(shared.store.Dir(), name+".sqlite")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Fix left a file behind: %v", err)
	}
}

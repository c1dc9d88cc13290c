package benchkit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestFindByID(t *testing.T) {
	ctx := context.Background()
	store, err := embedded.Start(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	client, err := mongo.Connect(options.Client().ApplyURI(store.URI()))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database("bench")
	if err := db.CreateCollection(ctx, "docs"); err != nil {
		t.Fatal(err)
	}
	if err := store.Fix(ctx, "bench"); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 200)
	docs := make([]any, len(ids))
	for i := range ids {
		ids[i] = fmt.Sprintf("doc:%04d", i)
		docs[i] = map[string]any{"_id": ids[i], "n": i}
	}
	if _, err := db.Collection("docs").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	// Disconnect now: the store gives clients still connected at Close 3s to leave.
	if err := client.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}

	// A fixed count, not a time window: how many a window holds depends on
	// the machine's load, and speed is the benches' business.
	load := benchkit.Closed{Workers: 4, Count: 40}
	res, err := benchkit.FindByID(ctx, load, store.URI(), "bench", "docs", ids)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 40 || res.Failed() != 0 {
		t.Errorf("%v: want 40 successes and no failures", res)
	}
	assertOrdered(t, res.Latency)
	t.Logf("store reference on 200 docs: %v", res)

	res, err = benchkit.FindByID(ctx, benchkit.Closed{Workers: 2, Count: 10}, store.URI(), "bench", "docs", []string{"doc:missing"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 10 || res.FirstErr == nil {
		t.Errorf("missing id: %v, want 10 errors", res)
	}
}

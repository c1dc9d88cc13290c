// Package mongotest gives tests a real document store: one embedded FerretDB
// per test binary (or the MongoDB at MONGODB_URI) and a fresh database per
// test. Call Main from TestMain.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// env is the per-binary store; test-support state, set once by Main.
var env struct {
	emb    *embedded.Store
	client *mongo.Client
	reads  *mongo.Client // finds bypass the embedded store's write relay; = client on MongoDB
	uri    string
}

// Main starts the store, runs the tests and stops it. Use as
// `func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }`.
func Main(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hometime-store-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	env.uri = os.Getenv("MONGODB_URI")
	if env.uri == "" {
		env.emb, err = embedded.Start(ctx, dir, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mongotest: start embedded store:", err)
			return 1
		}
		defer env.emb.Close()
		env.uri = env.emb.URI()
	}
	env.client, err = mongostore.Connect(ctx, env.uri, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
		return 1
	}
	defer env.client.Disconnect(context.Background())
	env.reads = env.client
	if env.emb != nil {
		env.reads, err = mongostore.Connect(ctx, env.emb.ReadURI(), nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mongotest:", err)
			return 1
		}
		defer env.reads.Disconnect(context.Background())
	}
	return m.Run()
}

// URI is the address of the per-binary store.
func URI() string { return env.uri }

// Client is the shared driver client.
func Client() *mongo.Client { return env.client }

// NewDatabase returns a fresh, initialised database (every collection
// created, embedded index fix applied) that is dropped when the test ends.
func NewDatabase(t testing.TB) *mongo.Database {
	t.Helper()
	if env.client == nil {
		t.Fatal("mongotest: call mongotest.Main from TestMain")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	db := env.client.Database(name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := mongostore.New(db, 0).Init(ctx); err != nil {
		t.Fatalf("mongotest: init %s: %v", name, err)
	}
	if err := Fix(ctx, name); err != nil {
		t.Fatalf("mongotest: %v", err)
	}
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	return db
}

// NewStore returns a Store on a fresh database.
func NewStore(t testing.TB) *mongostore.Store {
	t.Helper()
	db := NewDatabase(t)
	return mongostore.New(db, 0).ReadFrom(env.reads.Database(db.Name()))
}

// Fix applies the embedded store's _id index fix to a database (a no-op on
// real MongoDB). Call it again after creating collections.
func Fix(ctx context.Context, database string) error {
	if env.emb == nil {
		return nil
	}
	return env.emb.Fix(ctx, database)
}

package embedded_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestSpike(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Start(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cl, err := mongo.Connect(options.Client().ApplyURI(s.URI()))
	if err != nil {
		t.Fatal(err)
	}
	db := cl.Database("spike")
	if err := db.CreateCollection(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := s.Fix(ctx, "spike"); err != nil {
		t.Fatal(err)
	}
	docs := make([]any, 20000)
	for i := range docs {
		docs[i] = bson.M{"_id": fmt.Sprintf("k%06d", i), "n": i}
	}
	st := time.Now()
	if _, err := db.Collection("c").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	t.Log("insert", time.Since(st))
	st = time.Now()
	for i := 0; i < 200; i++ {
		var m bson.M
		if err := db.Collection("c").FindOne(ctx, bson.M{"_id": fmt.Sprintf("k%06d", i*50)}).Decode(&m); err != nil {
			t.Fatal(err)
		}
	}
	t.Log("findone avg", time.Since(st)/200)
}

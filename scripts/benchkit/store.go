package benchkit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// FindByID is the store reference every API benchmark is read against:
// FindOne({_id: id}) by string id through the mongo driver, in a closed loop.
// An API endpoint cannot serve more lookups per second than this.
// Each worker walks ids from its own starting point, so workers do not
// hammer the same documents in step. A missing id counts as an error: the
// benchmark seeded the wrong data.
func FindByID(ctx context.Context, load Closed, uri, database, collection string, ids []string) (Result, error) {
	if err := load.check(); err != nil {
		return Result{}, err
	}
	if len(ids) == 0 {
		return Result{}, errors.New("find by id: no ids")
	}
	// The pool must not be the bottleneck being measured.
	opts := options.Client().ApplyURI(uri).SetMaxPoolSize(uint64(max(100, load.Workers)))
	client, err := mongo.Connect(opts)
	if err != nil {
		return Result{}, fmt.Errorf("find by id: connect: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
	}()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = client.Ping(pctx, nil)
	cancel()
	if err != nil {
		return Result{}, fmt.Errorf("find by id: ping %s: %w", database, err)
	}

	coll := client.Database(database).Collection(collection)
	n := int64(len(ids))
	op := func(ctx context.Context, worker int, seq int64) error {
		id := ids[(int64(worker)*n/int64(load.Workers)+seq)%n]
		// Raw skips decoding: the reference is the store's cost, not the
		// caller's struct mapping.
		if _, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw(); err != nil {
			return fmt.Errorf("find %s.%s by id: %w", database, collection, err)
		}
		return nil
	}
	return load.Run(ctx, op)
}

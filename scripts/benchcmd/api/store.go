package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hometime-edu/hometime/scripts/benchkit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// findByID is benchkit.FindByID on the stack's own driver client: the
// embedded store's address is not exposed, and the API reads through this
// very client, so the reference differs from /v1/me only by what the API
// adds. Same shape as FindByID: FindOne({_id}) by string id, Raw (no
// decoding), each worker walking the ids from its own starting point, a
// missing id an error. The client's pool (driver default 100) is not the
// bottleneck at 64 workers.
func findByID(ctx context.Context, load benchkit.Closed, coll *mongo.Collection, ids []string) (benchkit.Result, error) {
	if len(ids) == 0 {
		return benchkit.Result{}, errors.New("find by id: no ids")
	}
	n := int64(len(ids))
	workers := int64(max(load.Workers, 1))
	return load.Run(ctx, func(ctx context.Context, worker int, seq int64) error {
		id := ids[(int64(worker)*n/workers+seq)%n]
		if _, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw(); err != nil {
			return fmt.Errorf("find %s by id: %w", coll.Name(), err)
		}
		return nil
	})
}

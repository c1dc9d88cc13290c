package benchkit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisAnswers reports whether a Redis at url answers a PING within a
// second (benches use a local Redis when there is one, else miniredis).
func RedisAnswers(ctx context.Context, url string) bool {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return false
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return rdb.Ping(ctx).Err() == nil
}

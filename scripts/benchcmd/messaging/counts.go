package main

import (
	"context"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/event"
)

// roundTrips counts the store commands and Redis commands the pipeline
// sends, so a phase can say what one message costs in each. The bench's
// own reads (waiting for the ledger to settle) run on a context marked
// with benchOwn and are not counted.
type roundTrips struct {
	store atomic.Int64
	redis atomic.Int64
	// byCommand counts store commands by name ("find", "update", …) for
	// the progress line.
	byCommand [8]atomic.Int64
}

// storeCommandNames are the commands byCommand breaks the count into; the
// last slot holds every other command.
var storeCommandNames = [8]string{"find", "findAndModify", "update", "insert", "aggregate", "getMore", "delete", "other"}

type benchOwnKey struct{}

// benchOwn marks ctx as the bench's own: its commands are not the pipeline's.
func benchOwn(ctx context.Context) context.Context {
	return context.WithValue(ctx, benchOwnKey{}, true)
}

func counted(ctx context.Context) bool { return ctx.Value(benchOwnKey{}) == nil }

// monitor sees every command of the store's clients.
func (c *roundTrips) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		if !counted(ctx) {
			return
		}
		c.store.Add(1)
		k := len(storeCommandNames) - 1
		for i, n := range storeCommandNames[:k] {
			if n == e.CommandName {
				k = i
				break
			}
		}
		c.byCommand[k].Add(1)
	}}
}

// storeSnapshot is the store's count in total and by command.
type storeSnapshot struct {
	total int64
	by    [8]int64
}

func (c *roundTrips) storeSnapshot() storeSnapshot {
	s := storeSnapshot{total: c.store.Load()}
	for i := range c.byCommand {
		s.by[i] = c.byCommand[i].Load()
	}
	return s
}

// redisHook counts every command a Redis client sends (each command of a
// pipeline or transaction counts once).
type redisHook struct{ c *roundTrips }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if counted(ctx) {
			h.c.redis.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if counted(ctx) {
			h.c.redis.Add(int64(len(cmds)))
		}
		return next(ctx, cmds)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// defaultRedisURL is used when REDIS_URL is unset and a Redis answers there:
// database 15, which the bench flushes between phases.
const defaultRedisURL = "redis://127.0.0.1:6379/15"

// benchSecret signs nothing that leaves the run; production-mode config
// (store and Redis both external) requires one.
const benchSecret = "hometime-bench-secret-0123456789abcdef"

// backend is the store and Redis every phase and child process share.
type backend struct {
	storeURI  string
	storeKind string
	redisURL  string
	redisKind string
	emb       *embedded.Store
	dir       string
	// counts sees the store commands and Redis commands of every stack
	// the parent process opens.
	counts  *roundTrips
	closers []func() error
}

func openBackend(ctx context.Context, getenv func(string) string, log *slog.Logger) (b *backend, err error) {
	b = &backend{counts: &roundTrips{}}
	defer func() {
		if err != nil {
			_ = b.close()
		}
	}()
	if b.dir, err = os.MkdirTemp("", "bench-messaging-"); err != nil {
		return b, err
	}
	b.closers = append(b.closers, func() error { return os.RemoveAll(b.dir) })

	if uri := getenv("MONGODB_URI"); uri != "" {
		b.storeURI, b.storeKind = uri, "MONGODB_URI"
	} else {
		emb, err := embedded.Start(ctx, filepath.Join(b.dir, "store"), log.With("component", "ferretdb"))
		if err != nil {
			return b, fmt.Errorf("embedded store: %w", err)
		}
		b.closers = append(b.closers, emb.Close)
		b.emb, b.storeURI, b.storeKind = emb, emb.URI(), "embedded FerretDB on SQLite (the dev store), in this process"
	}

	switch url := getenv("REDIS_URL"); {
	case url != "":
		b.redisURL, b.redisKind = url, "REDIS_URL"
	case benchkit.RedisAnswers(ctx, defaultRedisURL):
		b.redisURL, b.redisKind = defaultRedisURL, "real Redis at "+defaultRedisURL
	default:
		mr, err := miniredis.Run()
		if err != nil {
			return b, fmt.Errorf("embedded redis: %w", err)
		}
		b.closers = append(b.closers, func() error { mr.Close(); return nil })
		b.redisURL, b.redisKind = "redis://"+mr.Addr(), "embedded miniredis (no Redis answered at "+defaultRedisURL+")"
	}
	return b, nil
}

func (b *backend) close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	b.closers = nil
	return errors.Join(errs...)
}

// env is the environment of one phase: the shared store and Redis, the
// phase's own database and data dir, and whatever the phase adds.
func (b *backend) env(database string, extra map[string]string) map[string]string {
	e := map[string]string{
		"HOMETIME_DATA_DIR":   filepath.Join(b.dir, database),
		"MONGODB_URI":         b.storeURI,
		"HOMETIME_DB":         database,
		"REDIS_URL":           b.redisURL,
		"HOMETIME_JWT_SECRET": benchSecret,
		"HOMETIME_LOG_LEVEL":  "error",
	}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

// openStack opens a stack on env, as a worker process would, and makes an
// embedded store's _id lookups work for its database (stack.Open does that
// only for a store it started itself). Child processes open the same
// database after the parent did, so they need no fix of their own.
func (b *backend) openStack(ctx context.Context, env map[string]string, log *slog.Logger) (*stack.Stack, error) {
	cfg, err := stack.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	cfg.StoreMonitor = b.counts.monitor()
	st, err := stack.Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	st.Redis.AddHook(redisHook{b.counts})
	if b.emb != nil {
		fctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := b.emb.Fix(fctx, st.Config.Database); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return st, nil
}

func openStack(ctx context.Context, getenv func(string) string, log *slog.Logger) (*stack.Stack, error) {
	cfg, err := stack.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	return stack.Open(ctx, cfg, log)
}

// freshPhase opens a stack on a database of its own, empties Redis (no
// task or rate-limit bucket of an earlier phase carries over) and writes
// the school.
func (b *backend) freshPhase(ctx context.Context, env map[string]string, log *slog.Logger) (*stack.Stack, error) {
	st, err := b.openStack(ctx, env, log)
	if err != nil {
		return nil, err
	}
	if err := st.Redis.FlushDB(ctx).Err(); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("flush redis: %w", err)
	}
	if err := seedSchool(ctx, st); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("seed school: %w", err)
	}
	return st, nil
}

var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))

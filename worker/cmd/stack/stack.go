package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/mongostore"
	"github.com/hometime-edu/hometime/content/mongostore/embedded"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/worker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Stack is the running infrastructure of one process.
type Stack struct {
	Config   Config
	Keys     Keys
	Store    *mongostore.Store
	Redis    redis.UniversalClient
	RedisOpt asynq.RedisConnOpt
	Queue    *asynq.Client
	Email    notify.EmailSender
	SMS      notify.SMSSender
	Push     notify.PushSender
	// Outbox is the local message record (every channel without a
	// provider writes there); erasures reach it.
	Outbox  *outbox.Outbox
	Catalog *notify.Catalog
	// Providers names the provider behind each channel (metrics labels).
	Providers worker.Providers
	// Registry holds this process's Prometheus series: the API's and the
	// worker's when both run here (dev mode).
	Registry *prometheus.Registry

	closers     []func() error
	messagesOne sync.Once
	messages    *worker.MessageMetrics
}

// messageMetrics registers the worker's message counters once per process.
func (st *Stack) messageMetrics() *worker.MessageMetrics {
	st.messagesOne.Do(func() { st.messages = worker.NewMessageMetrics(st.Registry) })
	return st.messages
}

// Open starts or connects to everything Config names. On error, whatever
// was started is stopped again.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (st *Stack, err error) {
	st = &Stack{Config: cfg, Registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			_ = st.Close()
			st = nil
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return st, fmt.Errorf("HOMETIME_DATA_DIR %s: %w", cfg.DataDir, err)
	}
	secret := []byte(cfg.JWTSecret)
	if len(secret) == 0 {
		if secret, err = devSecret(cfg.DataDir); err != nil {
			return st, err
		}
	}
	st.Keys = deriveKeys(secret)

	if err := st.openStore(ctx, log); err != nil {
		return st, err
	}
	if err := st.openRedis(log); err != nil {
		return st, err
	}
	st.Queue = asynq.NewClientFromRedisClient(st.Redis)
	st.Catalog, err = notify.NewCatalog()
	if err != nil {
		return st, fmt.Errorf("message templates: %w", err)
	}
	if err := st.openSenders(ctx, log); err != nil {
		return st, err
	}
	return st, nil
}

func (st *Stack) openStore(ctx context.Context, log *slog.Logger) error {
	cfg := st.Config
	uri := cfg.MongoURI
	var emb *embedded.Store
	if uri == "" {
		var err error
		emb, err = embedded.Start(ctx, filepath.Join(cfg.DataDir, "store"), log.With("component", "ferretdb"))
		if err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
		st.closers = append(st.closers, emb.Close)
		uri = emb.URI()
		log.Info("using the embedded document store (FerretDB on SQLite)", "dir", filepath.Join(cfg.DataDir, "store"))
	}
	client, err := mongostore.Connect(ctx, uri)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, func() error { return client.Disconnect(context.Background()) })
	st.Store = mongostore.New(client.Database(cfg.Database), cfg.StoreTimeout)
	if emb != nil {
		reads, err := mongostore.Connect(ctx, emb.ReadURI())
		if err != nil {
			return err
		}
		st.closers = append(st.closers, func() error { return reads.Disconnect(context.Background()) })
		st.Store.ReadFrom(reads.Database(cfg.Database))
	}
	if err := st.Store.Init(ctx); err != nil {
		return err
	}
	if emb != nil {
		// After every collection exists: FerretDB's _id lookups need it.
		if err := emb.Fix(ctx, cfg.Database); err != nil {
			return err
		}
	}
	return nil
}

func (st *Stack) openRedis(log *slog.Logger) error {
	url := st.Config.RedisURL
	if url == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		st.closers = append(st.closers, func() error { mr.Close(); return nil })
		url = "redis://" + mr.Addr()
		log.Warn("the queue is embedded and IN MEMORY: queued tasks are lost when this process stops; set REDIS_URL for a real Redis")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	st.closers = append(st.closers, rdb.Close)
	st.Redis = rdb
	st.RedisOpt = asynq.RedisClientOpt{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB, TLSConfig: opt.TLSConfig}
	return nil
}

// Ready pings the store and Redis.
func (st *Stack) Ready(ctx context.Context) error {
	if err := st.Store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := st.Redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Close stops everything in reverse order of starting.
func (st *Stack) Close() error {
	var errs []error
	for i := len(st.closers) - 1; i >= 0; i-- {
		if err := st.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	st.closers = nil
	return errors.Join(errs...)
}

// devSecret keeps a generated secret in the data dir so sessions survive a
// restart of the dev server.
func devSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, "secret.key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	s := content.NewSecret()
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write dev secret: %w", err)
	}
	return []byte(s), nil
}

// MongoClient exposes the driver client (benchmarks use it for the store reference).
func (st *Stack) MongoClient() *mongo.Client { return st.Store.Database().Client() }

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
	if !cfg.Production() {
		// Production keeps nothing on local disk: no embedded store, no
		// generated secret, no outbox.
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return st, fmt.Errorf("HOMETIME_DATA_DIR %s: %w", cfg.DataDir, err)
		}
	}
	jwtSecret, hashSecret, err := secrets(cfg)
	if err != nil {
		return st, err
	}
	st.Keys = deriveKeys(jwtSecret, hashSecret)
	log.Info("keys", "hash_key", st.Keys.HashID)

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
	client, err := mongostore.Connect(ctx, uri, cfg.StoreMonitor)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, func() error { return client.Disconnect(context.Background()) })
	st.Store = mongostore.New(client.Database(cfg.Database), cfg.StoreTimeout)
	if emb != nil {
		reads, err := mongostore.Connect(ctx, emb.ReadURI(), cfg.StoreMonitor)
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
	target := st.Config.Redis
	if !target.Configured() {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		st.closers = append(st.closers, func() error { mr.Close(); return nil })
		target = RedisTarget{URL: "redis://" + mr.Addr()}
		log.Warn("the queue is embedded and IN MEMORY: queued tasks are lost when this process stops; set REDIS_URL for a real Redis")
	}
	rdb, err := NewRedisClient(target)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, rdb.Close)
	st.Redis = rdb
	if st.RedisOpt, err = target.ConnOpt(); err != nil {
		return err
	}
	if target.Sentinel() {
		log.Info("redis through sentinels", "redis", target.String())
	}
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

// secrets returns the JWT and hash secrets: from the environment, and in
// development from files in the data dir where the environment has none.
// A development data dir made before the hash secret existed holds only
// secret.key, under which its suppressions, codes and tokens were hashed;
// its hash.key starts as a copy of secret.key, so they keep matching, and
// from then on secret.key can be replaced without losing them. A HOMETIME_
// JWT_SECRET given without HOMETIME_HASH_SECRET keys the hashes too, as it
// always did (production requires both, so never there).
func secrets(cfg Config) (jwt, hash []byte, err error) {
	if cfg.Production() {
		if cfg.JWTSecret == "" || cfg.HashSecret == "" {
			return nil, nil, errors.New("HOMETIME_JWT_SECRET and HOMETIME_HASH_SECRET: required when HOMETIME_ENV=production")
		}
		return []byte(cfg.JWTSecret), []byte(cfg.HashSecret), nil
	}
	existed := false
	jwt = []byte(cfg.JWTSecret)
	if len(jwt) == 0 {
		if jwt, existed, err = devSecret(filepath.Join(cfg.DataDir, "secret.key"), ""); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case cfg.HashSecret != "":
		hash = []byte(cfg.HashSecret)
	case cfg.JWTSecret != "":
		hash = jwt
	default:
		inherit := ""
		if existed {
			inherit = string(jwt)
		}
		if hash, _, err = devSecret(filepath.Join(cfg.DataDir, "hash.key"), inherit); err != nil {
			return nil, nil, err
		}
	}
	return jwt, hash, nil
}

// devSecret reads a secret kept in the data dir, so sessions and hashes
// survive a restart of the dev server. A missing file is created holding
// initial, or a new random secret when initial is empty; existed says
// whether the file was already there.
func devSecret(path, initial string) (secret []byte, existed bool, err error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), true, nil
	}
	s := initial
	if s == "" {
		s = content.NewSecret()
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("write dev secret %s: %w", filepath.Base(path), err)
	}
	return []byte(s), false, nil
}

// MongoClient exposes the driver client (benchmarks use it for the store reference).
func (st *Stack) MongoClient() *mongo.Client { return st.Store.Database().Client() }

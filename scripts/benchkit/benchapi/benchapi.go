// Package benchapi serves the API for a benchmark from the benchmark's own
// process, on the wiring api/cmd/api uses (stack.LoadConfig, stack.Open,
// Stack.APIApp), with settings fit for load (throttles out of the way,
// error-level logs to nowhere).
package benchapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/cmd/stack"
)

// Server is the API under test.
type Server struct {
	Stack     *stack.Stack
	BaseURL   string
	StoreKind string // what the store is, for the bench's progress lines
	RedisKind string

	app     *fiber.App
	dataDir string
	served  chan error
	dropDB  bool // a throwaway database on a real MongoDB, dropped at the end
}

// Env is what a benchmark sets whatever the environment says: its
// own data dir, throttles high enough for thousands of sign-ins from one
// address, and error-level logs (to io.Discard anyway) so logging does not
// dominate the cost being measured.
func Env(dataDir string, getenv func(string) string) func(string) string {
	set := map[string]string{
		"HOMETIME_DATA_DIR":              dataDir,
		"HOMETIME_HTTP_ADDR":             "127.0.0.1:0",
		"HOMETIME_LOG_LEVEL":             "error",
		"HOMETIME_AUTH_CALLS_PER_IP":     "100000",
		"HOMETIME_LOGIN_FAILURES_PER_IP": "100000",
		// A fresh secret: needed when MONGODB_URI and REDIS_URL are both
		// set, and tokens of this run should verify nowhere else.
		"HOMETIME_JWT_SECRET": content.NewSecret(),
	}
	if getenv("MONGODB_URI") != "" {
		// Never seed into a database someone uses.
		set["HOMETIME_DB"] = fmt.Sprintf("hometime_bench_%d", time.Now().UnixNano())
	}
	return func(k string) string {
		if v, ok := set[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// Start serves the API on a free loopback port, with a data dir of its own
// named after the bench.
func Start(ctx context.Context, bench string, getenv func(string) string) (_ *Server, err error) {
	dir, err := os.MkdirTemp("", "hometime-bench-"+bench+"-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s := &Server{dataDir: dir, StoreKind: "embedded FerretDB", RedisKind: "embedded miniredis"}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
		}
	}()
	env := Env(dir, getenv)
	cfg, err := stack.LoadConfig(env)
	if err != nil {
		return s, err
	}
	if cfg.MongoURI != "" {
		s.StoreKind, s.dropDB = "MONGODB_URI database "+cfg.Database, true
	}
	if cfg.Redis.Configured() {
		s.RedisKind = "REDIS_URL"
	}
	log := stack.NewLogger(io.Discard, cfg.LogLevel)
	if s.Stack, err = stack.Open(ctx, cfg, log); err != nil {
		return s, err
	}
	if s.app, err = s.Stack.APIApp(log, nil); err != nil {
		return s, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return s, fmt.Errorf("listen: %w", err)
	}
	s.BaseURL = "http://" + ln.Addr().String()
	s.served = make(chan error, 1)
	go func() { s.served <- s.app.Listener(ln) }()
	return s, nil
}

// Close stops the server and the stack and removes the data dir.
func (s *Server) Close() error {
	var errs []error
	if s.app != nil {
		if err := s.app.ShutdownWithTimeout(10 * time.Second); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
		if s.served != nil {
			if err := <-s.served; err != nil {
				errs = append(errs, fmt.Errorf("serve: %w", err))
			}
		}
	}
	if s.Stack != nil {
		if s.dropDB {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.Stack.Store.Database().Drop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("drop %s: %w", s.Stack.Config.Database, err))
			}
			cancel()
		}
		errs = append(errs, s.Stack.Close())
	}
	errs = append(errs, os.RemoveAll(s.dataDir))
	return errors.Join(errs...)
}

package main

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

// apiServer is the API under test, served from this process on the wiring
// api/cmd/api uses (stack.LoadConfig, stack.Open, Stack.APIApp).
type apiServer struct {
	st        *stack.Stack
	app       *fiber.App
	baseURL   string
	storeKind string
	redisKind string
	dataDir   string
	served    chan error
	dropDB    bool // a throwaway database on a real MongoDB, dropped at the end
}

// benchEnv is what the benchmark sets whatever the environment says: its
// own data dir, throttles high enough for thousands of sign-ins from one
// address, and error-level logs (to io.Discard anyway) so logging does not
// dominate the cost being measured.
func benchEnv(dataDir string, getenv func(string) string) func(string) string {
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

func startAPI(ctx context.Context, getenv func(string) string) (_ *apiServer, err error) {
	dir, err := os.MkdirTemp("", "hometime-bench-feed-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s := &apiServer{dataDir: dir, storeKind: "embedded FerretDB", redisKind: "embedded miniredis"}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.close())
		}
	}()
	env := benchEnv(dir, getenv)
	cfg, err := stack.LoadConfig(env)
	if err != nil {
		return s, err
	}
	if cfg.MongoURI != "" {
		s.storeKind, s.dropDB = "MONGODB_URI database "+cfg.Database, true
	}
	if cfg.RedisURL != "" {
		s.redisKind = "REDIS_URL"
	}
	log := stack.NewLogger(io.Discard, cfg.LogLevel)
	if s.st, err = stack.Open(ctx, cfg, log); err != nil {
		return s, err
	}
	if s.app, err = s.st.APIApp(log, nil); err != nil {
		return s, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return s, fmt.Errorf("listen: %w", err)
	}
	s.baseURL = "http://" + ln.Addr().String()
	s.served = make(chan error, 1)
	go func() { s.served <- s.app.Listener(ln) }()
	return s, nil
}

// close stops the server and the stack and removes the data dir.
func (s *apiServer) close() error {
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
	if s.st != nil {
		if s.dropDB {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.st.Store.Database().Drop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("drop %s: %w", s.st.Config.Database, err))
			}
			cancel()
		}
		errs = append(errs, s.st.Close())
	}
	errs = append(errs, os.RemoveAll(s.dataDir))
	return errors.Join(errs...)
}

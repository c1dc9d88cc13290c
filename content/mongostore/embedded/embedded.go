// Package embedded runs FerretDB 1.24 on SQLite inside the process so that
// dev mode and tests need no MongoDB. It also owns the one fix FerretDB needs
// to serve a lone {_id: "…"} filter from an index (see Fix).
package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // already linked by FerretDB; used for the _id index fix
)

// sqliteParams: normal sync (WAL commits are not fsynced one by one) and a
// WAL cut back to 4 MiB after each checkpoint. Never mode=memory: it allows
// one connection, and the first update deadlocks.
const sqliteParams = "?_pragma=synchronous(normal)&_pragma=journal_size_limit(4194304)"

// Store is a running embedded FerretDB.
type Store struct {
	dir    string
	sock   string // folder of the Unix sockets
	uri    string
	direct string // FerretDB's own address, behind the relay
	relay  *writeSerializer
	cancel context.CancelFunc
	done   chan error
}

// Start serves the MongoDB wire protocol on a Unix socket, keeping one
// SQLite file per database under dir. Stop it with Close. FerretDB logs
// to log, its routine lines at debug (quietHandler).
//
// The sockets (FerretDB's own and the write serializer's in front of it)
// live in a short folder of their own under the system's temporary folder,
// since a socket path may not exceed 107 bytes. Every client of the store
// is on this machine; a Unix socket spares each of the many small wire
// round trips the loopback TCP stack.
func Start(ctx context.Context, dir string, log *slog.Logger) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded store dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store dir: %w", err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = slog.New(quietHandler{log.Handler()})
	sock, err := os.MkdirTemp("", "hometime-store-")
	if err != nil {
		return nil, fmt.Errorf("embedded store socket dir: %w", err)
	}
	upstream := filepath.Join(sock, "ferretdb.sock")
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: upstream},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/" + sqliteParams,
		Logger:    log,
	})
	if err != nil {
		_ = os.RemoveAll(sock)
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Store{dir: abs, sock: sock, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- f.Run(runCtx) }()
	fail := func(err error) (*Store, error) {
		cancel()
		_ = os.RemoveAll(sock)
		return nil, err
	}

	// The socket is there once the listener is bound.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(upstream); err == nil {
			break
		}
		select {
		case err := <-s.done:
			return fail(fmt.Errorf("embedded store stopped at start: %w", err))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fail(errors.New("embedded store did not start listening within 10s"))
		}
	}
	// Clients reach FerretDB only through the write serializer (serialize.go).
	s.direct = socketURI(upstream)
	if s.relay, err = startSerializer(filepath.Join(sock, "relay.sock"), upstream); err != nil {
		cancel()
		<-s.done
		_ = os.RemoveAll(sock)
		return nil, err
	}
	s.uri = socketURI(s.relay.Addr())
	return s, nil
}

// socketURI is the mongodb:// address of a Unix socket: the driver takes
// the socket's path, escaped, as the host.
func socketURI(path string) string {
	return "mongodb://" + url.PathEscape(path) + "/"
}

// URI is the mongodb:// address clients connect to.
func (s *Store) URI() string { return s.uri }

// ReadURI is FerretDB's own address, without the write serializer: for a
// client that only reads (mongostore.Store.ReadFrom). A write sent here
// would escape the serializer and could be lost to a concurrent one.
func (s *Store) ReadURI() string { return s.direct }

// Commands counts the wire commands every client has sent through the
// store since it started (driver heartbeats included), split into reads and
// writes. Benchmarks use it to count store round trips across processes.
func (s *Store) Commands() (reads, writes int64) {
	return s.relay.reads.Load(), s.relay.writeCount.Load()
}

// Close stops the server and waits for it to release the SQLite files.
func (s *Store) Close() error {
	rerr := s.relay.Close()
	s.cancel()
	err := <-s.done
	_ = os.RemoveAll(s.sock)
	if err == nil || errors.Is(err, context.Canceled) {
		return rerr
	}
	return err
}

// Fix adds the SQLite expression index that lets FerretDB answer
// {_id: "…"} without scanning: FerretDB filters on _ferretdb_sjson->'$._id'
// but indexes a different expression. It must run after every collection of
// the database exists; it is idempotent and cheap to repeat.
func (s *Store) Fix(ctx context.Context, database string) error {
	path := filepath.Join(s.dir, database+".sqlite")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("index fix: database file: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("index fix: open: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return fmt.Errorf("index fix: list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("index fix: scan: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("index fix: list tables: %w", err)
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"__id_expr", t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index fix: table %s: %w", t, err)
		}
	}
	return nil
}

// Dir is the folder holding the SQLite files.
func (s *Store) Dir() string { return s.dir }

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
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // already linked by FerretDB; used for the _id index fix
)

// sqliteParams are the settings PROVIDERS.md measured: normal sync, bounded WAL.
const sqliteParams = "?_pragma=synchronous(normal)&_pragma=journal_size_limit(4194304)"

// Store is a running embedded FerretDB.
type Store struct {
	dir    string
	uri    string
	direct string // FerretDB's own address, behind the relay
	relay  *writeSerializer
	cancel context.CancelFunc
	done   chan error
}

// Start serves the MongoDB wire protocol on a free loopback port, keeping one
// SQLite file per database under dir. Stop it with Close.
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
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/" + sqliteParams,
		Logger:    log,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Store{dir: abs, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- f.Run(runCtx) }()

	// MongoDBURI is only known once the listener is bound.
	deadline := time.Now().Add(10 * time.Second)
	for {
		uri := f.MongoDBURI()
		if !strings.Contains(uri, ":0/") && uri != "" {
			s.uri = uri
			break
		}
		select {
		case err := <-s.done:
			cancel()
			return nil, fmt.Errorf("embedded store stopped at start: %w", err)
		case <-ctx.Done():
			cancel()
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, errors.New("embedded store did not start listening within 10s")
		}
	}
	// Clients reach FerretDB only through the write serializer (serialize.go).
	u, err := url.Parse(s.uri)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("embedded store address %q: %w", s.uri, err)
	}
	s.direct = s.uri
	if s.relay, err = startSerializer(u.Host); err != nil {
		cancel()
		<-s.done
		return nil, err
	}
	u.Host = s.relay.Addr()
	s.uri = u.String()
	return s, nil
}

// URI is the mongodb:// address clients connect to.
func (s *Store) URI() string { return s.uri }

// ReadURI is FerretDB's own address, without the write serializer: for a
// client that only reads (mongostore.Store.ReadFrom). A write sent here
// would escape the serializer and could be lost to a concurrent one.
func (s *Store) ReadURI() string { return s.direct }

// Close stops the server and waits for it to release the SQLite files.
func (s *Store) Close() error {
	rerr := s.relay.Close()
	s.cancel()
	err := <-s.done
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

package embedded_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hometime-edu/hometime/content/mongostore/embedded"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// runStore starts a store logging at level, connects a client that runs
// one command that fails, disconnects it (the driver's endSessions, which
// FerretDB refuses) and closes the store; it returns what was logged.
func runStore(t *testing.T, level slog.Level) []map[string]any {
	t.Helper()
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})).With("component", "ferretdb")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := embedded.Start(ctx, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(st.URI()))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Database("logs").RunCommand(ctx, bson.D{{Key: "noSuchCommand", Value: 1}}).Err(); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if err := client.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.lines(t)
}

// At info, a store's whole life (start, a client's connection, a failed
// command, the disconnect and the close) logs nothing of FerretDB's: its
// connection lines and its dumps of failed replies are debug. At debug
// they are all there, one record each, the dumps' many lines included.
func TestStoreLogsQuietlyAtInfo(t *testing.T) {
	t.Parallel()
	for _, rec := range runStore(t, slog.LevelInfo) {
		t.Errorf("logged at info: %v", rec)
	}
	var connections, dumps int
	for _, rec := range runStore(t, slog.LevelDebug) {
		msg, _ := rec["msg"].(string)
		if strings.HasPrefix(msg, "Connection ") {
			connections++
		}
		if strings.HasPrefix(msg, "Response message:") && strings.Contains(msg, "\n") {
			dumps++
		}
		if rec["level"] != "DEBUG" && (strings.HasPrefix(msg, "Connection ") || strings.HasPrefix(msg, "Response ")) {
			t.Errorf("routine record at %v: %q", rec["level"], msg)
		}
		if rec["component"] != "ferretdb" {
			t.Errorf("record without its component: %v", rec)
		}
	}
	if connections == 0 || dumps == 0 {
		t.Fatalf("at debug: %d connection lines and %d reply dumps, want some of each", connections, dumps)
	}
}

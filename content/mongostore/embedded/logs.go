package embedded

import (
	"context"
	"log/slog"
	"strings"
)

// quietHandler passes FerretDB's log records on with its routine ones
// lowered to debug: its informational lines (listening, each client
// connection opened and closed, shutting the listener down) and its dump
// of every failed command's reply — a header line and a many-line
// document, logged as warnings, which the driver's endSessions at every
// disconnect provokes, and which can quote a document's values. The
// caller gets each command's error from the driver anyway. Other warnings
// and errors pass as they are.
type quietHandler struct{ next slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if routine(r) {
		if !h.next.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.next.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.next.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.next.WithGroup(name)}
}

// routine reports whether FerretDB's record is chatter rather than news:
// anything at info, and a reply dump ("Response header: …", "Response
// message:\n…", and the same for "Proxy response") at any level.
func routine(r slog.Record) bool {
	return r.Level == slog.LevelInfo ||
		strings.HasPrefix(r.Message, "Response ") || strings.HasPrefix(r.Message, "Proxy response ") ||
		strings.Contains(r.Message, "\n")
}

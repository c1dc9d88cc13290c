package stack

import (
	"io"
	"log/slog"
)

// NewLogger writes JSON lines at the configured level. What is logged is
// decided at each call site: IDs, codes and counts, never personal data.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

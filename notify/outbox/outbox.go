// Package outbox is a notify sender for development and demos: instead of
// calling Twilio, SendGrid or FCM it appends every message to JSON-lines
// files in a private directory and keeps the latest ones in memory, so a
// developer (or a test, or the demo) can read the invite code or reset link
// that would have been sent. It needs no credentials.
//
// The files and the in-memory list hold phone numbers, addresses and message
// bodies, exactly as a provider would receive them; logs never do.
package outbox

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hometime-edu/hometime/notify"
)

// The outbox stands in for every provider.
var (
	_ notify.SMSSender   = (*Outbox)(nil)
	_ notify.EmailSender = (*Outbox)(nil)
	_ notify.PushSender  = (*Outbox)(nil)
)

// DefaultKeep is how many recent messages stay in memory unless WithKeep
// says otherwise; the files keep everything.
const DefaultKeep = 200

// Only the owner may read what the outbox writes.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// Outbox records messages instead of sending them. It is safe for
// concurrent use, and several processes may share one directory: each
// message is appended with a single write to a file opened O_APPEND.
type Outbox struct {
	dir  string
	log  *slog.Logger
	now  func() time.Time
	keep int

	mu     sync.Mutex // orders file appends and guards recent
	recent []Record   // oldest first, at most keep
}

// Option changes an Outbox's defaults.
type Option func(*Outbox)

// WithClock sets the clock that stamps records (tests travel in time).
func WithClock(now func() time.Time) Option { return func(o *Outbox) { o.now = now } }

// WithKeep sets how many recent messages stay in memory (at least 1).
func WithKeep(n int) Option {
	return func(o *Outbox) { o.keep = max(n, 1) }
}

// New returns an outbox writing to dir, creating it with mode 0700 if
// needed. An existing directory that other users can read or enter is
// refused rather than silently used: the files hold contact details. A nil
// logger discards logs.
func New(dir string, logger *slog.Logger, opts ...Option) (*Outbox, error) {
	if dir == "" {
		return nil, fmt.Errorf("outbox: no directory given")
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("outbox: create %s: %w", dir, err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: stat %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("outbox: %s is not a directory", dir)
	}
	if perm := info.Mode().Perm(); perm&^dirMode != 0 {
		return nil, fmt.Errorf("outbox: %s has mode %#o; it holds contact details, use a directory only its owner can open (0700)", dir, perm)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{dir: dir, log: logger, now: time.Now, keep: DefaultKeep}
	for _, opt := range opts {
		opt(o)
	}
	return o, nil
}

// Path is the file that records messages of one channel, e.g. DIR/sms.jsonl.
func (o *Outbox) Path(ch notify.Channel) string {
	return filepath.Join(o.dir, string(ch)+".jsonl")
}

// Recent returns the most recently recorded messages, oldest first.
func (o *Outbox) Recent() []Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Record, len(o.recent))
	for i, r := range o.recent {
		out[i] = r.clone()
	}
	return out
}

// Last returns the most recent message on a channel to a phone number,
// email address or device token, e.g. to read the invite code a parent was
// sent.
func (o *Outbox) Last(ch notify.Channel, to string) (Record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range slices.Backward(o.recent) {
		if r.Channel == ch && r.To == to {
			return r.clone(), true
		}
	}
	return Record{}, false
}

// remember adds records to the bounded in-memory list; o.mu must be held.
func (o *Outbox) remember(recs ...Record) {
	o.recent = append(o.recent, recs...)
	if extra := len(o.recent) - o.keep; extra > 0 {
		o.recent = slices.Delete(o.recent, 0, extra)
	}
}

// appendLines writes lines to the channel's file in one write; o.mu must be
// held.
func (o *Outbox) appendLines(ch notify.Channel, lines []byte) error {
	f, err := os.OpenFile(o.Path(ch), os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("open %s outbox: %w", ch, err)
	}
	if _, err := f.Write(lines); err != nil {
		f.Close()
		return fmt.Errorf("append to %s outbox: %w", ch, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s outbox: %w", ch, err)
	}
	return nil
}

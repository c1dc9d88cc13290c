package outbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/hometime-edu/hometime/notify"
)

// Forget removes every recorded message addressed to one of recipients
// (phone numbers, email addresses, device tokens) or quoting one in its
// text, from the channel files and from the in-memory list, and reports
// how many it removed. It is how an erasure reaches the outbox: the files
// hold what a provider would have received, so a parent's erasure must
// take their messages with it. A second call finds nothing to remove.
//
// Each file is rewritten to a temporary file in the same directory and
// renamed over the original. Within this process the outbox's lock keeps
// appends out meanwhile; another process appending to the same directory
// at that moment could lose its line (the outbox is a development adapter).
func (o *Outbox) Forget(ctx context.Context, recipients []string) (int64, error) {
	var match [][]byte
	for _, r := range recipients {
		if r != "" {
			match = append(match, []byte(r))
		}
	}
	if len(match) == 0 {
		return 0, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int64
	for _, ch := range []notify.Channel{notify.ChannelSMS, notify.ChannelEmail, notify.ChannelPush} {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := o.forgetIn(ch, match)
		n += m
		if err != nil {
			return n, err
		}
	}
	o.recent = slices.DeleteFunc(o.recent, func(r Record) bool {
		line, _ := json.Marshal(r)
		return mentions(line, match)
	})
	return n, nil
}

// mentions reports whether a recorded line names any of match. Lines are
// JSON, so a value is searched for as JSON would write it too.
func mentions(line []byte, match [][]byte) bool {
	for _, m := range match {
		if bytes.Contains(line, m) {
			return true
		}
		if enc, err := json.Marshal(string(m)); err == nil && bytes.Contains(line, enc[1:len(enc)-1]) {
			return true
		}
	}
	return false
}

// forgetIn rewrites one channel's file without the lines naming match;
// o.mu must be held.
func (o *Outbox) forgetIn(ch notify.Channel, match [][]byte) (int64, error) {
	path := o.Path(ch)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("read %s outbox: %w", ch, err)
	}
	var kept bytes.Buffer
	var n int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		line := sc.Bytes()
		if mentions(line, match) {
			n++
			continue
		}
		kept.Write(line)
		kept.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s outbox: %w", ch, err)
	}
	if n == 0 {
		return 0, nil
	}
	tmp, err := os.CreateTemp(o.dir, "."+string(ch)+"-*.tmp")
	if err != nil {
		return 0, fmt.Errorf("rewrite %s outbox: %w", ch, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(fileMode); err == nil {
		_, err = tmp.Write(kept.Bytes())
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			return 0, fmt.Errorf("rewrite %s outbox: %w", ch, err)
		}
	} else {
		tmp.Close()
		return 0, fmt.Errorf("rewrite %s outbox: %w", ch, err)
	}
	return n, nil
}

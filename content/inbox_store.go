package content

import (
	"context"
	"strings"
	"time"
)

// Read-via values of an inbox item.
const (
	ReadViaApp  = "app"  // opened in the inbox
	ReadViaPush = "push" // the push that announced it was opened
)

// InboxCursor is a place in a parent's inbox, which runs newest first: the
// item last shown (creation time, then source id, so ties cannot repeat or
// skip an item). The zero value is the top of the inbox.
type InboxCursor struct {
	CreatedAt time.Time
	SourceID  string
}

// IsZero reports whether the cursor is the top of the inbox.
func (c InboxCursor) IsZero() bool { return c.SourceID == "" }

// InboxPage is one page of a parent's inbox.
type InboxPage struct {
	Items  []*InboxItem
	Next   InboxCursor // zero when there is no more
	Unread int         // unread items in the whole inbox
}

// InboxReads is who read one source (an announcement) and the classes each
// recipient's item was about, for staff counts.
type InboxReads struct {
	SourceID string
	// Classes maps each recipient parent to the classes of their item.
	Classes map[string][]string
	// Read maps each parent who read it to how ("app" or "push").
	Read map[string]string
}

// Inbox is the parents' inboxes: the items written through InboxWriter,
// listed and opened by their parent only.
type Inbox interface {
	InboxWriter
	// InboxPage lists parentID's items from the given schools (all, when
	// schools is nil) newest first, after the cursor; Unread counts the
	// same items.
	InboxPage(ctx context.Context, parentID string, schools []string, after InboxCursor, limit int) (*InboxPage, error)
	// InboxItem reads one item by id (CodeNotFound if absent).
	InboxItem(ctx context.Context, id string) (*InboxItem, error)
	// MarkInboxRead records the first read of an item: later reads keep
	// the first time and way. It answers the item as it stands.
	MarkInboxRead(ctx context.Context, id, via string, at time.Time) (*InboxItem, error)
	// InboxReads reads who received and who read a source.
	InboxReads(ctx context.Context, sourceID string) (*InboxReads, error)
}

// SplitInboxItemID reverses InboxItemID.
func SplitInboxItemID(id string) (parentID, sourceID string, ok bool) {
	p, s, ok := strings.Cut(id, ":")
	if !ok || p == "" || s == "" || strings.ContainsAny(s, ".$") {
		return "", "", false
	}
	return p, s, true
}

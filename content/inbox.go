package content

import (
	"context"
	"time"
)

// InboxKind is what an inbox item points at.
type InboxKind string

const (
	InboxAnnouncement InboxKind = "announcement" // a school announcement
	InboxConversation InboxKind = "conversation" // a thread with the class teacher
)

// InboxItem is one thing a parent received, as their inbox lists it: the
// title is already in the parent's language, so listing the inbox never
// reads the announcement or thread it points at.
type InboxItem struct {
	ID        string // InboxItemID(ParentID, SourceID)
	ParentID  string
	SchoolID  string
	Kind      InboxKind
	SourceID  string   // announcement id or conversation id
	Title     string   // in the parent's language
	Language  string   // the language Title is in
	ChildIDs  []string // the parent's children the item is about (for counts by class)
	ClassIDs  []string
	Urgent    bool
	CreatedAt time.Time
	ReadAt    time.Time // zero while unread
	ReadVia   string    // "app" (opened in the inbox) or "push" (push opened)
}

// InboxItemID is the deterministic id of a parent's item for a source, so
// writing the same item twice (a re-run expansion) is a no-op.
func InboxItemID(parentID, sourceID string) string { return parentID + ":" + sourceID }

// InboxWriter adds items to parents' inboxes. Adding an item whose id is
// already there changes nothing (its read state is kept), so callers may
// add again after a crash. Announcement expansion and conversations write
// through it; the inbox store implements it.
type InboxWriter interface {
	AddToInbox(ctx context.Context, items []*InboxItem) error
}

package content

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A conversation is a thread between one parent and the staff of a class
// about one child. It is stored as one document holding its messages, so
// opening a thread, appending a message and marking it read are each one
// operation by _id.

// ConversationState says whether a thread takes new messages.
type ConversationState string

const (
	ConversationOpen   ConversationState = "open"
	ConversationClosed ConversationState = "closed"
)

// Message authors and the ways a message arrives.
const (
	AuthorParent = "parent"
	AuthorStaff  = "staff"

	ViaApp = "app"
	ViaSMS = "sms"
)

// MaxMessageBody is the longest message, in characters: a long note fits,
// and as an SMS it is at most about ten segments.
const MaxMessageBody = 1000

// MaxConversationMessages bounds one thread's document; a parent's text to
// a full thread starts a new one, an app post is refused.
const MaxConversationMessages = 500

// Conversation is one thread, with its messages oldest first.
type Conversation struct {
	ID       string
	SchoolID string
	ClassID  string
	ChildID  string
	ParentID string
	// StaffIDs are the thread's staff: the class's teachers when it
	// started, the staff member who started it, and anyone who replied.
	StaffIDs []string
	State    ConversationState
	// BySMS marks a thread a parent's text started or wrote in: staff
	// replies to a parent without the app go back by SMS.
	BySMS     bool
	CreatedAt time.Time
	// LastAt is the time of the newest message; LastParentAt of the newest
	// from the parent. AwaitingReply is true while the newest message is
	// the parent's (the daily digest lists those).
	LastAt        time.Time
	LastParentAt  time.Time
	AwaitingReply bool
	// ParentUnread is true while the parent has not opened the thread since
	// the last staff message; UnreadBy lists the thread's staff who have
	// not opened it since the last parent message.
	ParentUnread bool
	UnreadBy     []string
	Messages     []ConversationMessage // empty when listed (not loaded)
	MessageCount int
}

// ConversationMessage is one message. A deleted message keeps its place
// (and its author) but not its body.
type ConversationMessage struct {
	ID         string
	AuthorKind string // AuthorParent | AuthorStaff
	AuthorID   string
	Body       string
	Via        string // ViaApp | ViaSMS
	CreatedAt  time.Time
	DeletedAt  time.Time
}

// Deleted reports whether the author deleted the message.
func (m ConversationMessage) Deleted() bool { return !m.DeletedAt.IsZero() }

// UnreadFor reports whether the thread is unread for staff member staffID:
// a participant until they open it after the parent's last message; any
// other staff member (an admin looking in) while it awaits a reply.
func (c *Conversation) UnreadFor(staffID string) bool {
	if slices.Contains(c.StaffIDs, staffID) {
		return slices.Contains(c.UnreadBy, staffID)
	}
	return c.AwaitingReply
}

// Message finds a message by id.
func (c *Conversation) Message(id string) (ConversationMessage, bool) {
	for _, m := range c.Messages {
		if m.ID == id {
			return m, true
		}
	}
	return ConversationMessage{}, false
}

// CleanMessageBody trims a message body and checks it: 1 to
// MaxMessageBody characters of plain text (line breaks allowed).
func CleanMessageBody(body string) (string, bool) {
	body = strings.TrimSpace(body)
	n := utf8.RuneCountInString(body)
	if n == 0 || n > MaxMessageBody || !utf8.ValidString(body) {
		return "", false
	}
	if strings.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return "", false
	}
	return body, true
}

// ConversationFilter narrows a school's threads for the staff inbox.
type ConversationFilter struct {
	ClassID string
	// StaffID, with ClassIDs, limits the list to threads a teacher may
	// see: their classes' threads and threads they are in. Empty for an
	// admin.
	StaffID  string
	ClassIDs []string
}

// Conversations stores threads.
type Conversations interface {
	// CreateConversation stores a new thread with its first message.
	// CodeConflict if the id exists (an idempotent retry reads it back).
	CreateConversation(ctx context.Context, c *Conversation) error
	// Conversation reads a thread with its messages.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// AppendMessage adds m to the thread and updates its read state: a
	// parent message makes it unread for the thread's staff, a staff one
	// for the parent (and adds the author to the thread's staff). A
	// message whose id is already there changes nothing (a retried
	// inbound text). CodeConflict when the thread is full or closed.
	AppendMessage(ctx context.Context, conversationID string, m ConversationMessage) (*Conversation, error)
	// DeleteMessageBody removes a message's body, keeping its place.
	DeleteMessageBody(ctx context.Context, conversationID, messageID string, at time.Time) error
	// MarkConversationRead marks the thread read by the parent (staffID
	// "") or by one staff member.
	MarkConversationRead(ctx context.Context, conversationID, staffID string) error
	// ConversationsOfParent lists a parent's threads, newest first,
	// without messages. (A scan by parent: a parent has a handful.)
	ConversationsOfParent(ctx context.Context, parentID string) ([]*Conversation, error)
	// ConversationsOfSchool lists a school's threads newest first, without
	// messages, narrowed by f. (A scan of the school's threads: the staff
	// inbox is read by people, not on a hot path.)
	ConversationsOfSchool(ctx context.Context, schoolID string, f ConversationFilter) ([]*Conversation, error)
	// AwaitingReplySince lists every school's threads whose newest message
	// is the parent's and older than before (the daily digest's scan).
	AwaitingReplySince(ctx context.Context, before time.Time) ([]*Conversation, error)
	// StaffUnreadCount counts the threads staffID has unread across
	// schools: one read by _id per school.
	StaffUnreadCount(ctx context.Context, staffID string, schoolIDs []string) (int, error)
	// ParentsByPhone lists the parents whose mobile is e164, for a text
	// a parent sends.
	ParentsByPhone(ctx context.Context, e164 string) ([]string, error)
	// CountUnknownInbound counts a text from a number no parent has, by
	// day ("2026-11-02"); nothing of the number is kept.
	CountUnknownInbound(ctx context.Context, day string) error
}

// ConversationMessageID is the id of the message an inbound text becomes:
// derived from the provider's id, so Twilio's retries store one message.
func ConversationMessageID(providerID string) string { return "msg_sms_" + providerID }

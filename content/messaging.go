package content

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MessageState is where one message to one recipient on one channel is.
//
// States are stored as ranks that only ever rise (the store applies them
// with $max), so results and provider webhooks arriving late, twice or out
// of order can never move a message backwards. "sending" is not stored: an
// entry is sending while it is claimed and below RankUnknown.
type MessageState string

const (
	StatePending    MessageState = "pending"
	StateDeferred   MessageState = "deferred"   // quiet hours: claimable again at NotBefore
	StateSending    MessageState = "sending"    // claimed, no outcome yet
	StateUnknown    MessageState = "unknown"    // the provider may have it; never blindly resent
	StateSent       MessageState = "sent"       // accepted by the provider
	StateDelivered  MessageState = "delivered"  // confirmed by the provider
	StateRead       MessageState = "read"       // the app reported the push opened
	StateFailed     MessageState = "failed"     // refused or undeliverable
	StateSuppressed MessageState = "suppressed" // not sent: opted out, closed, or policy
)

// MessageStates lists every message state, from first to last.
var MessageStates = []MessageState{
	StatePending, StateDeferred, StateSending, StateUnknown, StateSent,
	StateDelivered, StateRead, StateFailed, StateSuppressed,
}

// Ranks of the stored states. Gaps leave room for states added later.
const (
	RankPending    = 0
	RankDeferred   = 10
	RankUnknown    = 30 // from here on an entry is never claimed again
	RankSent       = 40
	RankDelivered  = 50
	RankRead       = 55
	RankFailed     = 60
	RankSuppressed = 70
)

var rankOf = map[MessageState]int{
	StatePending: RankPending, StateDeferred: RankDeferred, StateUnknown: RankUnknown, StateSent: RankSent,
	StateDelivered: RankDelivered, StateRead: RankRead, StateFailed: RankFailed, StateSuppressed: RankSuppressed,
}

// Rank is the stored rank of a state; "sending" has none (it is derived).
func (s MessageState) Rank() (int, bool) {
	r, ok := rankOf[s]
	return r, ok
}

// Settled reports whether an entry in this state is never claimed again.
func (s MessageState) Settled() bool {
	r, ok := rankOf[s]
	return ok && r >= RankUnknown
}

// BroadcastState is the progress of a broadcast as a whole.
type BroadcastState string

const (
	BroadcastExpanding BroadcastState = "expanding" // recipients being written into ledger pages
	BroadcastSending   BroadcastState = "sending"   // every page written; sends in progress
	BroadcastDone      BroadcastState = "done"      // every entry settled
)

// BroadcastStates lists every broadcast state, in order.
var BroadcastStates = []BroadcastState{BroadcastExpanding, BroadcastSending, BroadcastDone}

// Audience says who a broadcast is for. IDs only.
type Audience struct {
	AllParents bool     // every linked parent at the school
	ClassIDs   []string // parents of children in these classes
	ParentIDs  []string // these parents
}

// Broadcast is one message (a template with parameters) to many parents.
// It expands into ledger pages: one entry per recipient and channel.
type Broadcast struct {
	ID             string
	SchoolID       string
	CreatedBy      string // staff id
	Template       string // notify template name
	Category       string // preference category: activities, replies, awards, news, account
	Params         map[string]string
	Urgent         bool // bypasses quiet hours (audited)
	Important      bool // an unread push falls back to SMS
	Audience       Audience
	State          BroadcastState
	Pages          int
	Recipients     int
	IdempotencyKey string
	CreatedAt      time.Time
}

// BroadcastCursor is a place in a school's message log, which runs newest
// first: the broadcast last shown. Creation time and id together, so the
// place holds while new broadcasts arrive and ties on time cannot repeat
// or skip a row. The zero value is the start of the log.
type BroadcastCursor struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether the cursor is the start of the log.
func (c BroadcastCursor) IsZero() bool { return c.ID == "" }

// CursorAfter is the cursor that continues the log after b.
func CursorAfter(b *Broadcast) BroadcastCursor {
	return BroadcastCursor{CreatedAt: b.CreatedAt, ID: b.ID}
}

// LedgerPageSize is how many entries one ledger document holds: large
// enough that a claim or a result write covers many messages, small enough
// that a page document stays a few kilobytes.
const LedgerPageSize = 100

// LedgerPage is one document of a broadcast's ledger. Every state change of
// its entries is a single-document update by _id.
type LedgerPage struct {
	ID          string
	BroadcastID string
	SchoolID    string
	N           int
	// Fallback marks a page of SMS sent because pushes of an important
	// broadcast went unread (FallbackPageID); quiet hours always hold it.
	Fallback  bool
	Entries   []LedgerEntry
	CreatedAt time.Time
	// SnapshotAt is the wall-clock time before the expansion read the
	// recipients whose snapshots the page holds (zero: none): a sender
	// reads again the parents ParentChanges marks changed since.
	SnapshotAt time.Time
}

// LedgerEntry is what is owed to one recipient on one channel, and what
// happened to it.
type LedgerEntry struct {
	RecipientID string // parent id
	Channel     string // "sms" | "email" | "push"
	Rank        int    // stored state rank (see MessageState)
	Claims      int    // claims ever made; Claims > Released means held
	Released    int    // claim number last handed back (deferral)
	ClaimedAt   time.Time
	NotBefore   time.Time // a deferred entry waits until then
	ProviderID  string
	Segments    int
	CostPence   int64
	ErrorCode   string
	UpdatedAt   time.Time
	// Snapshot is what the sender needs of the recipient, as the expansion
	// read it (SMS entries only; nil on others and once the entry settled).
	Snapshot *RecipientSnapshot
}

// RecipientSnapshot is the part of a parent's record an SMS is sent on:
// account state, contact, message language and the links to children at
// the broadcast's school. The expansion writes it into the ledger entry,
// so a send needs no lookup of the parent; what may change after that
// (closure, erasure, unlink, language, number) is caught at send time by
// ParentChanges, and a parent changed since the snapshot is read again.
// It holds personal data: the store drops it when the entry settles.
type RecipientSnapshot struct {
	State    ParentState
	Phone    string
	Email    string
	Language string // the message language for the broadcast's category
	Children []SnapshotLink
}

// SnapshotLink is a link to a child at the broadcast's school.
type SnapshotLink struct {
	ChildID   string
	FirstName string
	State     LinkState
}

// SnapshotOf takes the snapshot of p for a broadcast of schoolID in category.
func SnapshotOf(p *Parent, schoolID, category string) *RecipientSnapshot {
	s := &RecipientSnapshot{State: p.State, Phone: p.Phone, Email: p.Email, Language: p.MessageLanguage(category)}
	for _, c := range p.Children {
		if c.SchoolID == schoolID {
			s.Children = append(s.Children, SnapshotLink{ChildID: c.ChildID, FirstName: c.FirstName, State: c.State})
		}
	}
	return s
}

// Parent rebuilds the parent the snapshot was taken of, with what the
// send-time policy reads: its language is the message language already
// resolved, and its links are those at schoolID.
func (s *RecipientSnapshot) Parent(id, schoolID string) *Parent {
	p := &Parent{ID: id, State: s.State, Phone: s.Phone, Email: s.Email, Language: s.Language}
	for _, c := range s.Children {
		p.Children = append(p.Children, ChildLink{ChildID: c.ChildID, SchoolID: schoolID, FirstName: c.FirstName, State: c.State})
	}
	return p
}

// ParentChanges tells a sender which parents changed, since a snapshot was
// taken, in ways that matter to a message: state, contact, language,
// preferences or links to children. Every store write of those marks the
// parent under each school it is linked to.
type ParentChanges interface {
	// ParentsChangedSince reads the school's marks of changes at or after
	// since: the parent ids changed then, or all=true when the marks
	// cannot say (a bulk change, or marks older than are kept), in which
	// case every snapshot taken before now is to be read again.
	ParentsChangedSince(ctx context.Context, schoolID string, since time.Time) (ids map[string]bool, all bool, err error)
}

// Held reports whether a claim on the entry is outstanding.
func (e LedgerEntry) Held() bool { return e.Claims > e.Released }

// State derives the entry's state from its rank and claims.
func (e LedgerEntry) State() MessageState {
	if e.Rank < RankUnknown && e.Held() {
		return StateSending
	}
	for s, r := range rankOf {
		if r == e.Rank {
			return s
		}
	}
	return StatePending
}

// Claimable reports whether a worker may claim the entry at now.
func (e LedgerEntry) Claimable(now time.Time) bool {
	return e.Rank < RankUnknown && !e.Held() && !now.Before(e.NotBefore)
}

// EntryID is the deterministic id of a message: broadcast, recipient, channel.
func EntryID(broadcastID, recipientID, channel string) string {
	return broadcastID + ":" + recipientID + ":" + channel
}

// LedgerPageID is the id of page n of a broadcast (zero-padded so ids sort).
func LedgerPageID(broadcastID string, n int) string {
	return fmt.Sprintf("%s:p%05d", broadcastID, n)
}

// FallbackPageID is the id of the page of SMS that falls back for the
// unread pushes of page n of an important broadcast: one per push page, so
// writing it twice is a no-op.
func FallbackPageID(broadcastID string, n int) string {
	return fmt.Sprintf("%s:f%05d", broadcastID, n)
}

// EntryOutcome is the result of one claimed entry, written in one batch.
type EntryOutcome struct {
	Index      int
	Claim      int // the claim number this worker holds
	State      MessageState
	Release    bool      // hand the claim back (deferral); State should be deferred
	NotBefore  time.Time // with Release
	ProviderID string
	Segments   int
	CostPence  int64
	ErrorCode  string
}

// EntryRef addresses one ledger entry in provider metadata (SendGrid
// custom_args, the Twilio status-callback URL), so a delivery webhook finds
// its entry without a lookup. It is made of IDs only.
func EntryRef(pageID string, index int) string { return fmt.Sprintf("%s/%d", pageID, index) }

// ParseEntryRef reverses EntryRef.
func ParseEntryRef(ref string) (pageID string, index int, err error) {
	i := strings.LastIndexByte(ref, '/')
	if i <= 0 {
		return "", 0, Errorf(CodeInvalid, "not an entry reference")
	}
	n, err := strconv.Atoi(ref[i+1:])
	if err != nil || n < 0 || n >= LedgerPageSize {
		return "", 0, Errorf(CodeInvalid, "not an entry reference")
	}
	return ref[:i], n, nil
}

// Budgets counts each school's SMS spend per calendar month, so a send
// can be refused before it would take the school past its budget.
type Budgets interface {
	// AddSMSSpend adds pence (negative to refund) to the school's spend for
	// month ("2026-11") and returns the new total, atomically.
	AddSMSSpend(ctx context.Context, schoolID, month string, pence int64) (int64, error)
	// RecordSMSRefused counts n messages refused in month because they
	// would have taken the school past its budget, and notes the latest
	// refusal time (an earlier at never moves it back).
	RecordSMSRefused(ctx context.Context, schoolID, month string, n int, at time.Time) error
	// SMSBudgetMonth reads a school's spend and refusals for month; a month
	// with neither is all zero values, not an error.
	SMSBudgetMonth(ctx context.Context, schoolID, month string) (BudgetMonth, error)
}

// BudgetMonth is one school's SMS spend and refusals in one calendar month
// (school-local, "2026-11").
type BudgetMonth struct {
	SchoolID        string
	Month           string
	SpentPence      int64
	RefusedMessages int64
	LastRefusedAt   time.Time // zero when nothing was refused
}

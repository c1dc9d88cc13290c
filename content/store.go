package content

import (
	"context"
	"time"
)

// Identity stores sign-in data: login keys, session families, refresh and
// reset tokens. Every hot read is a lookup by _id.
type Identity interface {
	Login(ctx context.Context, key string) (*Login, error)
	PutLogin(ctx context.Context, l *Login) error // CodeConflict if the key is taken
	DeleteLogin(ctx context.Context, key string) error

	CreateSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, id string) (*Session, error)
	RevokeSession(ctx context.Context, id string, at time.Time) error

	PutRefreshToken(ctx context.Context, t *RefreshToken) error
	// UseRefreshToken atomically counts a use and returns the token as it
	// was before this use: Uses > 0 means the token was replayed.
	UseRefreshToken(ctx context.Context, hash string) (*RefreshToken, error)

	PutResetRequest(ctx context.Context, r *ResetRequest) error
	ResetRequest(ctx context.Context, id string) (*ResetRequest, error)
	MarkResetRequestSent(ctx context.Context, id string, at time.Time) error
	PutResetToken(ctx context.Context, t *ResetToken) error
	UseResetToken(ctx context.Context, hash string) (*ResetToken, error)
	// SMS reset codes: one live code per account; a new one replaces it.
	PutResetCode(ctx context.Context, c *ResetCode) error
	// CountResetCodeAttempt atomically counts one guess at the account's
	// code and returns the code as it stands after the count (CodeNotFound
	// if there is none), so concurrent guesses cannot share one count.
	CountResetCodeAttempt(ctx context.Context, kind AccountKind, accountID string) (*ResetCode, error)
	// SpendResetCode deletes the account's code if its hash is still hash;
	// false when another request spent or replaced it first.
	SpendResetCode(ctx context.Context, kind AccountKind, accountID, hash string) (bool, error)

	// Account session lists: a request is valid only while its session id
	// is on the account, so revocation is one write and costs reads nothing.
	AddAccountSession(ctx context.Context, kind AccountKind, accountID, sessionID string, keep int) error
	RemoveAccountSession(ctx context.Context, kind AccountKind, accountID, sessionID string) error
	ClearAccountSessions(ctx context.Context, kind AccountKind, accountID string) error
	SetPassword(ctx context.Context, kind AccountKind, accountID, hash string) error
	TouchActive(ctx context.Context, kind AccountKind, accountID string, at time.Time) error
}

// Roster stores the tenancy tree and the people in it.
type Roster interface {
	ParentChanges

	CreateTrust(ctx context.Context, t *Trust) error
	Trust(ctx context.Context, id string) (*Trust, error)

	CreateSchool(ctx context.Context, s *School) error
	School(ctx context.Context, id string) (*School, error)
	UpdateSchool(ctx context.Context, s *School) error
	SchoolsOfTrust(ctx context.Context, trustID string) ([]*School, error)

	CreateStaff(ctx context.Context, s *Staff) error
	Staff(ctx context.Context, id string) (*Staff, error)
	StaffOfSchool(ctx context.Context, schoolID string) ([]*Staff, error)
	SetStaffSchoolRoles(ctx context.Context, staffID, schoolID string, roles []Role) error
	// Staff invitations wait for an existing staff account to agree to
	// join a school. Put replaces the invitation with the same ID.
	PutStaffInvitation(ctx context.Context, inv *StaffInvitation) error
	StaffInvitation(ctx context.Context, id string) (*StaffInvitation, error)
	StaffInvitationsOf(ctx context.Context, staffID string) ([]*StaffInvitation, error)
	DeleteStaffInvitation(ctx context.Context, id string) error

	CreateClass(ctx context.Context, c *Class) error
	Class(ctx context.Context, id string) (*Class, error)
	ClassesOfSchool(ctx context.Context, schoolID string) ([]*Class, error)
	UpdateClass(ctx context.Context, c *Class) error
	DeleteClass(ctx context.Context, id string) error

	CreateChild(ctx context.Context, c *Child) error
	Child(ctx context.Context, id string) (*Child, error)
	ChildrenOfSchool(ctx context.Context, schoolID string) ([]*Child, error)
	ChildrenOfClass(ctx context.Context, classID string) ([]*Child, error)
	UpdateChild(ctx context.Context, c *Child) error

	CreateParent(ctx context.Context, p *Parent) error
	// EachParentOfSchool streams the parents with a child linked at the
	// school (their copy of the link says so), in no set order, handing
	// fn what a message is addressed with. fn's error stops the stream.
	EachParentOfSchool(ctx context.Context, schoolID string, fn func(ParentContact) error) error
	Parent(ctx context.Context, id string) (*Parent, error)
	UpdateParent(ctx context.Context, p *Parent) error
	// SetParentChildLinks replaces the parent's copy of its child links.
	SetParentChildLinks(ctx context.Context, parentID string, links []ChildLink) error
	// SetChildParentLinks replaces the child's copy of its parent links.
	SetChildParentLinks(ctx context.Context, childID string, links []ParentLink) error
	// SetChildParentLinksAndSeverances replaces the child's parent links
	// and its severances in one write.
	SetChildParentLinksAndSeverances(ctx context.Context, childID string, links []ParentLink, severed []Severance) error

	PutInvitation(ctx context.Context, inv *Invitation) error
	Invitation(ctx context.Context, id string) (*Invitation, error)
	PutInviteCode(ctx context.Context, c *InviteCode) error
	// InviteCode reads a code by hash without using it.
	InviteCode(ctx context.Context, hash string) (*InviteCode, error)
	// UseInviteCode counts a use atomically and returns the code as it was
	// before: Uses > 0 means it was already redeemed.
	UseInviteCode(ctx context.Context, hash string) (*InviteCode, error)
	// ReleaseInviteCode undoes one use, when a redemption fails after
	// spending the code for a reason the parent can correct.
	ReleaseInviteCode(ctx context.Context, hash string) error
	DeleteInviteCode(ctx context.Context, hash string) error
}

// Audit records who did what to whose data.
type Audit interface {
	RecordAudit(ctx context.Context, e *AuditEvent) error
}

// Ledger stores broadcasts and their ledger pages: the source of truth for
// what is owed. Every operation is a single-document write by _id.
type Ledger interface {
	CreateBroadcast(ctx context.Context, b *Broadcast) error // CodeConflict if the id exists
	Broadcast(ctx context.Context, id string) (*Broadcast, error)
	// AudienceParents lists the parents a broadcast names. A large list is
	// kept apart from the broadcast, and Broadcast returns it without them.
	AudienceParents(ctx context.Context, b *Broadcast) ([]string, error)
	SetBroadcastExpanded(ctx context.Context, id string, pages, recipients int) error
	SetBroadcastDone(ctx context.Context, id string) error
	// BroadcastsInState lists broadcasts in a state (a small set: the relay
	// sweeps those still sending).
	BroadcastsInState(ctx context.Context, state BroadcastState) ([]*Broadcast, error)
	// BroadcastsOfSchool is a school's message log: its broadcasts newest
	// first (by creation time, then id), only those createdBy sent unless
	// it is "", starting after the cursor, at most limit of them. Params
	// are not loaded: the log never shows them.
	BroadcastsOfSchool(ctx context.Context, schoolID, createdBy string, after BroadcastCursor, limit int) ([]*Broadcast, error)

	// PutLedgerPages inserts pages, ignoring ones already written, so an
	// expansion that crashed half-way can simply run again.
	PutLedgerPages(ctx context.Context, pages []*LedgerPage) error
	// AppendLedgerPages inserts pages in order and stops at the first
	// failure, so what exists of an expansion is always a prefix of pages
	// with no gaps. Any error (a duplicate included) means: read what is
	// there and carry on from it.
	AppendLedgerPages(ctx context.Context, pages []*LedgerPage) error
	LedgerPage(ctx context.Context, id string) (*LedgerPage, error)

	// ClaimEntries atomically counts a claim on each listed entry and
	// returns the indexes this call won — those that were claimable when it
	// ran — with their claim numbers. Of any number of concurrent callers,
	// exactly one wins each entry.
	ClaimEntries(ctx context.Context, pageID string, indexes []int, at time.Time) (won map[int]int, err error)
	// RecordOutcomes writes results for claimed entries in one update.
	// States only rise; a released entry becomes claimable again.
	RecordOutcomes(ctx context.Context, pageID string, outcomes []EntryOutcome, at time.Time) error
	// RaiseEntryState moves one entry forward (webhooks, sweeps); a lower
	// rank than the stored one is a no-op.
	RaiseEntryState(ctx context.Context, pageID string, index int, state MessageState, errorCode string, at time.Time) error
}

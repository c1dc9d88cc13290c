package content

import "time"

// Role is what a staff member may do at one school.
type Role string

const (
	RoleTeacher Role = "teacher"
	RoleAdmin   Role = "admin"
)

// AccountKind tells parents from staff; they live in separate collections
// and sign in through the same endpoint.
type AccountKind string

const (
	KindParent AccountKind = "parent"
	KindStaff  AccountKind = "staff"
)

// ParentState is where a parent account is in its life cycle.
type ParentState string

const (
	ParentInvited ParentState = "invited"
	ParentActive  ParentState = "active"
	ParentWarned  ParentState = "warned"
	ParentClosed  ParentState = "closed"
	ParentErased  ParentState = "erased"
)

// LinkState is the state of a school↔child or parent↔child link.
type LinkState string

const (
	LinkLinked  LinkState = "linked"
	LinkRemoved LinkState = "removed"
)

// Trust groups schools (a multi-academy trust or a district).
type Trust struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Subscription is a school's contract state.
type Subscription struct {
	State   string // "active" | "ended"
	EndedAt time.Time
}

// School is the tenant most data hangs off.
type School struct {
	ID             string
	TrustID        string
	Name           string
	Country        string // ISO 3166-1 alpha-2, used to parse phone numbers
	TimeZone       string // IANA
	Language       string // default language for families
	QuietStart     string // "20:00" local
	QuietEnd       string // "07:30" local
	SMSBudgetPence int64  // monthly SMS budget, minor currency units
	Subscription   Subscription
	CreatedAt      time.Time
}

// SchoolRoles are one staff member's roles at one school.
type SchoolRoles struct {
	SchoolID string
	Roles    []Role
}

// Staff is a teacher or administrator.
type Staff struct {
	ID           string
	Email        string
	PasswordHash string
	Title        string
	FirstName    string
	LastName     string
	Schools      []SchoolRoles
	TrustAdmin   []string // trusts whose every school this person administers
	Operator     bool     // platform operator (queue monitor, incident tooling)
	Sessions     []string // live session family ids; a request's sid must be here
	LastActiveAt time.Time
	CreatedAt    time.Time
}

// WorksAt reports whether the staff member holds a role at the school.
func (s *Staff) WorksAt(schoolID string) bool {
	for _, sr := range s.Schools {
		if sr.SchoolID == schoolID && len(sr.Roles) > 0 {
			return true
		}
	}
	return false
}

// Class is a group of children taught together.
type Class struct {
	ID         string
	SchoolID   string
	Name       string
	YearGroup  string
	TeacherIDs []string
	CreatedAt  time.Time
}

// ParentLink is one parent's link to a child, held on the child.
type ParentLink struct {
	ParentID     string
	Relationship string
	State        LinkState
	LinkedAt     time.Time
	RemovedAt    time.Time
}

// SchoolLink is the school's link to a child.
type SchoolLink struct {
	State     LinkState
	RemovedAt time.Time
}

// Child is a pupil.
type Child struct {
	ID           string
	SchoolID     string
	FirstName    string
	LastName     string // or initials
	UPN          string // unique pupil number; staff only
	YearGroup    string
	ClassIDs     []string
	PupilPremium bool // school admins only
	Parents      []ParentLink
	SchoolLink   SchoolLink
	CreatedAt    time.Time
}

// ParentContact is the part of a parent a message is addressed with.
type ParentContact struct {
	ID       string
	Phone    string
	Email    string
	Language string
	State    ParentState
	Devices  int                          // app installations that can take a push
	Prefs    map[string]ChannelPreference // by category
}

// ChildLink is the parent-side copy of a parent↔child link, with what the
// parent app needs to draw its home screen, so /v1/me is one lookup.
type ChildLink struct {
	ChildID   string
	SchoolID  string
	FirstName string
	YearGroup string
	State     LinkState
	LinkedAt  time.Time
	RemovedAt time.Time
}

// Consent is a record of what a parent agreed to, and when.
type Consent struct {
	Kind     string // "privacy_notice" | "promotional_photos"
	Version  string
	Accepted bool
	At       time.Time
}

// Parent is a parent or carer.
type Parent struct {
	ID           string
	FirstName    string
	LastName     string
	Phone        string // E.164
	Email        string
	Language     string
	State        ParentState
	PasswordHash string
	Sessions     []string
	Children     []ChildLink
	Consents     []Consent
	Devices      []Device                     // push tokens, by Device.ID
	Preferences  map[string]ChannelPreference // by category
	LastActiveAt time.Time
	WarnedAt     time.Time // inactivity notice sent (state warned)
	ClosedAt     time.Time
	ErasedAt     time.Time
	CreatedAt    time.Time
}

// CanSignIn reports whether the account may hold sessions.
func (p *Parent) CanSignIn() bool {
	return p.State == ParentActive || p.State == ParentWarned
}

// LinkedChild returns the parent's live link to a child, if any.
func (p *Parent) LinkedChild(childID string) (ChildLink, bool) {
	for _, c := range p.Children {
		if c.ChildID == childID && c.State == LinkLinked {
			return c, true
		}
	}
	return ChildLink{}, false
}

// Invitation is the current invite code for one parent at one school. Only
// the code's hash is kept; re-issuing replaces it, killing the old code.
type Invitation struct {
	ID        string // schoolID + "|" + parentID
	SchoolID  string
	ParentID  string
	CodeHash  string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Redeemed  bool
	// RedeemedBy is the account the code's children went to: the invited
	// parent itself (a new sign-in) or the family's existing account that
	// claimed the code. A claim repeated by that account is answered again.
	RedeemedBy string
}

// InviteCode is the redeemable side of an invitation, keyed by code hash.
type InviteCode struct {
	Hash      string
	SchoolID  string
	ParentID  string
	ExpiresAt time.Time
	Uses      int
}

// Login maps a normalised sign-in identifier to an account.
type Login struct {
	Key       string // "staff:email:…" | "parent:email:…" | "parent:phone:+44…"
	Kind      AccountKind
	AccountID string
}

// Session is a refresh-token family: one sign-in on one device.
type Session struct {
	ID        string
	Kind      AccountKind
	AccountID string
	CreatedAt time.Time
	ExpiresAt time.Time // absolute: rotation never extends it
	RevokedAt time.Time
}

// RefreshToken is one rotation of a session, keyed by the token's hash.
type RefreshToken struct {
	Hash      string
	SessionID string
	Uses      int
	CreatedAt time.Time
}

// ResetToken is a single-use password-reset token, keyed by hash.
type ResetToken struct {
	Hash      string
	Kind      AccountKind
	AccountID string
	ExpiresAt time.Time
	Uses      int
}

// ResetRequest is what the API records for the worker to turn into an email;
// the worker mints the token so it never travels through Redis.
type ResetRequest struct {
	ID        string
	Kind      AccountKind
	AccountID string
	Purpose   string // "reset" | "welcome" (new staff set their first password) | "reset_sms" (a code by text)
	CreatedAt time.Time
	SentAt    time.Time
}

// AuditEvent records who did what to whose data. It holds IDs only.
type AuditEvent struct {
	ID        string
	At        time.Time
	ActorKind AccountKind
	ActorID   string
	Action    string
	SchoolID  string
	Subject   string // e.g. "parent:p1", "child:c9"
	IP        string
}

// YearGroups are the English school years Hometime serves (EYFS to Year 6).
var YearGroups = []string{"N", "R", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6"}

// ValidYearGroup reports whether v is one of YearGroups.
func ValidYearGroup(v string) bool {
	for _, y := range YearGroups {
		if y == v {
			return true
		}
	}
	return false
}

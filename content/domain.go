package content

import (
	"slices"
	"time"
)

// Role is what a staff member may do at one school.
type Role string

const (
	RoleTeacher Role = "teacher"
	RoleAdmin   Role = "admin"
)

// Roles lists every staff role.
var Roles = []Role{RoleTeacher, RoleAdmin}

// AccountKind tells parents from staff; they live in separate collections
// and sign in through the same endpoint.
type AccountKind string

const (
	KindParent AccountKind = "parent"
	KindStaff  AccountKind = "staff"
)

// AccountKinds lists both kinds of account.
var AccountKinds = []AccountKind{KindParent, KindStaff}

// ParentState is where a parent account is in its life cycle.
type ParentState string

const (
	ParentInvited ParentState = "invited"
	ParentActive  ParentState = "active"
	ParentWarned  ParentState = "warned"
	ParentClosed  ParentState = "closed"
	ParentErased  ParentState = "erased"
)

// ParentStates lists a parent account's states, in life-cycle order.
var ParentStates = []ParentState{ParentInvited, ParentActive, ParentWarned, ParentClosed, ParentErased}

// LinkState is the state of a school↔child or parent↔child link.
type LinkState string

const (
	LinkLinked  LinkState = "linked"
	LinkRemoved LinkState = "removed"
	// LinkLeft is only ever a parent's copy of its link (ChildLink): the
	// parent is still linked but the school has removed the child (the
	// child left). The child's past data stays readable to the parent,
	// read-only, until the child-purge clock runs out.
	LinkLeft LinkState = "left"
)

// LinkStates lists every link state.
var LinkStates = []LinkState{LinkLinked, LinkRemoved, LinkLeft}

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
	// ShareFamilyThreads lets every parent linked to a child see the other
	// parents' comments, ratings and the teacher's replies to them. Off
	// (the default), a parent's words are seen only by them and the staff.
	ShareFamilyThreads bool
	Subscription       Subscription
	CreatedAt          time.Time
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
	Devices      []Device // the staff app's push tokens, by Device.ID
	// WorkingHours bounds when the staff member is pushed; nil means the
	// default (weekdays 07:30–18:00, school's time zone).
	WorkingHours *WorkingHours
	// DigestOff opts out of the daily email of unanswered parent messages.
	DigestOff    bool
	LastActiveAt time.Time
	CreatedAt    time.Time
}

// WorkingHours is when a staff member accepts pushes, in the school's time
// zone: minutes after midnight, and the weekdays (time.Weekday) worked.
type WorkingHours struct {
	StartMinute int
	EndMinute   int
	Days        []time.Weekday
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

// Severance records that the school cut a parent off from a child
// (safeguarding). It outlives the parent account: an import matches
// parents by contact and may create a new placeholder for the same phone
// or email, so the contacts are kept too, as keyed hashes (SeveranceKeys).
// No import, redemption or claim links a severed parent again; only an
// admin's explicit link with a reason clears it.
type Severance struct {
	ParentID    string
	ContactKeys []string
	At          time.Time
	By          string // staff id
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
	Severed      []Severance // parents the school cut off from this child
	CreatedAt    time.Time
}

// ErrSevered is what linking a parent the school has severed from a child
// returns.
var ErrSevered = &Error{Code: CodeConflict, Message: "the school has unlinked this parent from this child"}

// SeveranceKeys are the keyed hashes a severance keeps of a parent's
// normalised phone and email (either may be empty). They have their own
// purpose prefix, so they never equal a suppression or code hash.
func SeveranceKeys(hashKey []byte, phone, email string) []string {
	var out []string
	if n, err := NormalizeContact(SuppressionSMS, phone); err == nil && phone != "" {
		out = append(out, KeyedHash(hashKey, "severed:sms:"+n))
	}
	if n, err := NormalizeContact(SuppressionEmail, email); err == nil && email != "" {
		out = append(out, KeyedHash(hashKey, "severed:email:"+n))
	}
	return out
}

// SeveredFrom reports whether the school severed the parent from the child,
// by the parent's id or by any of its contact keys.
func (c *Child) SeveredFrom(parentID string, contactKeys []string) bool {
	return slices.ContainsFunc(c.Severed, func(s Severance) bool { return s.names(parentID, contactKeys) })
}

// names reports whether the severance is of this parent or of one of
// these contacts.
func (s Severance) names(parentID string, contactKeys []string) bool {
	return s.ParentID == parentID || slices.ContainsFunc(contactKeys, func(k string) bool { return slices.Contains(s.ContactKeys, k) })
}

// LinkParent links a parent to the child, or re-links a removed link,
// keeping one link per parent. It is the one rule every way of linking
// goes through (an admin, a roster import, an invite redemption): a parent
// the school has severed from the child is refused with ErrSevered.
func (c *Child) LinkParent(parentID string, contactKeys []string, relationship string, now time.Time) error {
	if c.SeveredFrom(parentID, contactKeys) {
		return ErrSevered
	}
	for i := range c.Parents {
		if c.Parents[i].ParentID == parentID {
			if c.Parents[i].State != LinkLinked {
				c.Parents[i].State, c.Parents[i].LinkedAt, c.Parents[i].RemovedAt = LinkLinked, now, time.Time{}
			}
			if relationship != "" {
				c.Parents[i].Relationship = relationship
			}
			return nil
		}
	}
	c.Parents = append(c.Parents, ParentLink{ParentID: parentID, Relationship: relationship, State: LinkLinked, LinkedAt: now})
	return nil
}

// SeverParent removes the parent's link (if any) and records the
// severance, replacing an earlier one for the same parent. It reports
// whether the parent had a link to sever.
func (c *Child) SeverParent(parentID string, contactKeys []string, by string, now time.Time) bool {
	found := false
	for i := range c.Parents {
		if c.Parents[i].ParentID == parentID {
			found = true
			if c.Parents[i].State == LinkLinked {
				c.Parents[i].State, c.Parents[i].RemovedAt = LinkRemoved, now
			}
		}
	}
	if !found {
		return false
	}
	c.ClearSeverance(parentID, nil)
	c.Severed = append(c.Severed, Severance{ParentID: parentID, ContactKeys: contactKeys, At: now, By: by})
	return true
}

// ClearSeverance forgets the severances of a parent, by id or contact key:
// an admin has linked them again explicitly.
func (c *Child) ClearSeverance(parentID string, contactKeys []string) {
	c.Severed = slices.DeleteFunc(c.Severed, func(s Severance) bool { return s.names(parentID, contactKeys) })
}

// ChildLinkOf is a parent's copy of its link l to child k: the parent's
// own link state, except that a live link to a child the school removed
// is LinkLeft (readable, read-only).
func ChildLinkOf(k *Child, l ParentLink) ChildLink {
	state := l.State
	if state == LinkLinked && k.SchoolLink.State != LinkLinked {
		state = LinkLeft
	}
	return ChildLink{ChildID: k.ID, SchoolID: k.SchoolID, FirstName: k.FirstName, YearGroup: k.YearGroup,
		State: state, LinkedAt: l.LinkedAt, RemovedAt: l.RemovedAt}
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
	Digest   bool                         // non-urgent pushes wait for the daily digest
	Children []ChildLink                  // links (id, school, first name, state) for the snapshot
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
	// Digest: the parent takes one daily push summarising non-urgent
	// messages instead of a push for each (only with two or more children).
	// DigestHeld lists, per digest day (YYYY-MM-DD), the broadcasts whose
	// push waits for that day's digest.
	Digest       bool
	DigestHeld   map[string][]string
	LastActiveAt time.Time
	WarnedAt     time.Time // inactivity notice sent (state warned)
	ClosedAt     time.Time
	ErasedAt     time.Time
	CreatedAt    time.Time
	// InviteNoticeAt is when the schools of a parent who never joined were
	// told the family will be removed (the invited clock); InviteNoticeFor
	// is the invite send that notice was about.
	InviteNoticeAt, InviteNoticeFor time.Time
}

// CanSignIn reports whether the account may hold sessions.
func (p *Parent) CanSignIn() bool {
	return p.State == ParentActive || p.State == ParentWarned
}

// LinkedChild returns the parent's live link to a child, if any: a child
// still at the school, about whom anything new may be done.
func (p *Parent) LinkedChild(childID string) (ChildLink, bool) {
	for _, c := range p.Children {
		if c.ChildID == childID && c.State == LinkLinked {
			return c, true
		}
	}
	return ChildLink{}, false
}

// Readable reports whether the link lets the parent read the child's data:
// a live link, or one to a child who left the school. A link the school
// severed (or the parent's own removal) is not readable.
func (c ChildLink) Readable() bool { return c.State == LinkLinked || c.State == LinkLeft }

// ReadableChild returns the parent's readable link to a child, if any.
func (p *Parent) ReadableChild(childID string) (ChildLink, bool) {
	for _, c := range p.Children {
		if c.ChildID == childID && c.Readable() {
			return c, true
		}
	}
	return ChildLink{}, false
}

// ReadableChildren is the parent's view of their children: every child
// whose data the parent may read (linked, or left the school), never one
// the school severed them from. Anything that reads a parent's data about
// children (feed, export) goes through this view.
func (p *Parent) ReadableChildren() []ChildLink {
	var out []ChildLink
	for _, c := range p.Children {
		if c.Readable() {
			out = append(out, c)
		}
	}
	return out
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

// AuditEvent records who did what to whose data. It holds IDs, and for
// the actions that need one (unlinking a parent for safeguarding, linking
// them again) the staff member's reason, which is for the school's record:
// it is never shown to parents nor written to logs.
type AuditEvent struct {
	ID        string
	At        time.Time
	ActorKind AccountKind
	ActorID   string
	Action    string
	SchoolID  string
	Subject   string // e.g. "parent:p1", "child:c9"
	IP        string
	Reason    string
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

package content

import (
	"context"
	"time"
)

// Export states.
const (
	ExportQueued = "queued"
	ExportReady  = "ready"
	ExportFailed = "failed"
)

// ExportStates lists every export state, in order.
var ExportStates = []string{ExportQueued, ExportReady, ExportFailed}

// Export is one request for a copy of everything held about a parent (and
// their children). The archive itself is kept beside the record until it
// expires, ExportLinkTTL after it is ready.
type Export struct {
	ID        string
	ParentID  string // a parent's own export, or
	SchoolID  string // a school admin's export of the whole school
	State     string
	CreatedAt time.Time
	ReadyAt   time.Time
	ExpiresAt time.Time
}

// ExportPhoto is one original picture that goes into an export archive.
type ExportPhoto struct {
	ID          string
	ContentType string
	Data        []byte
}

// Exports stores export records and archives, and gathers what an export
// holds.
type Exports interface {
	// StartExport records e, or returns the parent's (or school's) export
	// already queued (created false).
	StartExport(ctx context.Context, e *Export) (got *Export, created bool, err error)
	Export(ctx context.Context, id string) (*Export, error)
	// ParentExportData gathers the parent's view of their data (see
	// ParentExport) and the pictures of their own photos of the children
	// they are linked to.
	ParentExportData(ctx context.Context, parentID string) (*ParentExport, []ExportPhoto, error)
	// SchoolExportData gathers the school's view of its data (see
	// SchoolExport) and the pictures of the school's photos.
	SchoolExportData(ctx context.Context, schoolID string) (*SchoolExport, []ExportPhoto, error)
	// FinishExport stores the archive (replacing any earlier attempt's) and
	// marks the export ready, expiring ExportLinkTTL after at.
	FinishExport(ctx context.Context, id string, archive []byte, at time.Time) error
	FailExport(ctx context.Context, id string) error
	ExportArchive(ctx context.Context, id string) ([]byte, error)
}

// ParentExport is a parent's copy of their data, built as the app shows it
// to them: their own record; and, for each child whose data they may read
// now (Parent.ReadableChildren, the same view every request checks: a live
// link, or a child who left the school), what the app shows of that child
// from when the link was made. Their own submissions,
// threads and photos come only for those children. Never a child's UPN or
// pupil premium, never another parent's record, words, ratings or photos,
// and nothing of a child they are no longer linked to.
type ParentExport struct {
	Parent      ExportParent
	Children    []ExportLinkedChild
	Submissions []Submission // their own, each with its thread
	Photos      []Photo      // their own (the pictures travel as ExportPhoto)
	Inbox       []InboxItem  // what they received: titles and read state, newest first
}

// ExportParent is a parent's own record, without secrets: no password
// hash, sessions or push tokens.
type ExportParent struct {
	ID          string
	FirstName   string
	LastName    string
	Phone       string
	Email       string
	Language    string
	State       ParentState
	Consents    []Consent
	Devices     []ExportDevice
	Preferences map[string]ChannelPreference
	Digest      bool // the daily digest chosen
	LastActive  time.Time
	CreatedAt   time.Time
}

// ExportDevice is one app installation, without its push token.
type ExportDevice struct {
	Platform Platform
	LastSeen time.Time
	Created  time.Time
}

// ExportLinkedChild is what a parent sees of a child they are linked to.
type ExportLinkedChild struct {
	ID           string
	FirstName    string
	LastName     string // or initials
	YearGroup    string
	SchoolName   string
	ClassNames   []string
	Relationship string
	LinkedAt     time.Time
	Feed         []*FeedItem // newest first, with this parent's own responses only
	Awards       []Award     // given while linked
}

// ParentExportChild is the parent's view of a child they are linked to by
// link: no UPN, pupil premium or other parents; only feed items and awards
// from the link's start, and in feed items only parentID's own rating,
// comment and replies. A co-parent's words are never in another parent's
// export, even where the school shares family threads in the app: they are
// the co-parent's data, not this parent's.
func ParentExportChild(parentID string, link ChildLink, k *Child, schoolName string, classNames []string,
	feed []*FeedItem, awards []Award) ExportLinkedChild {
	out := ExportLinkedChild{ID: k.ID, FirstName: k.FirstName, LastName: k.LastName, YearGroup: k.YearGroup,
		SchoolName: schoolName, ClassNames: classNames, LinkedAt: link.LinkedAt, Feed: []*FeedItem{}, Awards: []Award{}}
	for _, l := range k.Parents {
		if l.ParentID == parentID && l.State == LinkLinked {
			out.Relationship = l.Relationship
		}
	}
	for _, it := range feed {
		if !it.At.Before(link.LinkedAt) {
			out.Feed = append(out.Feed, it.ForReader(parentID, false))
		}
	}
	for _, a := range awards {
		if a.ChildID == k.ID && !a.CreatedAt.Before(link.LinkedAt) {
			a.GivenBy = "" // staff ids are the school's; the family sees the name
			out.Awards = append(out.Awards, a)
		}
	}
	return out
}

// SchoolExport is a school admin's copy of one school's data, and nothing
// of any other school: parents carry only their links to this school's
// children, staff only their roles here (and whether they administer this
// school's trust).
type SchoolExport struct {
	School      School
	Classes     []Class
	Staff       []ExportStaff
	Children    []Child
	Parents     []ExportSchoolParent
	Assignments []Assignment
	Submissions []Submission
	Awards      []Award
	Photos      []Photo
	Engagement  []ExportEngagement
	// Announcements staff wrote, with their versions and audiences.
	Announcements []Announcement
	// Attachments are the school's announcement attachments (metadata;
	// the files stay behind signed URLs), InboxReads who received and read
	// each of the school's announcements and conversations.
	Attachments []Attachment
	InboxReads  []InboxItem
}

// ExportStaff is a member of staff as one school holds them.
type ExportStaff struct {
	ID         string
	Email      string
	Title      string
	FirstName  string
	LastName   string
	Roles      []Role // at this school only
	TrustAdmin bool   // administers every school of this school's trust
	CreatedAt  time.Time
}

// SchoolExportStaff trims st to what school sc holds: its roles there, and
// trust administration of sc's trust only.
func SchoolExportStaff(st *Staff, sc *School) ExportStaff {
	out := ExportStaff{ID: st.ID, Email: st.Email, Title: st.Title, FirstName: st.FirstName, LastName: st.LastName,
		Roles: []Role{}, CreatedAt: st.CreatedAt}
	for _, sr := range st.Schools {
		if sr.SchoolID == sc.ID {
			out.Roles = append(out.Roles, sr.Roles...)
		}
	}
	for _, t := range st.TrustAdmin {
		out.TrustAdmin = out.TrustAdmin || (sc.TrustID != "" && t == sc.TrustID)
	}
	return out
}

// ExportSchoolParent is a parent's contact record as one school holds it.
type ExportSchoolParent struct {
	ID        string
	FirstName string
	LastName  string
	Phone     string
	Email     string
	Language  string
	State     ParentState
	Children  []ChildLink // links to this school's children only
	CreatedAt time.Time
}

// SchoolExportParent trims p to one school: contacts and links to that
// school's children (ofSchool, by id), with no consents, preferences,
// devices or secrets.
func SchoolExportParent(p *Parent, ofSchool map[string]bool) ExportSchoolParent {
	out := ExportSchoolParent{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone, Email: p.Email,
		Language: p.Language, State: p.State, Children: []ChildLink{}, CreatedAt: p.CreatedAt}
	for _, l := range p.Children {
		if ofSchool[l.ChildID] {
			out.Children = append(out.Children, l)
		}
	}
	return out
}

// ExportEngagement is one week's engagement counts of one scope.
type ExportEngagement struct {
	Scope  string
	Ref    string
	Week   string
	Counts EngagementCounts
}

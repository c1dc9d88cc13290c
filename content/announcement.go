package content

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AnnouncementState is where an announcement is: scheduled (cancellable),
// sending (its broadcast is being published), sent, or cancelled. It only
// moves forward: scheduled → sending → sent, or scheduled → cancelled.
type AnnouncementState string

const (
	AnnouncementScheduled AnnouncementState = "scheduled"
	AnnouncementSending   AnnouncementState = "sending"
	AnnouncementSent      AnnouncementState = "sent"
	AnnouncementCancelled AnnouncementState = "cancelled"
)

// AnnouncementStates lists every state, in order.
var AnnouncementStates = []AnnouncementState{AnnouncementScheduled, AnnouncementSending, AnnouncementSent, AnnouncementCancelled}

// Limits on what staff write, in characters.
const (
	AnnouncementTitleMax    = 120
	AnnouncementBodyMax     = 5000
	AnnouncementVersionsMax = 10
	AnnouncementAttachMax   = 5
	AnnouncementClassesMax  = 50
	AnnouncementYearsMax    = 20
	AnnouncementParentsMax  = 500
)

// AnnouncementLinkTTL is how long the public link to an announcement's text
// (sent in an SMS when the body does not fit) keeps working after the send.
const AnnouncementLinkTTL = 30 * 24 * time.Hour

// AnnouncementAudience says who an announcement is for: exactly one of the
// four is set. IDs and year-group names only.
type AnnouncementAudience struct {
	WholeSchool bool
	YearGroups  []string // resolved to the school's classes of those year groups at send time
	ClassIDs    []string
	ParentIDs   []string
}

// AnnouncementVersion is a staff-written translation of an announcement.
type AnnouncementVersion struct {
	Language string // primary language subtag, e.g. "cy"
	Title    string
	Body     string
}

// Announcement is a message staff wrote themselves, to the whole school,
// year groups, classes or named families. It is sent as a broadcast (notify
// template "announcement", category news) whose ID BroadcastID names.
type Announcement struct {
	ID        string
	SchoolID  string
	CreatedBy string // staff id
	Title     string
	Body      string // plain text; links allowed
	Language  string // the language Title and Body are written in
	Versions  []AnnouncementVersion
	Audience  AnnouncementAudience
	// SendAt is when the announcement goes: the creation time when sent
	// at once.
	SendAt        time.Time
	Urgent        bool // bypasses quiet hours (audited)
	Important     bool // an unread push falls back to SMS
	AttachmentIDs []string
	State         AnnouncementState
	BroadcastID   string
	// Links holds, per language, the public link to the text in that
	// language, which an SMS carries when the body does not fit.
	Links       map[string]string
	CreatedAt   time.Time
	SentAt      time.Time
	CancelledAt time.Time
}

// AnnouncementBroadcastID is the fixed id of the broadcast that sends an
// announcement, so starting the send twice publishes one broadcast.
func AnnouncementBroadcastID(announcementID string) string { return "brd_" + announcementID }

// Version is the title and body a reader of lang gets: the staff-written
// version in that language (matched on the primary subtag, so "cy-GB"
// reads "cy"), else the original. It returns the language of the text.
func (a *Announcement) Version(lang string) (title, body, language string) {
	want := PrimaryLanguage(lang)
	if want != "" && want != a.Language {
		for _, v := range a.Versions {
			if v.Language == want {
				return v.Title, v.Body, v.Language
			}
		}
	}
	return a.Title, a.Body, a.Language
}

// Languages lists the original language, then each version's.
func (a *Announcement) Languages() []string {
	out := []string{a.Language}
	for _, v := range a.Versions {
		out = append(out, v.Language)
	}
	return out
}

// PrimaryLanguage is the lower-case primary subtag of a language tag
// ("cy-GB" → "cy"), or "" when there is none.
func PrimaryLanguage(tag string) string {
	p, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	p, _, _ = strings.Cut(p, "_")
	return strings.ToLower(p)
}

// ValidLanguageCode reports whether s is a lower-case primary language
// subtag (two or three letters).
func ValidLanguageCode(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// CheckAnnouncementTitle reports what is wrong with a title ("" when
// nothing): 1 to AnnouncementTitleMax characters of plain text on one line.
func CheckAnnouncementTitle(s string) string {
	if n := utf8.RuneCountInString(s); n == 0 || n > AnnouncementTitleMax {
		return "must be 1 to 120 characters"
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "must be plain text on one line"
	}
	return ""
}

// CheckAnnouncementBody reports what is wrong with a body ("" when
// nothing): 1 to AnnouncementBodyMax characters of plain text; line breaks
// and tabs are allowed, other control characters are not.
func CheckAnnouncementBody(s string) string {
	if n := utf8.RuneCountInString(s); n == 0 || n > AnnouncementBodyMax {
		return "must be 1 to 5000 characters"
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r'
	}) {
		return "must be plain text"
	}
	return ""
}

// AnnouncementCursor is a place in a school's list of announcements, which
// runs newest first (creation time, then id). The zero value is the start.
type AnnouncementCursor = BroadcastCursor

// Announcements stores announcements. Reads and state changes are by _id;
// state changes are conditional single-document updates, so a cancel and a
// send racing each other cannot both win.
type Announcements interface {
	CreateAnnouncement(ctx context.Context, a *Announcement) error // CodeConflict if the id exists
	Announcement(ctx context.Context, id string) (*Announcement, error)
	// AnnouncementsOfSchool lists a school's announcements newest first,
	// only those createdBy wrote unless it is "", after the cursor, at most
	// limit.
	AnnouncementsOfSchool(ctx context.Context, schoolID, createdBy string, after AnnouncementCursor, limit int) ([]*Announcement, error)
	// CancelAnnouncement moves a scheduled announcement to cancelled;
	// CodeConflict once it is sending or sent (a cancelled one stays
	// cancelled: no error).
	CancelAnnouncement(ctx context.Context, id string, at time.Time) (*Announcement, error)
	// StartAnnouncement moves a scheduled announcement to sending and
	// reports whether the caller should publish its broadcast: true also
	// when it was already sending (a retry after a crash finishes the
	// work), false when cancelled or already sent.
	StartAnnouncement(ctx context.Context, id string, at time.Time) (bool, error)
	// FinishAnnouncement moves a sending announcement to sent.
	FinishAnnouncement(ctx context.Context, id string, at time.Time) error
	// DueAnnouncements lists announcements scheduled or sending whose send
	// time is at or before now (the sweep that catches sends the queue
	// lost), at most limit.
	DueAnnouncements(ctx context.Context, now time.Time, limit int) ([]*Announcement, error)
}

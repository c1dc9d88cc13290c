package worker

import (
	"time"

	"github.com/hometime-edu/hometime/content"
)

// The JSON shapes of export.json. They are written from the role-aware
// views the store builds (content.ParentExport, content.SchoolExport),
// field by field, so nothing a view leaves out can reach an archive.

type parentExportJSON struct {
	Format      string                `json:"format"`
	GeneratedAt time.Time             `json:"generated_at"`
	Parent      exportParentJSON      `json:"parent"`
	Children    []exportChildJSON     `json:"children"`
	Submissions []exportSubmitJSON    `json:"submissions"`
	Photos      []exportPhotoMetaJSON `json:"photos"`
	Inbox       []exportInboxJSON     `json:"inbox"`
}

// exportInboxJSON is one item of the parent's inbox: what it was, its
// title as they received it, and whether and how they read it.
type exportInboxJSON struct {
	Kind      string     `json:"kind"`
	SourceID  string     `json:"source_id"`
	Title     string     `json:"title"`
	Urgent    bool       `json:"urgent,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
	ReadVia   string     `json:"read_via,omitempty"`
}

type exportParentJSON struct {
	ID          string                    `json:"id"`
	FirstName   string                    `json:"first_name"`
	LastName    string                    `json:"last_name"`
	Phone       string                    `json:"phone,omitempty"`
	Email       string                    `json:"email,omitempty"`
	Language    string                    `json:"language"`
	State       string                    `json:"state"`
	Consents    []exportConsentJSON       `json:"consents"`
	Devices     []exportDeviceJSON        `json:"devices"`
	Preferences map[string]exportPrefJSON `json:"preferences"`
	Digest      bool                      `json:"digest,omitempty"`
	LastActive  *time.Time                `json:"last_active_at,omitempty"`
	CreatedAt   time.Time                 `json:"created_at"`
}

type exportConsentJSON struct {
	Kind     string    `json:"kind"`
	Version  string    `json:"version"`
	Accepted bool      `json:"accepted"`
	At       time.Time `json:"at"`
}

type exportDeviceJSON struct {
	Platform string    `json:"platform"`
	LastSeen time.Time `json:"last_seen"`
	Created  time.Time `json:"created"`
}

type exportPrefJSON struct {
	Channel  string `json:"channel"`
	Language string `json:"language,omitempty"`
}

type exportChildJSON struct {
	ID           string            `json:"id"`
	FirstName    string            `json:"first_name"`
	LastName     string            `json:"last_name"`
	YearGroup    string            `json:"year_group"`
	School       string            `json:"school"`
	Classes      []string          `json:"classes"`
	Relationship string            `json:"relationship,omitempty"`
	LinkedAt     *time.Time        `json:"linked_at,omitempty"`
	Feed         []exportFeedJSON  `json:"feed"`
	Awards       []exportAwardJSON `json:"awards"`
}

type exportFeedJSON struct {
	ID           string     `json:"id"`
	Kind         string     `json:"kind"`
	At           time.Time  `json:"at"`
	State        string     `json:"state"`
	Title        string     `json:"title"`
	AssignmentID string     `json:"assignment_id,omitempty"`
	ActivityID   string     `json:"activity_id,omitempty"`
	Subject      string     `json:"subject,omitempty"`
	Minutes      int        `json:"minutes,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	TeacherName  string     `json:"teacher_name,omitempty"`
	AwardID      string     `json:"award_id,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	Rating       int        `json:"rating,omitempty"`
	Comment      string     `json:"comment,omitempty"`
	ReplyCount   int        `json:"reply_count"`
	LatestReply  string     `json:"latest_reply,omitempty"`
}

type exportAwardJSON struct {
	ID        string    `json:"id"`
	ChildID   string    `json:"child_id"`
	GivenBy   string    `json:"given_by,omitempty"` // school exports only (a staff id)
	GiverName string    `json:"giver_name"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

type exportSubmitJSON struct {
	ID           string            `json:"id"`
	AssignmentID string            `json:"assignment_id"`
	ChildID      string            `json:"child_id"`
	ParentID     string            `json:"parent_id,omitempty"` // school exports only
	Done         bool              `json:"done"`
	Rating       int               `json:"rating,omitempty"`
	Comment      string            `json:"comment"`
	PhotoIDs     []string          `json:"photo_ids"`
	Replies      []exportReplyJSON `json:"replies"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

type exportReplyJSON struct {
	Author     string    `json:"author"` // "teacher" | "parent"
	AuthorID   string    `json:"author_id,omitempty"`
	AuthorName string    `json:"author_name,omitempty"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
}

type exportPhotoMetaJSON struct {
	ID                 string     `json:"id"`
	File               string     `json:"file"`
	SubmissionID       string     `json:"submission_id"`
	ChildID            string     `json:"child_id"`
	ParentID           string     `json:"parent_id,omitempty"` // school exports only
	Width              int        `json:"width"`
	Height             int        `json:"height"`
	PromotionConsent   bool       `json:"promotion_consent"`
	PromotionConsentAt *time.Time `json:"promotion_consent_at,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toParentExportJSON(e *content.ParentExport, at time.Time) parentExportJSON {
	p := e.Parent
	out := parentExportJSON{Format: "hometime-parent-export/2", GeneratedAt: at.UTC(),
		Parent: exportParentJSON{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone, Email: p.Email,
			Language: p.Language, State: string(p.State), Consents: []exportConsentJSON{}, Devices: []exportDeviceJSON{},
			Preferences: map[string]exportPrefJSON{}, Digest: p.Digest, LastActive: optTime(p.LastActive), CreatedAt: p.CreatedAt},
		Children: []exportChildJSON{}, Submissions: []exportSubmitJSON{}, Photos: []exportPhotoMetaJSON{}, Inbox: []exportInboxJSON{}}
	for _, it := range e.Inbox {
		out.Inbox = append(out.Inbox, exportInboxJSON{Kind: string(it.Kind), SourceID: it.SourceID, Title: it.Title,
			Urgent: it.Urgent, CreatedAt: it.CreatedAt, ReadAt: optTime(it.ReadAt), ReadVia: it.ReadVia})
	}
	for _, c := range p.Consents {
		out.Parent.Consents = append(out.Parent.Consents, exportConsentJSON{Kind: c.Kind, Version: c.Version, Accepted: c.Accepted, At: c.At})
	}
	for _, d := range p.Devices {
		out.Parent.Devices = append(out.Parent.Devices, exportDeviceJSON{Platform: string(d.Platform), LastSeen: d.LastSeen, Created: d.Created})
	}
	for cat, pr := range p.Preferences {
		out.Parent.Preferences[cat] = exportPrefJSON{Channel: pr.Channel, Language: pr.Language}
	}
	for _, k := range e.Children {
		c := exportChildJSON{ID: k.ID, FirstName: k.FirstName, LastName: k.LastName, YearGroup: k.YearGroup, School: k.SchoolName,
			Classes: k.ClassNames, Relationship: k.Relationship, LinkedAt: optTime(k.LinkedAt),
			Feed: []exportFeedJSON{}, Awards: []exportAwardJSON{}}
		if c.Classes == nil {
			c.Classes = []string{}
		}
		for _, it := range k.Feed {
			c.Feed = append(c.Feed, toExportFeedJSON(it))
		}
		for _, a := range k.Awards {
			c.Awards = append(c.Awards, toExportAwardJSON(a, false))
		}
		out.Children = append(out.Children, c)
	}
	for _, s := range e.Submissions {
		out.Submissions = append(out.Submissions, toExportSubmitJSON(s, false))
	}
	for _, ph := range e.Photos {
		out.Photos = append(out.Photos, toExportPhotoJSON(ph, false))
	}
	return out
}

func toExportFeedJSON(it *content.FeedItem) exportFeedJSON {
	return exportFeedJSON{ID: it.ID, Kind: string(it.Kind), At: it.At, State: string(it.State()), Title: it.Title,
		AssignmentID: it.AssignmentID, ActivityID: it.ActivityID, Subject: string(it.Subject), Minutes: it.Minutes,
		DueAt: optTime(it.DueAt), TeacherName: it.TeacherName, AwardID: it.AwardID, Reason: it.Reason,
		Rating: it.Rating, Comment: it.Comment, ReplyCount: it.ReplyCount(), LatestReply: it.LatestReply}
}

func toExportAwardJSON(a content.Award, school bool) exportAwardJSON {
	out := exportAwardJSON{ID: a.ID, ChildID: a.ChildID, GiverName: a.GiverName, Reason: a.Reason, At: a.CreatedAt}
	if school {
		out.GivenBy = a.GivenBy
	}
	return out
}

func toExportSubmitJSON(s content.Submission, school bool) exportSubmitJSON {
	out := exportSubmitJSON{ID: s.ID, AssignmentID: s.AssignmentID, ChildID: s.ChildID, Done: s.Done, Rating: s.Rating,
		Comment: s.Comment, PhotoIDs: s.PhotoIDs, Replies: []exportReplyJSON{}, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if out.PhotoIDs == nil {
		out.PhotoIDs = []string{}
	}
	if school {
		out.ParentID = s.ParentID
	}
	for _, r := range s.Replies {
		author := "parent"
		if r.AuthorKind == content.KindStaff {
			author = "teacher"
		}
		rj := exportReplyJSON{Author: author, AuthorName: r.AuthorName, Body: r.Body, At: r.At}
		if school {
			rj.AuthorID = r.AuthorID
		}
		out.Replies = append(out.Replies, rj)
	}
	return out
}

func toExportPhotoJSON(ph content.Photo, school bool) exportPhotoMetaJSON {
	out := exportPhotoMetaJSON{ID: ph.ID, File: "photos/" + ph.ID + photoExt(ph.ContentType), SubmissionID: ph.SubmissionID,
		ChildID: ph.ChildID, Width: ph.Width, Height: ph.Height, PromotionConsent: ph.Promotion.Granted, CreatedAt: ph.CreatedAt}
	if ph.Promotion.Granted {
		out.PromotionConsentAt = optTime(ph.Promotion.At)
	}
	if school {
		out.ParentID = ph.ParentID
	}
	return out
}

type schoolExportJSON struct {
	Format      string                 `json:"format"`
	GeneratedAt time.Time              `json:"generated_at"`
	School      exportSchoolJSON       `json:"school"`
	Classes     []exportClassJSON      `json:"classes"`
	Staff       []exportStaffJSON      `json:"staff"`
	Children    []exportPupilJSON      `json:"children"`
	Parents     []exportContactJSON    `json:"parents"`
	Assignments []exportAssignmentJSON `json:"assignments"`
	Submissions []exportSubmitJSON     `json:"submissions"`
	Awards      []exportAwardJSON      `json:"awards"`
	Photos      []exportPhotoMetaJSON  `json:"photos"`
	Engagement  []exportEngagementJSON `json:"engagement"`
	// Announcements are what staff wrote and to whom (IDs), not who read them.
	Announcements []exportAnnouncementJSON `json:"announcements"`
	Attachments   []exportAttachmentJSON   `json:"attachments"`
	Inbox         []exportInboxReadJSON    `json:"inbox"`
}

type exportAttachmentJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// exportInboxReadJSON is one family's copy of an announcement or
// conversation, as the school holds it: who got it and whether they read it.
type exportInboxReadJSON struct {
	ParentID  string     `json:"parent_id"`
	Kind      string     `json:"kind"`
	SourceID  string     `json:"source_id"`
	Title     string     `json:"title"`
	ClassIDs  []string   `json:"class_ids"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
	ReadVia   string     `json:"read_via,omitempty"`
}

type exportAnnouncementJSON struct {
	ID          string                      `json:"id"`
	CreatedBy   string                      `json:"created_by"`
	Title       string                      `json:"title"`
	Body        string                      `json:"body"`
	Language    string                      `json:"language"`
	Versions    []exportAnnouncementVerJSON `json:"versions"`
	WholeSchool bool                        `json:"whole_school,omitempty"`
	YearGroups  []string                    `json:"year_groups,omitempty"`
	ClassIDs    []string                    `json:"class_ids,omitempty"`
	ParentIDs   []string                    `json:"parent_ids,omitempty"`
	Attachments []string                    `json:"attachment_ids,omitempty"`
	SendAt      time.Time                   `json:"send_at"`
	State       string                      `json:"state"`
	Urgent      bool                        `json:"urgent"`
	Important   bool                        `json:"important"`
	CreatedAt   time.Time                   `json:"created_at"`
}

type exportAnnouncementVerJSON struct {
	Language string `json:"language"`
	Title    string `json:"title"`
	Body     string `json:"body"`
}

type exportSchoolJSON struct {
	ID                 string    `json:"id"`
	TrustID            string    `json:"trust_id,omitempty"`
	Name               string    `json:"name"`
	Country            string    `json:"country"`
	TimeZone           string    `json:"time_zone"`
	Language           string    `json:"language"`
	QuietStart         string    `json:"quiet_start"`
	QuietEnd           string    `json:"quiet_end"`
	SMSBudgetPence     int64     `json:"sms_budget_pence"`
	ShareFamilyThreads bool      `json:"share_family_threads"`
	CreatedAt          time.Time `json:"created_at"`
}

type exportClassJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	YearGroup  string    `json:"year_group"`
	TeacherIDs []string  `json:"teacher_ids"`
	CreatedAt  time.Time `json:"created_at"`
}

type exportStaffJSON struct {
	ID         string    `json:"id"`
	Email      string    `json:"email"`
	Title      string    `json:"title,omitempty"`
	FirstName  string    `json:"first_name"`
	LastName   string    `json:"last_name"`
	Roles      []string  `json:"roles"`
	TrustAdmin bool      `json:"trust_admin"`
	CreatedAt  time.Time `json:"created_at"`
}

type exportPupilJSON struct {
	ID           string                 `json:"id"`
	FirstName    string                 `json:"first_name"`
	LastName     string                 `json:"last_name"`
	UPN          string                 `json:"upn,omitempty"`
	YearGroup    string                 `json:"year_group"`
	ClassIDs     []string               `json:"class_ids"`
	PupilPremium bool                   `json:"pupil_premium"`
	Parents      []exportParentLinkJSON `json:"parents"`
	SchoolLink   string                 `json:"school_link"`
	CreatedAt    time.Time              `json:"created_at"`
}

type exportParentLinkJSON struct {
	ParentID     string     `json:"parent_id"`
	Relationship string     `json:"relationship,omitempty"`
	State        string     `json:"state"`
	LinkedAt     *time.Time `json:"linked_at,omitempty"`
	RemovedAt    *time.Time `json:"removed_at,omitempty"`
}

type exportContactJSON struct {
	ID        string                `json:"id"`
	FirstName string                `json:"first_name"`
	LastName  string                `json:"last_name"`
	Phone     string                `json:"phone,omitempty"`
	Email     string                `json:"email,omitempty"`
	Language  string                `json:"language"`
	State     string                `json:"state"`
	Children  []exportChildLinkJSON `json:"children"`
	CreatedAt time.Time             `json:"created_at"`
}

type exportChildLinkJSON struct {
	ChildID   string     `json:"child_id"`
	State     string     `json:"state"`
	LinkedAt  *time.Time `json:"linked_at,omitempty"`
	RemovedAt *time.Time `json:"removed_at,omitempty"`
}

type exportAssignmentJSON struct {
	ID          string                   `json:"id"`
	ClassID     string                   `json:"class_id"`
	ChildIDs    []string                 `json:"child_ids,omitempty"`
	SetBy       string                   `json:"set_by"`
	TeacherName string                   `json:"teacher_name"`
	Activities  []exportAssignedActivity `json:"activities"`
	ReleaseAt   time.Time                `json:"release_at"`
	DueAt       *time.Time               `json:"due_at,omitempty"`
	State       string                   `json:"state"`
	ReleasedAt  *time.Time               `json:"released_at,omitempty"`
	CreatedAt   time.Time                `json:"created_at"`
}

type exportAssignedActivity struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type exportEngagementJSON struct {
	Scope  string           `json:"scope"`
	Ref    string           `json:"ref"`
	Week   string           `json:"week"`
	Counts map[string]int64 `json:"counts"`
}

func toSchoolExportJSON(e *content.SchoolExport, at time.Time) schoolExportJSON {
	sc := e.School
	out := schoolExportJSON{Format: "hometime-school-export/2", GeneratedAt: at.UTC(),
		School: exportSchoolJSON{ID: sc.ID, TrustID: sc.TrustID, Name: sc.Name, Country: sc.Country, TimeZone: sc.TimeZone,
			Language: sc.Language, QuietStart: sc.QuietStart, QuietEnd: sc.QuietEnd, SMSBudgetPence: sc.SMSBudgetPence,
			ShareFamilyThreads: sc.ShareFamilyThreads, CreatedAt: sc.CreatedAt},
		Classes: []exportClassJSON{}, Staff: []exportStaffJSON{}, Children: []exportPupilJSON{}, Parents: []exportContactJSON{},
		Assignments: []exportAssignmentJSON{}, Submissions: []exportSubmitJSON{}, Awards: []exportAwardJSON{},
		Photos: []exportPhotoMetaJSON{}, Engagement: []exportEngagementJSON{},
		Attachments: []exportAttachmentJSON{}, Inbox: []exportInboxReadJSON{}, Announcements: []exportAnnouncementJSON{}}
	for _, a := range e.Attachments {
		out.Attachments = append(out.Attachments, exportAttachmentJSON{ID: a.ID, Name: a.Name, ContentType: a.ContentType,
			Size: a.Size, CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt})
	}
	for _, it := range e.InboxReads {
		out.Inbox = append(out.Inbox, exportInboxReadJSON{ParentID: it.ParentID, Kind: string(it.Kind), SourceID: it.SourceID,
			Title: it.Title, ClassIDs: append([]string{}, it.ClassIDs...), CreatedAt: it.CreatedAt, ReadAt: optTime(it.ReadAt), ReadVia: it.ReadVia})
	}
	for _, a := range e.Announcements {
		aj := exportAnnouncementJSON{ID: a.ID, CreatedBy: a.CreatedBy, Title: a.Title, Body: a.Body, Language: a.Language,
			Versions: []exportAnnouncementVerJSON{}, WholeSchool: a.Audience.WholeSchool, YearGroups: a.Audience.YearGroups,
			ClassIDs: a.Audience.ClassIDs, ParentIDs: a.Audience.ParentIDs, Attachments: a.AttachmentIDs, SendAt: a.SendAt,
			State: string(a.State), Urgent: a.Urgent, Important: a.Important, CreatedAt: a.CreatedAt}
		for _, v := range a.Versions {
			aj.Versions = append(aj.Versions, exportAnnouncementVerJSON(v))
		}
		out.Announcements = append(out.Announcements, aj)
	}
	for _, c := range e.Classes {
		out.Classes = append(out.Classes, exportClassJSON{ID: c.ID, Name: c.Name, YearGroup: c.YearGroup,
			TeacherIDs: append([]string{}, c.TeacherIDs...), CreatedAt: c.CreatedAt})
	}
	for _, st := range e.Staff {
		roles := []string{}
		for _, r := range st.Roles {
			roles = append(roles, string(r))
		}
		out.Staff = append(out.Staff, exportStaffJSON{ID: st.ID, Email: st.Email, Title: st.Title, FirstName: st.FirstName,
			LastName: st.LastName, Roles: roles, TrustAdmin: st.TrustAdmin, CreatedAt: st.CreatedAt})
	}
	for _, k := range e.Children {
		pj := exportPupilJSON{ID: k.ID, FirstName: k.FirstName, LastName: k.LastName, UPN: k.UPN, YearGroup: k.YearGroup,
			ClassIDs: append([]string{}, k.ClassIDs...), PupilPremium: k.PupilPremium, Parents: []exportParentLinkJSON{},
			SchoolLink: string(k.SchoolLink.State), CreatedAt: k.CreatedAt}
		for _, l := range k.Parents {
			pj.Parents = append(pj.Parents, exportParentLinkJSON{ParentID: l.ParentID, Relationship: l.Relationship,
				State: string(l.State), LinkedAt: optTime(l.LinkedAt), RemovedAt: optTime(l.RemovedAt)})
		}
		out.Children = append(out.Children, pj)
	}
	for _, p := range e.Parents {
		cj := exportContactJSON{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone, Email: p.Email,
			Language: p.Language, State: string(p.State), Children: []exportChildLinkJSON{}, CreatedAt: p.CreatedAt}
		for _, l := range p.Children {
			cj.Children = append(cj.Children, exportChildLinkJSON{ChildID: l.ChildID, State: string(l.State),
				LinkedAt: optTime(l.LinkedAt), RemovedAt: optTime(l.RemovedAt)})
		}
		out.Parents = append(out.Parents, cj)
	}
	for _, a := range e.Assignments {
		aj := exportAssignmentJSON{ID: a.ID, ClassID: a.ClassID, ChildIDs: a.ChildIDs, SetBy: a.SetBy, TeacherName: a.TeacherName,
			Activities: []exportAssignedActivity{}, ReleaseAt: a.ReleaseAt, DueAt: optTime(a.DueAt), State: string(a.State),
			ReleasedAt: optTime(a.ReleasedAt), CreatedAt: a.CreatedAt}
		for _, act := range a.Activities {
			aj.Activities = append(aj.Activities, exportAssignedActivity{ID: act.ID, Title: act.Title})
		}
		out.Assignments = append(out.Assignments, aj)
	}
	for _, s := range e.Submissions {
		out.Submissions = append(out.Submissions, toExportSubmitJSON(s, true))
	}
	for _, a := range e.Awards {
		out.Awards = append(out.Awards, toExportAwardJSON(a, true))
	}
	for _, ph := range e.Photos {
		out.Photos = append(out.Photos, toExportPhotoJSON(ph, true))
	}
	for _, g := range e.Engagement {
		counts := map[string]int64{}
		for k, v := range g.Counts {
			counts[string(k)] = v
		}
		out.Engagement = append(out.Engagement, exportEngagementJSON{Scope: g.Scope, Ref: g.Ref, Week: g.Week, Counts: counts})
	}
	return out
}

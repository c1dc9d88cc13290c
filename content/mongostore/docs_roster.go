package mongostore

import (
	"time"

	"github.com/hometime-edu/hometime/content"
)

// Storage shapes of the roster. They carry bson tags; content types do not.

type trustDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	CreatedAt time.Time `bson:"createdAt"`
}

func toTrustDoc(t *content.Trust) trustDoc {
	return trustDoc{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
}
func (d *trustDoc) toContent() *content.Trust {
	return &content.Trust{ID: d.ID, Name: d.Name, CreatedAt: d.CreatedAt}
}

type subscriptionDoc struct {
	State   string    `bson:"state"`
	EndedAt time.Time `bson:"endedAt,omitempty"`
}

type schoolDoc struct {
	ID             string          `bson:"_id"`
	TrustID        string          `bson:"trustId,omitempty"`
	Name           string          `bson:"name"`
	Country        string          `bson:"country"`
	TimeZone       string          `bson:"timeZone"`
	Language       string          `bson:"language"`
	QuietStart     string          `bson:"quietStart"`
	QuietEnd       string          `bson:"quietEnd"`
	SMSBudgetPence int64           `bson:"smsBudgetPence"`
	ShareFamily    bool            `bson:"shareFamilyThreads,omitempty"`
	Subscription   subscriptionDoc `bson:"subscription"`
	CreatedAt      time.Time       `bson:"createdAt"`
}

func toSchoolDoc(s *content.School) schoolDoc {
	return schoolDoc{
		ID: s.ID, TrustID: s.TrustID, Name: s.Name, Country: s.Country, TimeZone: s.TimeZone,
		Language: s.Language, QuietStart: s.QuietStart, QuietEnd: s.QuietEnd,
		SMSBudgetPence: s.SMSBudgetPence, ShareFamily: s.ShareFamilyThreads,
		Subscription: subscriptionDoc{State: s.Subscription.State, EndedAt: s.Subscription.EndedAt},
		CreatedAt:    s.CreatedAt,
	}
}

func (d *schoolDoc) toContent() *content.School {
	return &content.School{
		ID: d.ID, TrustID: d.TrustID, Name: d.Name, Country: d.Country, TimeZone: d.TimeZone,
		Language: d.Language, QuietStart: d.QuietStart, QuietEnd: d.QuietEnd,
		SMSBudgetPence: d.SMSBudgetPence, ShareFamilyThreads: d.ShareFamily,
		Subscription: content.Subscription{State: d.Subscription.State, EndedAt: d.Subscription.EndedAt},
		CreatedAt:    d.CreatedAt,
	}
}

type schoolRolesDoc struct {
	SchoolID string         `bson:"schoolId"`
	Roles    []content.Role `bson:"roles"`
}

type staffDoc struct {
	ID           string           `bson:"_id"`
	Email        string           `bson:"email"`
	PasswordHash string           `bson:"passwordHash,omitempty"`
	Title        string           `bson:"title,omitempty"`
	FirstName    string           `bson:"firstName"`
	LastName     string           `bson:"lastName"`
	Schools      []schoolRolesDoc `bson:"schools"`
	TrustAdmin   []string         `bson:"trustAdmin,omitempty"`
	Operator     bool             `bson:"operator,omitempty"`
	Sessions     []string         `bson:"sessions"`
	// Devices are the staff app's push tokens by device ID, as on parents.
	Devices      map[string]deviceDoc `bson:"devices,omitempty"`
	WorkingHours *workingHoursDoc     `bson:"workingHours,omitempty"`
	DigestOff    bool                 `bson:"digestOff,omitempty"`
	LastActiveAt time.Time            `bson:"lastActiveAt,omitempty"`
	CreatedAt    time.Time            `bson:"createdAt"`
}

// workingHoursDoc is a staff member's own working hours: minutes after
// local midnight and the weekdays worked (0 = Sunday).
type workingHoursDoc struct {
	Start int   `bson:"start"`
	End   int   `bson:"end"`
	Days  []int `bson:"days"`
}

func toWorkingHoursDoc(w *content.WorkingHours) *workingHoursDoc {
	if w == nil {
		return nil
	}
	d := &workingHoursDoc{Start: w.StartMinute, End: w.EndMinute, Days: []int{}}
	for _, day := range w.Days {
		d.Days = append(d.Days, int(day))
	}
	return d
}

func (d *workingHoursDoc) toContent() *content.WorkingHours {
	if d == nil {
		return nil
	}
	w := &content.WorkingHours{StartMinute: d.Start, EndMinute: d.End}
	for _, day := range d.Days {
		w.Days = append(w.Days, time.Weekday(day))
	}
	return w
}

func toStaffDoc(s *content.Staff) staffDoc {
	d := staffDoc{
		ID: s.ID, Email: s.Email, PasswordHash: s.PasswordHash, Title: s.Title,
		FirstName: s.FirstName, LastName: s.LastName, TrustAdmin: s.TrustAdmin,
		Operator: s.Operator, Sessions: nonNil(s.Sessions), LastActiveAt: s.LastActiveAt,
		CreatedAt: s.CreatedAt, Schools: []schoolRolesDoc{}, Devices: toDeviceDocs(s.Devices),
		WorkingHours: toWorkingHoursDoc(s.WorkingHours), DigestOff: s.DigestOff,
	}
	for _, sr := range s.Schools {
		d.Schools = append(d.Schools, schoolRolesDoc{SchoolID: sr.SchoolID, Roles: sr.Roles})
	}
	return d
}

func (d *staffDoc) toContent() *content.Staff {
	s := &content.Staff{
		ID: d.ID, Email: d.Email, PasswordHash: d.PasswordHash, Title: d.Title,
		FirstName: d.FirstName, LastName: d.LastName, TrustAdmin: d.TrustAdmin,
		Operator: d.Operator, Sessions: d.Sessions, LastActiveAt: d.LastActiveAt, CreatedAt: d.CreatedAt,
		Devices: devicesOf(d.Devices), WorkingHours: d.WorkingHours.toContent(), DigestOff: d.DigestOff,
	}
	for _, sr := range d.Schools {
		s.Schools = append(s.Schools, content.SchoolRoles{SchoolID: sr.SchoolID, Roles: sr.Roles})
	}
	return s
}

type classDoc struct {
	ID         string    `bson:"_id"`
	SchoolID   string    `bson:"schoolId"`
	Name       string    `bson:"name"`
	YearGroup  string    `bson:"yearGroup"`
	TeacherIDs []string  `bson:"teacherIds"`
	CreatedAt  time.Time `bson:"createdAt"`
}

func toClassDoc(c *content.Class) classDoc {
	return classDoc{ID: c.ID, SchoolID: c.SchoolID, Name: c.Name, YearGroup: c.YearGroup,
		TeacherIDs: nonNil(c.TeacherIDs), CreatedAt: c.CreatedAt}
}

func (d *classDoc) toContent() *content.Class {
	return &content.Class{ID: d.ID, SchoolID: d.SchoolID, Name: d.Name, YearGroup: d.YearGroup,
		TeacherIDs: d.TeacherIDs, CreatedAt: d.CreatedAt}
}

type parentLinkDoc struct {
	ParentID     string            `bson:"parentId"`
	Relationship string            `bson:"relationship,omitempty"`
	State        content.LinkState `bson:"state"`
	LinkedAt     time.Time         `bson:"linkedAt"`
	RemovedAt    time.Time         `bson:"removedAt,omitempty"`
}

type schoolLinkDoc struct {
	State     content.LinkState `bson:"state"`
	RemovedAt time.Time         `bson:"removedAt,omitempty"`
}

// severanceDoc is a parent the school cut off from a child: ids and keyed
// contact hashes only.
type severanceDoc struct {
	ParentID    string    `bson:"parentId"`
	ContactKeys []string  `bson:"contactKeys,omitempty"`
	At          time.Time `bson:"at"`
	By          string    `bson:"by"`
}

func toSeveranceDocs(ss []content.Severance) []severanceDoc {
	out := make([]severanceDoc, 0, len(ss))
	for _, s := range ss {
		out = append(out, severanceDoc{ParentID: s.ParentID, ContactKeys: s.ContactKeys, At: s.At, By: s.By})
	}
	return out
}

type childDoc struct {
	ID           string          `bson:"_id"`
	SchoolID     string          `bson:"schoolId"`
	FirstName    string          `bson:"firstName"`
	LastName     string          `bson:"lastName"`
	UPN          string          `bson:"upn,omitempty"`
	YearGroup    string          `bson:"yearGroup"`
	ClassIDs     []string        `bson:"classIds"`
	PupilPremium bool            `bson:"pupilPremium"`
	Parents      []parentLinkDoc `bson:"parents"`
	SchoolLink   schoolLinkDoc   `bson:"schoolLink"`
	Severed      []severanceDoc  `bson:"severed,omitempty"`
	CreatedAt    time.Time       `bson:"createdAt"`
}

func toParentLinkDocs(ls []content.ParentLink) []parentLinkDoc {
	out := make([]parentLinkDoc, 0, len(ls))
	for _, l := range ls {
		out = append(out, parentLinkDoc{ParentID: l.ParentID, Relationship: l.Relationship,
			State: l.State, LinkedAt: l.LinkedAt, RemovedAt: l.RemovedAt})
	}
	return out
}

func toChildDoc(c *content.Child) childDoc {
	d := childDoc{
		ID: c.ID, SchoolID: c.SchoolID, FirstName: c.FirstName, LastName: c.LastName, UPN: c.UPN,
		YearGroup: c.YearGroup, ClassIDs: nonNil(c.ClassIDs), PupilPremium: c.PupilPremium,
		Parents:    toParentLinkDocs(c.Parents),
		SchoolLink: schoolLinkDoc{State: c.SchoolLink.State, RemovedAt: c.SchoolLink.RemovedAt},
		CreatedAt:  c.CreatedAt,
	}
	if len(c.Severed) > 0 {
		d.Severed = toSeveranceDocs(c.Severed)
	}
	return d
}

func (d *childDoc) toContent() *content.Child {
	c := &content.Child{
		ID: d.ID, SchoolID: d.SchoolID, FirstName: d.FirstName, LastName: d.LastName, UPN: d.UPN,
		YearGroup: d.YearGroup, ClassIDs: d.ClassIDs, PupilPremium: d.PupilPremium,
		SchoolLink: content.SchoolLink{State: d.SchoolLink.State, RemovedAt: d.SchoolLink.RemovedAt},
		CreatedAt:  d.CreatedAt,
	}
	for _, l := range d.Parents {
		c.Parents = append(c.Parents, content.ParentLink{ParentID: l.ParentID, Relationship: l.Relationship,
			State: l.State, LinkedAt: l.LinkedAt, RemovedAt: l.RemovedAt})
	}
	for _, s := range d.Severed {
		c.Severed = append(c.Severed, content.Severance{ParentID: s.ParentID, ContactKeys: s.ContactKeys, At: s.At, By: s.By})
	}
	return c
}

type childLinkDoc struct {
	ChildID   string            `bson:"childId"`
	SchoolID  string            `bson:"schoolId"`
	FirstName string            `bson:"firstName"`
	YearGroup string            `bson:"yearGroup"`
	State     content.LinkState `bson:"state"`
	LinkedAt  time.Time         `bson:"linkedAt"`
	RemovedAt time.Time         `bson:"removedAt,omitempty"`
}

type consentDoc struct {
	Kind     string    `bson:"kind"`
	Version  string    `bson:"version"`
	Accepted bool      `bson:"accepted"`
	At       time.Time `bson:"at"`
}

type parentDoc struct {
	ID           string               `bson:"_id"`
	FirstName    string               `bson:"firstName"`
	LastName     string               `bson:"lastName"`
	Phone        string               `bson:"phone,omitempty"`
	Email        string               `bson:"email,omitempty"`
	Language     string               `bson:"language"`
	State        content.ParentState  `bson:"state"`
	PasswordHash string               `bson:"passwordHash,omitempty"`
	Sessions     []string             `bson:"sessions"`
	Children     []childLinkDoc       `bson:"children"`
	Consents     []consentDoc         `bson:"consents"`
	Devices      map[string]deviceDoc `bson:"devices,omitempty"` // by device ID
	Prefs        map[string]prefDoc   `bson:"prefs,omitempty"`   // by category
	Digest       bool                 `bson:"digest,omitempty"`
	DigestHeld   map[string][]string  `bson:"digestHeld,omitempty"` // day → broadcast IDs
	LastActiveAt time.Time            `bson:"lastActiveAt,omitempty"`
	WarnedAt     time.Time            `bson:"warnedAt,omitempty"`
	ClosedAt     time.Time            `bson:"closedAt,omitempty"`
	ErasedAt     time.Time            `bson:"erasedAt,omitempty"`
	CreatedAt    time.Time            `bson:"createdAt"`
	// The invited clock's notice to the school (content.InvitedClock).
	InviteNoticeAt  time.Time `bson:"inviteNoticeAt,omitempty"`
	InviteNoticeFor time.Time `bson:"inviteNoticeFor,omitempty"`
}

func toChildLinkDocs(ls []content.ChildLink) []childLinkDoc {
	out := make([]childLinkDoc, 0, len(ls))
	for _, l := range ls {
		out = append(out, childLinkDoc{ChildID: l.ChildID, SchoolID: l.SchoolID, FirstName: l.FirstName,
			YearGroup: l.YearGroup, State: l.State, LinkedAt: l.LinkedAt, RemovedAt: l.RemovedAt})
	}
	return out
}

func toParentDoc(p *content.Parent) parentDoc {
	d := parentDoc{
		ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone, Email: p.Email,
		Language: p.Language, State: p.State, PasswordHash: p.PasswordHash,
		Sessions: nonNil(p.Sessions), Children: toChildLinkDocs(p.Children), Consents: []consentDoc{},
		LastActiveAt: p.LastActiveAt, WarnedAt: p.WarnedAt, ClosedAt: p.ClosedAt, ErasedAt: p.ErasedAt, CreatedAt: p.CreatedAt,
		InviteNoticeAt: p.InviteNoticeAt, InviteNoticeFor: p.InviteNoticeFor,
		Digest: p.Digest, DigestHeld: p.DigestHeld,
	}
	for _, c := range p.Consents {
		d.Consents = append(d.Consents, consentDoc{Kind: c.Kind, Version: c.Version, Accepted: c.Accepted, At: c.At})
	}
	d.Devices, d.Prefs = toDeviceDocs(p.Devices), toPrefDocs(p.Preferences)
	return d
}

func (d *parentDoc) toContent() *content.Parent {
	p := &content.Parent{
		ID: d.ID, FirstName: d.FirstName, LastName: d.LastName, Phone: d.Phone, Email: d.Email,
		Language: d.Language, State: d.State, PasswordHash: d.PasswordHash, Sessions: d.Sessions,
		LastActiveAt: d.LastActiveAt, WarnedAt: d.WarnedAt, ClosedAt: d.ClosedAt, ErasedAt: d.ErasedAt, CreatedAt: d.CreatedAt,
		InviteNoticeAt: d.InviteNoticeAt, InviteNoticeFor: d.InviteNoticeFor,
		Digest: d.Digest, DigestHeld: d.DigestHeld,
	}
	for _, l := range d.Children {
		p.Children = append(p.Children, content.ChildLink{ChildID: l.ChildID, SchoolID: l.SchoolID,
			FirstName: l.FirstName, YearGroup: l.YearGroup, State: l.State, LinkedAt: l.LinkedAt, RemovedAt: l.RemovedAt})
	}
	for _, c := range d.Consents {
		p.Consents = append(p.Consents, content.Consent{Kind: c.Kind, Version: c.Version, Accepted: c.Accepted, At: c.At})
	}
	p.Devices, p.Preferences = devicesOf(d.Devices), prefsOf(d.Prefs)
	return p
}

type invitationDoc struct {
	ID        string    `bson:"_id"`
	SchoolID  string    `bson:"schoolId"`
	ParentID  string    `bson:"parentId"`
	CodeHash  string    `bson:"codeHash"`
	IssuedAt  time.Time `bson:"issuedAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
	Redeemed  bool      `bson:"redeemed"`
	// RedeemedBy is an account ID (no personal data).
	RedeemedBy string `bson:"redeemedBy,omitempty"`
}

type inviteCodeDoc struct {
	Hash      string    `bson:"_id"`
	SchoolID  string    `bson:"schoolId"`
	ParentID  string    `bson:"parentId"`
	ExpiresAt time.Time `bson:"expiresAt"`
	Uses      int       `bson:"uses"`
}

// nonNil stores empty arrays rather than nulls so $push and $pull work.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

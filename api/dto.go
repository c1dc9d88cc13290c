package api

import (
	"time"

	"github.com/hometime-edu/hometime/content"
)

// JSON shapes. Each is built by a converter from content types, choosing
// what the caller's role may see: parents never get UPNs, pupil-premium
// status or other families' contacts; pupil premium is for school admins.

type schoolRolesDTO struct {
	SchoolID string   `json:"school_id"`
	Roles    []string `json:"roles"`
}

type meChildDTO struct {
	ID        string `json:"id"`
	SchoolID  string `json:"school_id"`
	FirstName string `json:"first_name"`
	YearGroup string `json:"year_group"`
	// LeftSchool: the school has removed the child; their past activities
	// are readable, nothing new can be sent.
	LeftSchool bool `json:"left_school,omitempty"`
}

type meDTO struct {
	Kind       string           `json:"kind"`
	ID         string           `json:"id"`
	FirstName  string           `json:"first_name"`
	LastName   string           `json:"last_name"`
	Email      string           `json:"email,omitempty"`
	Phone      string           `json:"phone,omitempty"`
	Language   string           `json:"language,omitempty"`
	Title      string           `json:"title,omitempty"`
	Roles      []schoolRolesDTO `json:"roles"`
	TrustAdmin []string         `json:"trust_admin,omitempty"`
	Children   []meChildDTO     `json:"children"`
	// UnreadConversations (staff only) counts the conversations the staff
	// member has not opened since the parent last wrote.
	UnreadConversations *int `json:"unread_conversations,omitempty"`
}

func toMeDTO(p *content.Principal) meDTO {
	out := meDTO{Kind: string(p.Kind), Roles: []schoolRolesDTO{}, Children: []meChildDTO{}}
	if st := p.Staff; st != nil {
		out.ID, out.FirstName, out.LastName, out.Email, out.Title, out.TrustAdmin = st.ID, st.FirstName, st.LastName, st.Email, st.Title, st.TrustAdmin
		for _, sr := range st.Schools {
			out.Roles = append(out.Roles, schoolRolesDTO{SchoolID: sr.SchoolID, Roles: rolesToStrings(sr.Roles)})
		}
	}
	if pa := p.Parent; pa != nil {
		out.ID, out.FirstName, out.LastName, out.Email, out.Phone, out.Language = pa.ID, pa.FirstName, pa.LastName, pa.Email, pa.Phone, pa.Language
		for _, c := range pa.ReadableChildren() {
			out.Children = append(out.Children, meChildDTO{ID: c.ChildID, SchoolID: c.SchoolID, FirstName: c.FirstName,
				YearGroup: c.YearGroup, LeftSchool: c.State == content.LinkLeft})
		}
	}
	return out
}

func rolesToStrings(rs []content.Role) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, string(r))
	}
	return out
}

type quietHoursDTO struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type subscriptionDTO struct {
	State   string     `json:"state"`
	EndedAt *time.Time `json:"ended_at,omitempty"`
}

type schoolDTO struct {
	ID             string           `json:"id"`
	TrustID        string           `json:"trust_id,omitempty"`
	Name           string           `json:"name"`
	Country        string           `json:"country"`
	TimeZone       string           `json:"time_zone"`
	Language       string           `json:"language"`
	QuietHours     *quietHoursDTO   `json:"quiet_hours,omitempty"`
	SMSBudgetPence *int64           `json:"sms_budget_pence,omitempty"`
	Subscription   *subscriptionDTO `json:"subscription,omitempty"`
	// ShareFamilyThreads: linked parents see each other's comments and
	// the teacher's replies to them (off by default).
	ShareFamilyThreads bool     `json:"share_family_threads"`
	Roles              []string `json:"roles"`
}

// toSchoolDTO shows settings (quiet hours, budget, subscription) to admins.
func toSchoolDTO(s *content.School, roles []content.Role, admin bool) schoolDTO {
	out := schoolDTO{ID: s.ID, TrustID: s.TrustID, Name: s.Name, Country: s.Country, TimeZone: s.TimeZone,
		Language: s.Language, ShareFamilyThreads: s.ShareFamilyThreads, Roles: rolesToStrings(roles)}
	if admin {
		b := s.SMSBudgetPence
		out.QuietHours = &quietHoursDTO{Start: s.QuietStart, End: s.QuietEnd}
		out.SMSBudgetPence = &b
		out.Subscription = &subscriptionDTO{State: s.Subscription.State, EndedAt: timePtr(s.Subscription.EndedAt)}
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

type staffDTO struct {
	ID        string   `json:"id"`
	Email     string   `json:"email"`
	Title     string   `json:"title,omitempty"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Roles     []string `json:"roles"`
}

func toStaffDTO(st *content.Staff, schoolID string) staffDTO {
	out := staffDTO{ID: st.ID, Email: st.Email, Title: st.Title, FirstName: st.FirstName, LastName: st.LastName, Roles: []string{}}
	for _, sr := range st.Schools {
		if sr.SchoolID == schoolID {
			out.Roles = rolesToStrings(sr.Roles)
		}
	}
	return out
}

type classDTO struct {
	ID         string   `json:"id"`
	SchoolID   string   `json:"school_id"`
	Name       string   `json:"name"`
	YearGroup  string   `json:"year_group"`
	TeacherIDs []string `json:"teacher_ids"`
}

func toClassDTO(c *content.Class) classDTO {
	return classDTO{ID: c.ID, SchoolID: c.SchoolID, Name: c.Name, YearGroup: c.YearGroup, TeacherIDs: orEmpty(c.TeacherIDs)}
}

type parentLinkDTO struct {
	ParentID     string `json:"parent_id"`
	Relationship string `json:"relationship,omitempty"`
	State        string `json:"state"`
}

type childDTO struct {
	ID           string          `json:"id"`
	SchoolID     string          `json:"school_id"`
	FirstName    string          `json:"first_name"`
	LastName     string          `json:"last_name"`
	YearGroup    string          `json:"year_group"`
	ClassIDs     []string        `json:"class_ids"`
	UPN          string          `json:"upn,omitempty"`           // staff only
	PupilPremium *bool           `json:"pupil_premium,omitempty"` // school admins only
	SchoolLink   string          `json:"school_link,omitempty"`   // staff only
	Parents      []parentLinkDTO `json:"parents,omitempty"`       // staff only
}

// childView is who is looking at a child.
type childView int

const (
	viewParent childView = iota
	viewTeacher
	viewAdmin
)

func toChildDTO(c *content.Child, v childView) childDTO {
	out := childDTO{ID: c.ID, SchoolID: c.SchoolID, FirstName: c.FirstName, LastName: c.LastName,
		YearGroup: c.YearGroup, ClassIDs: orEmpty(c.ClassIDs)}
	if v >= viewTeacher {
		out.UPN = c.UPN
		out.SchoolLink = string(c.SchoolLink.State)
		out.Parents = []parentLinkDTO{}
		for _, l := range c.Parents {
			out.Parents = append(out.Parents, parentLinkDTO{ParentID: l.ParentID, Relationship: l.Relationship, State: string(l.State)})
		}
	}
	if v == viewAdmin {
		pp := c.PupilPremium
		out.PupilPremium = &pp
	}
	return out
}

type parentDTO struct {
	ID        string   `json:"id"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email,omitempty"`
	Phone     string   `json:"phone,omitempty"`
	Language  string   `json:"language"`
	State     string   `json:"state"`
	ChildIDs  []string `json:"child_ids"`
}

// toParentDTO is the school admin's view of a parent: children at that school only.
func toParentDTO(p *content.Parent, schoolID string) parentDTO {
	out := parentDTO{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone,
		Language: p.Language, State: string(p.State), ChildIDs: []string{}}
	for _, c := range p.Children {
		if c.SchoolID == schoolID && c.State == content.LinkLinked {
			out.ChildIDs = append(out.ChildIDs, c.ChildID)
		}
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type listDTO[T any] struct {
	Items []T `json:"items"`
}

// messageLogItemDTO is one broadcast in the school message log: who sent
// which template when, and how far it has got. No parameters (a child's
// name may be one), no audience, no contacts.
type messageLogItemDTO struct {
	ID         string    `json:"id"`
	Template   string    `json:"template"`
	Category   string    `json:"category"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	State      string    `json:"state"`
	Recipients int       `json:"recipients"`
	Pages      int       `json:"pages"`
	Urgent     bool      `json:"urgent"`
	Important  bool      `json:"important"`
}

func toMessageLogItemDTO(b *content.Broadcast) messageLogItemDTO {
	return messageLogItemDTO{ID: b.ID, Template: b.Template, Category: b.Category, CreatedBy: b.CreatedBy,
		CreatedAt: b.CreatedAt, State: string(b.State), Recipients: b.Recipients, Pages: b.Pages,
		Urgent: b.Urgent, Important: b.Important}
}

type messageLogDTO struct {
	Items      []messageLogItemDTO `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// smsBudgetDTO is a school's SMS budget for the current month.
type smsBudgetDTO struct {
	Month           string     `json:"month"`
	BudgetPence     int64      `json:"budget_pence"`
	SpentPence      int64      `json:"spent_pence"`
	RemainingPence  int64      `json:"remaining_pence"`
	RefusedMessages int64      `json:"refused_messages"`
	LastRefusedAt   *time.Time `json:"last_refused_at,omitempty"`
}

// toSMSBudgetDTO: remaining never shows below zero (a budget lowered after
// the spend, or a send in flight, can leave spend above it).
func toSMSBudgetDTO(sc *content.School, m content.BudgetMonth) smsBudgetDTO {
	return smsBudgetDTO{Month: m.Month, BudgetPence: sc.SMSBudgetPence, SpentPence: m.SpentPence,
		RemainingPence: max(sc.SMSBudgetPence-m.SpentPence, 0), RefusedMessages: m.RefusedMessages,
		LastRefusedAt: timePtr(m.LastRefusedAt)}
}

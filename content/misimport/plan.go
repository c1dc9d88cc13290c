package misimport

import (
	"slices"

	"github.com/hometime-edu/hometime/content"
)

// Roster is the school's current roster, as the caller loads it: live
// children (school link not removed) by UPN, and their parents under
// whatever stable key the caller chooses (a parent ID suits).
type Roster struct {
	Children map[string]CurrentChild  // by UPN
	Parents  map[string]CurrentParent // by the caller's parent key
}

// CurrentChild is a child on the roster.
type CurrentChild struct {
	FirstName    string
	LastName     string
	YearGroup    string
	RegGroup     string
	PupilPremium bool
	ParentKeys   []string // keys into Roster.Parents of live links
}

// CurrentParent is a parent on the roster.
type CurrentParent struct {
	FirstName string
	LastName  string
	Mobile    string // E.164
	Email     string // lower case
	Language  string
	// Invited: the parent already holds an invitation or an account, so
	// importing them again must not send another invite.
	Invited bool
}

// Change is what an import does to one child or parent.
type Change string

const (
	ChangeNew       Change = "new"
	ChangeChanged   Change = "changed"
	ChangeUnchanged Change = "unchanged"
)

// Changed-field names in ChildPlan.Fields and ParentPlan.Fields.
const (
	FieldNameFirst        = "first_name"
	FieldNameLast         = "last_name"
	FieldNameYearGroup    = "year_group"
	FieldNameRegGroup     = "reg_group"
	FieldNamePupilPremium = "pupil_premium"
	FieldNameParents      = "parents"
	FieldNameMobile       = "mobile"
	FieldNameEmail        = "email"
	FieldNameLanguage     = "language"
)

// ChildPlan is what happens to one pupil of the file.
type ChildPlan struct {
	Pupil  int // index into Import.Pupils
	UPN    string
	Change Change
	Fields []string // for ChangeChanged
	// AddedParents are Import.Parents indexes newly linked to this child;
	// RemovedParents are roster parent keys the file no longer lists.
	AddedParents   []int
	RemovedParents []string
}

// ParentPlan is what happens to one parent of the file.
type ParentPlan struct {
	Parent    int    // index into Import.Parents
	RosterKey string // matched roster parent; "" for ChangeNew
	Change    Change
	Fields    []string
}

// Invite is one parent to invite, with everything a cost estimate needs.
type Invite struct {
	Parent   int // index into Import.Parents
	Row      int
	Language string
	SMS      bool  // text the invite: a mobile, not suppressed
	Email    bool  // email it: an address, not suppressed
	Children []int // Import.Pupils indexes, in row order (shared with Import.Parents[Parent].Children: read only)
}

// Suppressed reports whether a normalised contact (E.164 number or
// lower-cased email) is on the suppression list. channel is
// content.SuppressionSMS or content.SuppressionEmail. The caller keys and
// looks it up (see Import.Contacts); nil means nothing is suppressed.
type Suppressed func(channel, normalized string) bool

// LanguageCount is the invites going out in one language.
type LanguageCount struct {
	Invites int
	SMS     int
	Email   int
}

// Summary is the dry run's numbers.
type Summary struct {
	Rows, Pupils, RejectedRows, DuplicateRows                int
	NewChildren, ChangedChildren, UnchangedChildren, Leavers int
	NewParents, ChangedParents, UnchangedParents             int
	Invites, InvitesBySMS, InvitesByEmail                    int
	// SuppressedChannels counts parent channels dropped as suppressed;
	// FullySuppressed the parents left with no channel (not invited).
	SuppressedChannels, FullySuppressed int
	Unreachable                         int // contact cells with no usable channel
	// ContactsWithoutPR counts the contacts left out as not having
	// parental responsibility (one per pupil and contact); by reason in
	// WithoutPR. They are in no other number: not parents, not invites.
	ContactsWithoutPR int
	WithoutPR         map[string]int
	ByLanguage        map[string]LanguageCount
	Problems          map[string]int // by code, import and plan
	// LeaverShare is Leavers over the roster's children. A high share
	// usually means a partial file (one class) rather than a mass exodus;
	// the caller should confirm before removing anyone.
	LeaverShare float64
}

// Plan is the diff of an import against the roster.
type Plan struct {
	Children []ChildPlan  // in row order
	Leavers  []string     // UPNs on the roster and absent from the file, sorted
	Parents  []ParentPlan // in order of first appearance
	Invites  []Invite     // in order of first appearance
	Problems []Problem    // found while planning (suppressed contacts), in row order
	Summary  Summary
}

// NewPlan diffs imp against roster. Parents are matched to roster parents
// by mobile, then by email when exactly one roster parent holds it; each
// roster parent matches at most one import parent. It is a pure function
// of its inputs, so a dry run and the commit that follows plan the same.
func NewPlan(imp *Import, roster Roster, suppressed Suppressed) *Plan {
	pl := &Plan{
		Children: make([]ChildPlan, 0, len(imp.Pupils)),
		Parents:  make([]ParentPlan, 0, len(imp.Parents)),
		Invites:  make([]Invite, 0, len(imp.Parents)),
	}
	pl.startSummary(imp)
	rosterKeyOf := pl.planParents(imp, roster, suppressed)
	pl.planChildren(imp, roster, rosterKeyOf)
	s := &pl.Summary
	for upn := range roster.Children {
		if !imp.Seen(upn) {
			pl.Leavers = append(pl.Leavers, upn)
		}
	}
	slices.Sort(pl.Leavers)
	s.Leavers = len(pl.Leavers)
	if n := len(roster.Children); n > 0 {
		s.LeaverShare = float64(s.Leavers) / float64(n)
	}
	slices.SortStableFunc(pl.Problems, func(a, b Problem) int { return a.Row - b.Row })
	for _, p := range pl.Problems {
		s.Problems[p.Code]++
	}
	return pl
}

// startSummary fills the numbers the parse already knows.
func (pl *Plan) startSummary(imp *Import) {
	s := &pl.Summary
	s.Rows, s.Pupils, s.RejectedRows, s.DuplicateRows = imp.Rows, len(imp.Pupils), imp.RejectedRows, imp.DuplicateRows
	s.ByLanguage = map[string]LanguageCount{}
	s.Problems = map[string]int{}
	for c, n := range imp.ProblemCounts {
		s.Problems[c] = n
	}
	s.Unreachable = imp.ProblemCounts[CodeUnreachable]
	s.WithoutPR = map[string]int{}
	for r, n := range imp.WithoutPR {
		s.WithoutPR[r] = n
		s.ContactsWithoutPR += n
	}
}

// rosterContacts indexes the roster's parents by mobile (the first key
// in key order holding it) and by email (only when one parent holds it:
// a shared email is not a safe match, and maps to ""), iterating in key
// order so matching is deterministic.
func rosterContacts(roster Roster) (byMobile, byEmail map[string]string) {
	rosterKeys := make([]string, 0, len(roster.Parents))
	for k := range roster.Parents {
		rosterKeys = append(rosterKeys, k)
	}
	slices.Sort(rosterKeys)
	byMobile, byEmail = make(map[string]string, len(rosterKeys)), make(map[string]string, len(rosterKeys))
	for _, k := range rosterKeys {
		p := roster.Parents[k]
		if p.Mobile != "" {
			if _, ok := byMobile[p.Mobile]; !ok {
				byMobile[p.Mobile] = k
			}
		}
		if p.Email != "" {
			if _, ok := byEmail[p.Email]; ok {
				byEmail[p.Email] = "" // shared: not a safe match
			} else {
				byEmail[p.Email] = k
			}
		}
	}
	return byMobile, byEmail
}

// planParents matches each parent of the file to a roster parent, plans
// its change and invites it unless the roster's parent was invited. It
// returns the roster key matched by each Import.Parents index ("" for
// none).
func (pl *Plan) planParents(imp *Import, roster Roster, suppressed Suppressed) []string {
	s := &pl.Summary
	byMobile, byEmail := rosterContacts(roster)
	claimed := make(map[string]bool, len(roster.Parents))
	rosterKeyOf := make([]string, len(imp.Parents))
	for i, p := range imp.Parents {
		key := ""
		if k, ok := byMobile[p.Mobile]; ok && p.Mobile != "" && !claimed[k] {
			key = k
		} else if k := byEmail[p.Email]; k != "" && p.Email != "" && !claimed[k] {
			key = k
		}
		pp := ParentPlan{Parent: i, RosterKey: key, Change: ChangeNew}
		invited := false
		if key != "" {
			claimed[key] = true
			rosterKeyOf[i] = key
			cur := roster.Parents[key]
			invited = cur.Invited
			pp.Fields = parentChanges(p, cur)
			pp.Change = ChangeUnchanged
			if len(pp.Fields) > 0 {
				pp.Change = ChangeChanged
			}
		}
		switch pp.Change {
		case ChangeNew:
			s.NewParents++
		case ChangeChanged:
			s.ChangedParents++
		default:
			s.UnchangedParents++
		}
		pl.Parents = append(pl.Parents, pp)

		if invited {
			continue
		}
		pl.invite(imp, i, suppressed)
	}
	return rosterKeyOf
}

// planChildren plans each pupil of the file against the roster's child
// with its UPN: new, or changed in its details or its parents (by the
// roster keys the file's parents matched), or unchanged.
func (pl *Plan) planChildren(imp *Import, roster Roster, rosterKeyOf []string) {
	s := &pl.Summary
	for i, p := range imp.Pupils {
		cp := ChildPlan{Pupil: i, UPN: p.UPN, Change: ChangeNew}
		cur, ok := roster.Children[p.UPN]
		if !ok {
			for _, l := range p.Links {
				cp.AddedParents = append(cp.AddedParents, l.Parent)
			}
			s.NewChildren++
			pl.Children = append(pl.Children, cp)
			continue
		}
		cp.Fields = childChanges(p, cur)
		for _, l := range p.Links {
			if k := rosterKeyOf[l.Parent]; k == "" || !slices.Contains(cur.ParentKeys, k) {
				cp.AddedParents = append(cp.AddedParents, l.Parent)
			}
		}
		for _, k := range cur.ParentKeys {
			if !slices.ContainsFunc(p.Links, func(l Link) bool { return rosterKeyOf[l.Parent] == k }) {
				cp.RemovedParents = append(cp.RemovedParents, k)
			}
		}
		if len(cp.AddedParents) > 0 || len(cp.RemovedParents) > 0 {
			cp.Fields = append(cp.Fields, FieldNameParents)
		}
		cp.Change = ChangeUnchanged
		s.UnchangedChildren++
		if len(cp.Fields) > 0 {
			cp.Change = ChangeChanged
			s.UnchangedChildren--
			s.ChangedChildren++
		}
		pl.Children = append(pl.Children, cp)
	}
}

// invite adds parent i's invite, dropping suppressed channels.
func (pl *Plan) invite(imp *Import, i int, suppressed Suppressed) {
	p := imp.Parents[i]
	s := &pl.Summary
	inv := Invite{Parent: i, Row: p.Row, Language: p.Language}
	flag := func(at cellRef) {
		s.SuppressedChannels++
		pl.Problems = append(pl.Problems, Problem{Row: at.row, Line: at.line, Column: imp.Detection.Header[at.col],
			Code: CodeSuppressed, Severity: SeverityWarning,
			Message: "this contact asked not to be messaged on this channel; it will not be used"})
	}
	if p.Mobile != "" {
		if suppressed != nil && suppressed(content.SuppressionSMS, p.Mobile) {
			flag(p.mobileAt)
		} else {
			inv.SMS = true
		}
	}
	if p.Email != "" {
		if suppressed != nil && suppressed(content.SuppressionEmail, p.Email) {
			flag(p.emailAt)
		} else {
			inv.Email = true
		}
	}
	if !inv.SMS && !inv.Email {
		s.FullySuppressed++
		return
	}
	inv.Children = p.Children
	pl.Invites = append(pl.Invites, inv)
	s.Invites++
	lc := s.ByLanguage[inv.Language]
	lc.Invites++
	if inv.SMS {
		s.InvitesBySMS++
		lc.SMS++
	}
	if inv.Email {
		s.InvitesByEmail++
		lc.Email++
	}
	s.ByLanguage[inv.Language] = lc
}

func parentChanges(p Parent, cur CurrentParent) []string {
	var f []string
	if p.FirstName != cur.FirstName {
		f = append(f, FieldNameFirst)
	}
	if p.LastName != cur.LastName {
		f = append(f, FieldNameLast)
	}
	if p.Mobile != cur.Mobile {
		f = append(f, FieldNameMobile)
	}
	if p.Email != cur.Email {
		f = append(f, FieldNameEmail)
	}
	if p.Language != cur.Language {
		f = append(f, FieldNameLanguage)
	}
	return f
}

func childChanges(p Pupil, cur CurrentChild) []string {
	var f []string
	if p.FirstName != cur.FirstName {
		f = append(f, FieldNameFirst)
	}
	if p.LastName != cur.LastName {
		f = append(f, FieldNameLast)
	}
	if p.YearGroup != cur.YearGroup {
		f = append(f, FieldNameYearGroup)
	}
	if p.RegGroup != cur.RegGroup {
		f = append(f, FieldNameRegGroup)
	}
	if p.PupilPremium != cur.PupilPremium {
		f = append(f, FieldNamePupilPremium)
	}
	return f
}

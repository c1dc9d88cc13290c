package misimport

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// ApplyChunk is how many children or parents one Store.ApplyImport call
// carries: one bulk call's worth. A commit streams its writes a chunk at
// a time, so a 50,000-pupil file never has all its children and parents
// built as documents at once on top of the parsed file and plan.
const ApplyChunk = 1000

// applier builds a commit's roster writes and hands them to put a chunk
// at a time.
type applier struct {
	r     *Run
	now   time.Time
	chunk int
	put   func(*content.ImportWrites) error
	w     *content.ImportWrites // the chunk being built

	classOf map[string]string // class id by lower-cased name, new classes included
	// links holds, by parent id, this school's links as the written
	// children will stand; written, the roster's children among them (a
	// new child is not on the roster).
	links   map[string][]content.ChildLink
	written map[string]bool
}

// apply turns the plan into bulk writes and hands them to put at most
// chunk children or parents at a time: every child first (with the
// classes its reg group needs, then leavers), then every parent, so a
// commit that stops part-way and runs again converges on the same
// documents (children are the source of truth of every link). Children
// are written whole from the roster copy plus the file; parents' copies
// of their links are rebuilt from the children, as the roster's own
// link changes do. Of a written child only its links are kept past its
// chunk, and the pupils, problems, plan and the file's parents are let go
// once the writes that need them are built.
func (r *Run) apply(now time.Time, chunk int, put func(*content.ImportWrites) error) error {
	a := &applier{r: r, now: now, chunk: chunk, put: put, w: &content.ImportWrites{},
		classOf: map[string]string{}, links: map[string][]content.ChildLink{}, written: map[string]bool{}}
	// Reg groups become classes, matched by name.
	for _, cl := range r.snap.Classes {
		if _, ok := a.classOf[strings.ToLower(cl.Name)]; !ok {
			a.classOf[strings.ToLower(cl.Name)] = cl.ID
		}
	}
	if err := a.children(); err != nil {
		return err
	}
	// The pupils are written: from here on only parents are read.
	r.Import.ReleasePupils()
	r.Plan.Children = nil
	return a.parents(r.takeContacts())
}

// flush hands the chunk built so far to put once it holds chunk children
// or parents, or, when force is set, whatever it holds.
func (a *applier) flush(force bool) error {
	w := a.w
	n := len(w.NewChildren) + len(w.Children) + len(w.NewParents) + len(w.ParentUpdates)
	if n < a.chunk && !(force && n+len(w.NewClasses) > 0) {
		return nil
	}
	a.w = &content.ImportWrites{}
	return a.put(w)
}

// children writes every pupil the plan adds or changes (and every
// returning one), then the leavers, and flushes what is left of them.
func (a *applier) children() error {
	r := a.r
	for _, cp := range r.Plan.Children {
		p := &r.Import.Pupils[cp.Pupil]
		cur, relinked := r.current(p)
		switch {
		case cp.Change == ChangeUnchanged && !relinked:
			continue
		case cur == nil:
			k := a.newChild(p)
			a.w.NewChildren = append(a.w.NewChildren, k)
			a.wrote(k, false)
		default:
			k, err := a.updatedChild(cp, p, cur, relinked)
			if err != nil {
				return err
			}
			a.w.Children = append(a.w.Children, k)
			a.wrote(k, true)
		}
		if err := a.flush(false); err != nil {
			return err
		}
	}
	for _, upn := range r.Plan.Leavers {
		cur := r.byUPN[upn]
		if cur == nil || cur.SchoolLink.State != content.LinkLinked {
			continue
		}
		k := *cur
		k.SchoolLink = content.SchoolLink{State: content.LinkRemoved, RemovedAt: a.now}
		a.w.Children = append(a.w.Children, &k)
		a.wrote(&k, true)
		if err := a.flush(false); err != nil {
			return err
		}
	}
	return a.flush(true)
}

// newChild is pupil p as a new child, linked to the file's parents.
func (a *applier) newChild(p *Pupil) *content.Child {
	r := a.r
	k := &content.Child{ID: r.childID(p.UPN), SchoolID: r.SchoolID,
		FirstName: p.FirstName, LastName: p.LastName, UPN: p.UPN, YearGroup: p.YearGroup, ClassIDs: a.classFor(p),
		PupilPremium: p.PupilPremium, SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: a.now}
	for _, l := range p.Links {
		_ = k.LinkParent(r.parent[l.Parent], nil, l.Relationship, a.now) // a new child has no severances
	}
	return k
}

// updatedChild is the roster's child cur as pupil p leaves it: the file's
// details, its class when the reg group changed or it returns, and the
// links the file adds.
func (a *applier) updatedChild(cp ChildPlan, p *Pupil, cur *content.Child, relinked bool) (*content.Child, error) {
	r := a.r
	k := *cur
	k.Parents = slices.Clone(cur.Parents)
	if relinked {
		// A returning pupil: re-linking resets the retention clock.
		k.SchoolLink = content.SchoolLink{State: content.LinkLinked}
	}
	k.FirstName, k.LastName, k.YearGroup, k.PupilPremium = p.FirstName, p.LastName, p.YearGroup, p.PupilPremium
	if relinked || slices.Contains(cp.Fields, FieldNameRegGroup) {
		k.ClassIDs = a.classFor(p)
	}
	// Links the file adds; links it no longer lists are kept (a parent
	// the school added by hand, or one the MIS dropped, keeps access
	// until an admin unlinks them).
	for _, l := range p.Links {
		// A parent the school severed from the child (by id, or by the
		// file's contact for them) is not linked again.
		err := k.LinkParent(r.parent[l.Parent], r.severanceKeys(&k, l.Parent), l.Relationship, a.now)
		if err != nil && !errors.Is(err, content.ErrSevered) {
			return nil, err
		}
	}
	return &k, nil
}

// classFor is the class of p's reg group, matched by name: a reg group
// the school has no class for becomes a new class, written in the chunk
// of the first child in it.
func (a *applier) classFor(p *Pupil) []string {
	if p.RegGroup == "" {
		return []string{}
	}
	k := strings.ToLower(p.RegGroup)
	id, ok := a.classOf[k]
	if !ok {
		id = a.r.classID(k)
		a.classOf[k] = id
		a.w.NewClasses = append(a.w.NewClasses, &content.Class{ID: id, SchoolID: a.r.SchoolID, Name: p.RegGroup,
			YearGroup: p.YearGroup, TeacherIDs: []string{}, CreatedAt: a.now})
	}
	return []string{id}
}

// wrote notes the links of a written child; onRoster: the roster holds
// it (it is not new).
func (a *applier) wrote(k *content.Child, onRoster bool) {
	if onRoster {
		a.written[k.ID] = true
	}
	for _, l := range k.Parents {
		a.links[l.ParentID] = append(a.links[l.ParentID], childLink(a.r.SchoolID, k, l))
	}
}

// contactWrite is a parent's contact as the file gives it, to write.
type contactWrite struct {
	id                                           string
	firstName, lastName, mobile, email, language string
}

// takeContacts copies out the contacts of the parents the plan adds or
// changes, sorted by parent id, then lets go of the plan and the file's
// parents (a whole struct per parent, most of it for planning) before
// the parents' writes.
func (r *Run) takeContacts() []contactWrite {
	n := 0
	for _, pp := range r.Plan.Parents {
		if pp.Change == ChangeNew || pp.Change == ChangeChanged {
			n++
		}
	}
	contacts := make([]contactWrite, 0, n)
	for _, pp := range r.Plan.Parents {
		if pp.Change == ChangeNew || pp.Change == ChangeChanged {
			ip := &r.Import.Parents[pp.Parent]
			contacts = append(contacts, contactWrite{id: r.parent[pp.Parent], firstName: ip.FirstName,
				lastName: ip.LastName, mobile: ip.Mobile, email: ip.Email, language: ip.Language})
		}
	}
	slices.SortFunc(contacts, func(a, b contactWrite) int { return strings.Compare(a.id, b.id) })
	r.Plan, r.Import.Parents = nil, nil
	return contacts
}

// parents writes every parent linked to a written child, or whose
// contacts the file changes, with its copy of its links rebuilt from the
// school's children as they will stand, in parent id order.
func (a *applier) parents(contacts []contactWrite) error {
	contactOf := func(id string) *contactWrite {
		i, ok := slices.BinarySearchFunc(contacts, id, func(c contactWrite, id string) int { return strings.Compare(c.id, id) })
		if !ok {
			return nil
		}
		return &contacts[i]
	}
	a.addUnwrittenLinks(func(id string) bool { return contactOf(id) != nil })
	existing := map[string]*content.Parent{}
	for _, p := range a.r.snap.Parents {
		existing[p.ID] = p
	}
	ids := make([]string, 0, len(a.links)+len(contacts))
	for id := range a.links {
		ids = append(ids, id)
	}
	for _, c := range contacts {
		if _, ok := a.links[c.id]; !ok {
			ids = append(ids, c.id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		kids := a.links[id]
		delete(a.links, id) // built once; let it go with its chunk
		a.parentWrite(id, existing[id], kids, contactOf(id))
		if err := a.flush(false); err != nil {
			return err
		}
	}
	return a.flush(true)
}

// addUnwrittenLinks adds the links of the roster's children this commit
// does not write to every parent it rebuilds: one linked to a written
// child or with a contact to write.
func (a *applier) addUnwrittenLinks(hasContact func(id string) bool) {
	for _, k := range a.r.snap.Children {
		if a.written[k.ID] {
			continue
		}
		for _, l := range k.Parents {
			if _, linked := a.links[l.ParentID]; linked || hasContact(l.ParentID) {
				a.links[l.ParentID] = append(a.links[l.ParentID], childLink(a.r.SchoolID, k, l))
			}
		}
	}
	a.written = nil
}

// parentWrite adds parent id's write to the chunk: cur is the roster's
// parent (nil for a new one), kids its links at this school, ip the
// file's contact for it (nil when the file has none to write). Links at
// other schools are kept; a parent who has joined keeps their contacts.
func (a *applier) parentWrite(id string, cur *content.Parent, kids []content.ChildLink, ip *contactWrite) {
	out := []content.ChildLink{}
	if cur != nil {
		for _, cl := range cur.Children {
			if cl.SchoolID != a.r.SchoolID {
				out = append(out, cl)
			}
		}
	}
	slices.SortStableFunc(kids, func(a, b content.ChildLink) int { return strings.Compare(a.ChildID, b.ChildID) })
	for i, l := range kids {
		if i > 0 && kids[i-1] == l {
			continue // the same child reached twice
		}
		out = append(out, l)
	}
	switch {
	case cur == nil && ip == nil:
		// linked by a child but not in this file nor the roster: nothing to copy to
	case cur == nil && len(out) == 0:
		// every child the file links them to was severed from them
	case cur == nil:
		a.w.NewParents = append(a.w.NewParents, &content.Parent{ID: id, FirstName: ip.firstName, LastName: ip.lastName,
			Phone: ip.mobile, Email: ip.email, Language: ip.language, State: content.ParentInvited,
			Sessions: []string{}, Children: out, CreatedAt: a.now})
	default:
		u := content.ParentUpdate{ID: id, Children: out}
		for _, cl := range cur.Children {
			u.Before = append(u.Before, cl.ChildID)
		}
		// Contacts of a parent who has joined are theirs to change.
		if ip != nil && cur.State == content.ParentInvited {
			u.SetContact, u.FirstName, u.LastName, u.Phone, u.Email, u.Language = true, ip.firstName, ip.lastName, ip.mobile, ip.email, ip.language
		}
		a.w.ParentUpdates = append(a.w.ParentUpdates, u)
	}
}

// childLink is a parent's copy of its link to child k at school
// schoolID (content.ChildLinkOf: left when the school has removed the child).
func childLink(schoolID string, k *content.Child, l content.ParentLink) content.ChildLink {
	cl := content.ChildLinkOf(k, l)
	cl.SchoolID = schoolID
	return cl
}

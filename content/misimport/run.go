package misimport

import (
	"context"

	"github.com/hometime-edu/hometime/content"
)

// Store is what an import reads and writes: the school's roster and the
// suppression list it is planned against, then the batch record, its
// per-row outcomes and the roster writes of a commit. content.Imports
// satisfies it (content/mongostore implements that).
type Store interface {
	RosterSnapshot(ctx context.Context, schoolID string) (*content.RosterSnapshot, error)
	SuppressedKeys(ctx context.Context, keys []string) (map[string]bool, error)

	Import(ctx context.Context, id string) (*content.ImportBatch, error)
	PutImport(ctx context.Context, b *content.ImportBatch) error
	PutImportRows(ctx context.Context, importID string, rows []content.ImportRowOutcome) (int, error)
	ApplyImport(ctx context.Context, w *content.ImportWrites) error
}

// Run is one parsed file planned against one school's roster: what a dry
// run describes and a commit applies. Ids are derived with HashKey from
// the school and the UPN, household key or reg group, so a retried or
// re-uploaded file lands on the same documents.
type Run struct {
	SchoolID string
	Import   *Import
	Plan     *Plan

	hashKey []byte
	snap    *content.RosterSnapshot
	byUPN   map[string]*content.Child // every child of the school with a UPN, removed ones included
	parent  []string                  // Import.Parents index → parent id (roster or deterministic)
}

// PlanRun loads the school's roster and the suppressions among the file's
// contacts from st and plans imp against them. It writes nothing.
func PlanRun(ctx context.Context, st Store, hashKey []byte, schoolID string, imp *Import) (*Run, error) {
	snap, err := st.RosterSnapshot(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	hit, err := suppressedContacts(ctx, st, hashKey, imp.Contacts())
	if err != nil {
		return nil, err
	}
	suppressed := func(channel, normalized string) bool {
		return hit[ContactRef{Channel: channel, Normalized: normalized}]
	}
	return NewRun(hashKey, schoolID, imp, snap, suppressed), nil
}

// NewRun plans imp against snap, the school's roster as the store holds
// it; suppressed may be nil (nothing is suppressed).
func NewRun(hashKey []byte, schoolID string, imp *Import, snap *content.RosterSnapshot, suppressed Suppressed) *Run {
	r := &Run{SchoolID: schoolID, Import: imp, hashKey: hashKey, snap: snap}
	r.Plan = NewPlan(imp, r.roster(), suppressed)
	r.parent = r.parentIDs()
	return r
}

// SuppressionLookupBatch is how many contacts' keys exist at once while
// the file's contacts are checked against the suppression list.
const SuppressionLookupBatch = 5000

// suppressedContacts returns the contacts among refs that are on the
// suppression list (usually none). Keys are made and looked up a batch at
// a time: all 100,000 of a large file's keys at once (64-byte hex each)
// would sit on top of the parsed file at the plan's memory peak.
func suppressedContacts(ctx context.Context, st Store, hashKey []byte, refs []ContactRef) (map[ContactRef]bool, error) {
	hits := map[ContactRef]bool{}
	keys := make([]string, 0, min(len(refs), SuppressionLookupBatch))
	for start := 0; start < len(refs); start += SuppressionLookupBatch {
		batch := refs[start:min(start+SuppressionLookupBatch, len(refs))]
		keys = keys[:0]
		for _, r := range batch {
			keys = append(keys, content.SuppressionKey(hashKey, r.Channel, r.Normalized))
		}
		hit, err := st.SuppressedKeys(ctx, keys)
		if err != nil {
			return nil, err
		}
		for i, k := range keys {
			if hit[k] {
				hits[batch[i]] = true
			}
		}
	}
	return hits, nil
}

// roster turns the snapshot into the planner's view, keyed by parent id,
// and indexes the school's children by UPN.
func (r *Run) roster() Roster {
	ro := Roster{Children: map[string]CurrentChild{}, Parents: map[string]CurrentParent{}}
	className := map[string]string{}
	for _, cl := range r.snap.Classes {
		className[cl.ID] = cl.Name
	}
	r.byUPN = map[string]*content.Child{}
	for _, k := range r.snap.Children {
		if k.UPN == "" {
			continue
		}
		if prev, ok := r.byUPN[k.UPN]; ok && prev.SchoolLink.State == content.LinkLinked {
			continue // a live child wins over a removed one with the same UPN
		}
		r.byUPN[k.UPN] = k
		if k.SchoolLink.State != content.LinkLinked {
			continue
		}
		cc := CurrentChild{FirstName: k.FirstName, LastName: k.LastName, YearGroup: k.YearGroup,
			PupilPremium: k.PupilPremium}
		if len(k.ClassIDs) > 0 {
			cc.RegGroup = className[k.ClassIDs[0]]
		}
		for _, l := range k.Parents {
			if l.State == content.LinkLinked {
				cc.ParentKeys = append(cc.ParentKeys, l.ParentID)
			}
		}
		ro.Children[k.UPN] = cc
	}
	for _, p := range r.snap.Parents {
		if p.State == content.ParentErased {
			continue
		}
		ro.Parents[p.ID] = CurrentParent{FirstName: p.FirstName, LastName: p.LastName, Mobile: p.Phone,
			Email: p.Email, Language: p.Language,
			Invited: r.snap.Invited[p.ID] || p.State != content.ParentInvited}
	}
	return ro
}

// parentIDs maps each parent of the file to its id: the roster parent it
// matched, or a deterministic one from the school and household key.
func (r *Run) parentIDs() []string {
	ids := make([]string, len(r.Import.Parents))
	for _, pp := range r.Plan.Parents {
		id := pp.RosterKey
		if id == "" {
			id = "par_" + content.KeyedHash(r.hashKey, "household:"+r.SchoolID+":"+r.Import.Parents[pp.Parent].Key)[:20]
		}
		ids[pp.Parent] = id
	}
	return ids
}

// childID is the deterministic id of a new child.
func (r *Run) childID(upn string) string {
	return "chd_" + content.KeyedHash(r.hashKey, "upn:"+r.SchoolID+":"+upn)[:20]
}

// classID is the deterministic id of a new class for a reg group; key is
// the group's name lower-cased.
func (r *Run) classID(key string) string {
	return "cls_" + content.KeyedHash(r.hashKey, "class:"+r.SchoolID+":"+key)[:20]
}

// current is the roster's child for pupil p (nil for a new pupil), and
// whether p is returning: on the roster but no longer linked to the school.
func (r *Run) current(p *Pupil) (cur *content.Child, relinked bool) {
	cur = r.byUPN[p.UPN]
	return cur, cur != nil && cur.SchoolLink.State != content.LinkLinked
}

// severanceKeys are the keys a severance on k would hold for the file's
// parent i (none when k has no severances, which is almost always).
func (r *Run) severanceKeys(k *content.Child, i int) []string {
	if len(k.Severed) == 0 {
		return nil
	}
	ip := &r.Import.Parents[i]
	return content.SeveranceKeys(r.hashKey, ip.Mobile, ip.Email)
}

// Households counts families: pupils joined by a shared contact are one.
func (imp *Import) Households() int {
	up := make([]int, len(imp.Pupils))
	for i := range up {
		up[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for up[i] != i {
			up[i] = up[up[i]]
			i = up[i]
		}
		return i
	}
	for _, p := range imp.Parents {
		for _, k := range p.Children[min(1, len(p.Children)):] {
			a, b := find(p.Children[0]), find(k)
			if a != b {
				up[a] = b
			}
		}
	}
	n := 0
	for i := range up {
		if find(i) == i {
			n++
		}
	}
	return n
}

package misimport

import (
	"slices"
	"strings"
)

// Who becomes a parent. Only a contact with parental responsibility (PR)
// is linked to a pupil and invited. Every other contact the MIS lists
// (grandparents, neighbours, childminders given as emergency contacts)
// stays with the school: the import keeps nothing of them but a count and
// a note on their row, so they are never invited, never linked and never
// shown anything.
//
// A contact has PR when the PR cell of their slot says so (Y, Yes, True,
// 1; a blank or anything else is no), or when their relationship is one
// the school lists in Responsibility.Relationships (a carer holding PR by
// court order, which some MIS records do not flag). Contacts of a slot
// whose file has no PR column at all follow Responsibility.Missing; left
// unset, none of them is a parent, and the caller must ask the school to
// choose before committing.

// PRMissing is the school's choice for contacts whose slot has no PR
// column.
type PRMissing string

const (
	// PRMissingUnset: no choice made. None of those contacts is a parent;
	// a commit should be refused until the school chooses.
	PRMissingUnset PRMissing = ""
	// PRMissingAllParents: every contact of those slots is a parent, as
	// imports did before PR was read. For a file the school knows lists
	// only people with PR.
	PRMissingAllParents PRMissing = "treat_all_as_parents"
	// PRMissingPriorityOne: only each pupil's priority-1 contact is a
	// parent. The priority is the slot's Priority cell; a numbered slot
	// with no priority column takes its number (MIS reports list contacts
	// in priority order), so "Contact 1" is priority 1. The unnumbered
	// contact of a one-row-per-contact file needs a Priority column.
	PRMissingPriorityOne PRMissing = "priority_one_only"
)

// ValidPRMissing reports whether m is one of the choices, unset included.
func ValidPRMissing(m PRMissing) bool {
	switch m {
	case PRMissingUnset, PRMissingAllParents, PRMissingPriorityOne:
		return true
	}
	return false
}

// Responsibility is how an import decides who has parental
// responsibility.
type Responsibility struct {
	Missing PRMissing
	// Relationships are relationships treated as having PR whatever the
	// PR cell says, compared as NormalizeRelationship leaves them.
	Relationships []string
}

// Reasons a contact was left out; also the problem codes of the per-row
// notes (pr_column_missing has no per-row note: the file-level warning
// says it once).
const (
	ReasonNoParentalResponsibility = CodeNoParentalResponsibility
	ReasonNotPriorityOne           = CodeNotPriorityOne
	ReasonPRColumnMissing          = CodePRColumnMissing
)

// NormalizeRelationship is how relationships compare: lower case, single
// spaces, so "Foster  Carer" and "foster carer" are one.
func NormalizeRelationship(s string) string {
	return strings.ToLower(collapseSpaces(cleanCell(s)))
}

// allows reports whether relationship is one the school treats as having
// PR.
func (r Responsibility) allows(relationship string) bool {
	if len(r.Relationships) == 0 || relationship == "" {
		return false
	}
	return slices.Contains(r.Relationships, NormalizeRelationship(relationship))
}

// decide says whether a contact is a parent and, when not, why. hasColumn
// is whether the contact's slot has a PR column, pr what its cell says;
// priority is the contact's priority as PRMissingPriorityOne reads it.
func (r Responsibility) decide(hasColumn, pr bool, priority int, relationship string) (parent bool, reason string) {
	switch {
	case hasColumn && pr:
		return true, ""
	case r.allows(relationship):
		return true, ""
	case hasColumn:
		return false, ReasonNoParentalResponsibility
	}
	switch r.Missing {
	case PRMissingAllParents:
		return true, ""
	case PRMissingPriorityOne:
		if priority == 1 {
			return true, ""
		}
		return false, ReasonNotPriorityOne
	}
	return false, ReasonPRColumnMissing
}

// SlotsWithoutPR are the contact slots that have a mobile or email column
// but no PR column: their contacts follow Responsibility.Missing.
func (d *Detection) SlotsWithoutPR() []int {
	var out []int
	for _, slot := range d.Contacts {
		_, m := d.Columns[ContactField(slot, AttrMobile)]
		_, e := d.Columns[ContactField(slot, AttrEmail)]
		_, pr := d.Columns[ContactField(slot, AttrParentalResponsibility)]
		if (m || e) && !pr {
			out = append(out, slot)
		}
	}
	return out
}

// PriorityUnknown reports whether PRMissingPriorityOne cannot tell the
// priority of some contacts without a PR column: the unnumbered contact of
// a one-row-per-contact file with no Priority column.
func (d *Detection) PriorityUnknown() bool {
	for _, slot := range d.SlotsWithoutPR() {
		if _, ok := d.Columns[ContactField(slot, AttrPriority)]; !ok && slot == 0 {
			return true
		}
	}
	return false
}

package content

import "slices"

// Principal is the signed-in caller, loaded once per request.
type Principal struct {
	Kind      AccountKind
	SessionID string
	Staff     *Staff  // set when Kind == KindStaff
	Parent    *Parent // set when Kind == KindParent
}

// ID is the account id of the caller.
func (p *Principal) ID() string {
	if p.Staff != nil {
		return p.Staff.ID
	}
	if p.Parent != nil {
		return p.Parent.ID
	}
	return ""
}

// RolesAt returns the caller's roles at a school. Trust admins are admins of
// every school in their trust.
func (p *Principal) RolesAt(s *School) []Role {
	if p == nil || p.Staff == nil || s == nil {
		return nil
	}
	var roles []Role
	for _, sr := range p.Staff.Schools {
		if sr.SchoolID == s.ID {
			roles = append(roles, sr.Roles...)
		}
	}
	if s.TrustID != "" && slices.Contains(p.Staff.TrustAdmin, s.TrustID) && !slices.Contains(roles, RoleAdmin) {
		roles = append(roles, RoleAdmin)
	}
	return roles
}

// IsSchoolAdmin reports whether the caller administers the school.
func (p *Principal) IsSchoolAdmin(s *School) bool {
	return slices.Contains(p.RolesAt(s), RoleAdmin)
}

// IsSchoolStaff reports whether the caller holds any role at the school.
func (p *Principal) IsSchoolStaff(s *School) bool { return len(p.RolesAt(s)) > 0 }

// TeachesClass reports whether the caller is one of the class's teachers.
func (p *Principal) TeachesClass(c *Class) bool {
	return p != nil && p.Staff != nil && c != nil && slices.Contains(c.TeacherIDs, p.Staff.ID)
}

// CanSeeClass: the school's admins and the class's teachers.
func (p *Principal) CanSeeClass(s *School, c *Class) bool {
	return c.SchoolID == s.ID && (p.IsSchoolAdmin(s) || p.TeachesClass(c))
}

// CanSeeChildAsStaff: the school's admins, and teachers of one of the
// child's classes (classes are the child's classes, already loaded).
func (p *Principal) CanSeeChildAsStaff(s *School, child *Child, classes []*Class) bool {
	if child.SchoolID != s.ID {
		return false
	}
	if p.IsSchoolAdmin(s) {
		return true
	}
	for _, c := range classes {
		if slices.Contains(child.ClassIDs, c.ID) && p.TeachesClass(c) {
			return true
		}
	}
	return false
}

// ParentOf reports whether the caller is a parent with a live link to the child.
func (p *Principal) ParentOf(childID string) bool {
	if p == nil || p.Parent == nil {
		return false
	}
	_, ok := p.Parent.LinkedChild(childID)
	return ok
}

// CanReadChild reports whether the caller is a parent who may read the
// child's data: a live link, or a child who left the school (read-only).
func (p *Principal) CanReadChild(childID string) bool {
	if p == nil || p.Parent == nil {
		return false
	}
	_, ok := p.Parent.ReadableChild(childID)
	return ok
}

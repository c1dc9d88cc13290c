package mistest

import "github.com/hometime-edu/hometime/content/misimport"

// RosterAfter is the roster a school would hold after committing imp and
// inviting everyone: what a re-upload of the same file is planned against.
// Parents are keyed by misimport.ContactKey.
func RosterAfter(imp *misimport.Import) misimport.Roster {
	r := misimport.Roster{Children: map[string]misimport.CurrentChild{}, Parents: map[string]misimport.CurrentParent{}}
	for _, p := range imp.Parents {
		r.Parents[p.Key] = misimport.CurrentParent{FirstName: p.FirstName, LastName: p.LastName, Mobile: p.Mobile,
			Email: p.Email, Language: p.Language, Invited: true}
	}
	for _, p := range imp.Pupils {
		c := misimport.CurrentChild{FirstName: p.FirstName, LastName: p.LastName, YearGroup: p.YearGroup,
			RegGroup: p.RegGroup, PupilPremium: p.PupilPremium}
		for _, l := range p.Links {
			c.ParentKeys = append(c.ParentKeys, imp.Parents[l.Parent].Key)
		}
		r.Children[p.UPN] = c
	}
	return r
}

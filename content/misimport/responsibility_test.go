package misimport_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// parseWith parses a whole file (header included) with a PR choice.
func parseWith(t *testing.T, file string, r misimport.Responsibility, m misimport.Mapping) *misimport.Import {
	t.Helper()
	imp, err := misimport.Parse(strings.NewReader(file), misimport.Options{Region: "GB", DefaultLanguage: "en",
		Phones: mistest.UKPhones{}, Responsibility: r, Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

// mobiles lists the parents' mobiles, and each pupil's linked mobiles.
func mobiles(imp *misimport.Import) (parents []string, links [][]string) {
	for _, p := range imp.Parents {
		parents = append(parents, p.Mobile)
	}
	for _, p := range imp.Pupils {
		var ls []string
		for _, l := range p.Links {
			ls = append(ls, imp.Parents[l.Parent].Mobile)
		}
		links = append(links, ls)
	}
	return parents, links
}

// TestOnlyContactsWithPRBecomeParents: SIMS, Arbor and Bromcom write the
// PR column their own way; a contact without PR is in no parent, no link
// and no invite, and is counted once per pupil with a note on the row.
func TestOnlyContactsWithPRBecomeParents(t *testing.T) {
	cases := []struct {
		name, header, rows, prCol string
	}{
		{"SIMS Y/N",
			"UPN,Legal Surname,Legal Forename,Year,Contact 1 Forename,Contact 1 Surname,Contact 1 Relationship,Contact 1 Mobile,Contact 1 Parental Responsibility,Contact 1 Priority," +
				"Contact 2 Forename,Contact 2 Surname,Contact 2 Relationship,Contact 2 Mobile,Contact 2 Parental Responsibility,Contact 2 Priority\n",
			upn(1) + ",Jones,Ffion,Year 1,Bethan,Jones,Mother,07400 000001,Y,1,Glenys,Jones,Grandmother,07400 000002,N,2\n" +
				upn(2) + ",Jones,Rhys,Year 3,Bethan,Jones,Mother,07400 000001,True,1,Glenys,Jones,Grandmother,07400 000002,False,2\n",
			"Contact 2 Parental Responsibility"},
		{"Arbor Has Parental Responsibility Yes/No",
			"UPN,Forename,Surname,Year Group,Contact 1 Name,Contact 1 Relationship,Contact 1 Mobile Phone,Contact 1 Has Parental Responsibility," +
				"Contact 2 Name,Contact 2 Relationship,Contact 2 Mobile Phone,Contact 2 Has Parental Responsibility\n",
			upn(1) + ",Ffion,Jones,Y1,Mrs Bethan Jones,Mother,07400 000001,Yes,Glenys Jones,Grandmother,07400 000002,No\n" +
				upn(2) + ",Rhys,Jones,Y3,Mrs Bethan Jones,Mother,07400 000001,Yes,Glenys Jones,Grandmother,07400 000002,\n",
			"Contact 2 Has Parental Responsibility"},
		{"Bromcom PR True/False",
			"UPN,Preferred Forename,Legal Surname,NC Year,Contact1_Name,Contact1_Relationship,Contact1_Telephone,Contact1_PR," +
				"Contact2_Name,Contact2_Relationship,Contact2_Telephone,Contact2_PR\n",
			upn(1) + ",Ffion,Jones,1,\"Jones, Bethan\",Mother,+447400000001,True,\"Jones, Glenys\",Childminder,+447400000002,False\n" +
				upn(2) + ",Rhys,Jones,3,\"Jones, Bethan\",Mother,+447400000001,True,\"Jones, Glenys\",Childminder,+447400000002,False\n",
			"Contact2_PR"},
		{"one row per contact, bare PR",
			"UPN,Surname,Forename,Year,Contact Name,Relationship,Contact Mobile,PR,Priority\n",
			upn(1) + ",Jones,Ffion,Y1,Bethan Jones,Mother,07400 000001,Y,1\n" +
				upn(1) + ",Jones,Ffion,Y1,Glenys Jones,Neighbour,07400 000002,N,2\n" +
				upn(2) + ",Jones,Rhys,Y3,Bethan Jones,Mother,07400 000001,Y,1\n" +
				upn(2) + ",Jones,Rhys,Y3,Glenys Jones,Neighbour,07400 000002,N,2\n", "PR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			imp := parseWith(t, c.header+c.rows, misimport.Responsibility{}, nil)
			if got := imp.Detection.SlotsWithoutPR(); len(got) != 0 {
				t.Fatalf("slots without a PR column %v: the PR column was not detected (%v)", got, imp.Detection.Ignored)
			}
			parents, links := mobiles(imp)
			if !slices.Equal(parents, []string{"+447400000001"}) {
				t.Errorf("parents %v, want only the contact with PR", parents)
			}
			for i, ls := range links {
				if !slices.Equal(ls, []string{"+447400000001"}) {
					t.Errorf("pupil %d linked to %v", i, ls)
				}
			}
			if imp.WithoutPR[misimport.ReasonNoParentalResponsibility] != 2 || len(imp.WithoutPR) != 1 {
				t.Errorf("left out %v, want 2 for no_parental_responsibility", imp.WithoutPR)
			}
			notes := 0
			for _, p := range imp.Problems {
				if p.Code == misimport.CodeNoParentalResponsibility {
					notes++
					if p.Column != c.prCol || p.Severity != misimport.SeverityWarning {
						t.Errorf("note on column %q (%s), want a warning on %q", p.Column, p.Severity, c.prCol)
					}
				}
			}
			if notes != 2 {
				t.Errorf("%d per-row notes, want 2: %v", notes, problemsAt(imp.Problems))
			}
			pl := misimport.NewPlan(imp, misimport.Roster{}, nil)
			if pl.Summary.Invites != 1 || pl.Summary.NewParents != 1 || pl.Summary.ContactsWithoutPR != 2 {
				t.Errorf("plan: %d invites, %d new parents, %d without PR; want 1, 1, 2",
					pl.Summary.Invites, pl.Summary.NewParents, pl.Summary.ContactsWithoutPR)
			}
		})
	}
}

// A sibling's contact may hold PR for one child only (a step-parent): they
// are that child's parent, not the other's.
func TestPRIsPerPupil(t *testing.T) {
	file := "UPN,Forename,Surname,Year,Contact 1 Name,Contact 1 Mobile,Contact 1 Parental Responsibility,Contact 2 Name,Contact 2 Mobile,Contact 2 Parental Responsibility\n" +
		upn(1) + ",Ffion,Jones,Y1,Bethan Jones,07400 000001,Y,Dai Evans,07400 000003,Y\n" +
		upn(2) + ",Rhys,Jones,Y3,Bethan Jones,07400 000001,Y,Dai Evans,07400 000003,N\n" +
		// an empty slot whose export wrote "N" is nobody
		upn(3) + ",Alys,Jones,R,Bethan Jones,07400 000001,Y,,,N\n"
	imp := parseWith(t, file, misimport.Responsibility{}, nil)
	_, links := mobiles(imp)
	want := [][]string{{"+447400000001", "+447400000003"}, {"+447400000001"}, {"+447400000001"}}
	if !slices.EqualFunc(links, want, slices.Equal[[]string]) {
		t.Errorf("links %v, want %v", links, want)
	}
	if imp.WithoutPR[misimport.ReasonNoParentalResponsibility] != 1 {
		t.Errorf("left out %v, want 1", imp.WithoutPR)
	}
}

// The school may name relationships that have PR whatever the cell says
// (a carer with PR by court order).
func TestRelationshipsWithPR(t *testing.T) {
	file := "UPN,Forename,Surname,Year,Contact 1 Name,Contact 1 Relationship,Contact 1 Mobile,Contact 1 Parental Responsibility," +
		"Contact 2 Name,Contact 2 Relationship,Contact 2 Mobile,Contact 2 Parental Responsibility\n" +
		upn(1) + ",Ffion,Jones,Y1,Sam Lee,Foster  Carer,07400 000001,N,Glenys Jones,Grandmother,07400 000002,N\n"
	r := misimport.Responsibility{Relationships: []string{misimport.NormalizeRelationship(" foster carer ")}}
	imp := parseWith(t, file, r, nil)
	if parents, _ := mobiles(imp); !slices.Equal(parents, []string{"+447400000001"}) {
		t.Errorf("parents %v, want the foster carer only", parents)
	}
	if imp.WithoutPR[misimport.ReasonNoParentalResponsibility] != 1 {
		t.Errorf("left out %v", imp.WithoutPR)
	}
}

// A file without a PR column: nobody is a parent until the school
// chooses; then everyone, or priority 1 only (the Priority cell, or the
// slot's number when there is no Priority column).
func TestNoPRColumn(t *testing.T) {
	withPriority := "UPN,Forename,Surname,Year,Contact 1 Name,Contact 1 Mobile,Contact 1 Priority,Contact 2 Name,Contact 2 Mobile,Contact 2 Priority\n" +
		upn(1) + ",Ffion,Jones,Y1,Glenys Jones,07400 000002,2,Bethan Jones,07400 000001,1\n"
	numbered := "UPN,Forename,Surname,Year,Contact 1 Name,Contact 1 Mobile,Contact 2 Name,Contact 2 Mobile\n" +
		upn(1) + ",Ffion,Jones,Y1,Bethan Jones,07400 000001,Glenys Jones,07400 000002\n"
	cases := []struct {
		name    string
		file    string
		missing misimport.PRMissing
		parents []string
		left    map[string]int
	}{
		{"no choice", withPriority, misimport.PRMissingUnset, nil, map[string]int{misimport.ReasonPRColumnMissing: 2}},
		{"all", withPriority, misimport.PRMissingAllParents, []string{"+447400000002", "+447400000001"}, map[string]int{}},
		{"priority cell", withPriority, misimport.PRMissingPriorityOne, []string{"+447400000001"}, map[string]int{misimport.ReasonNotPriorityOne: 1}},
		{"slot order", numbered, misimport.PRMissingPriorityOne, []string{"+447400000001"}, map[string]int{misimport.ReasonNotPriorityOne: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			imp := parseWith(t, c.file, misimport.Responsibility{Missing: c.missing}, nil)
			if got := imp.Detection.SlotsWithoutPR(); !slices.Equal(got, []int{1, 2}) {
				t.Errorf("slots without PR %v", got)
			}
			if parents, _ := mobiles(imp); !slices.Equal(parents, c.parents) {
				t.Errorf("parents %v, want %v", parents, c.parents)
			}
			if len(imp.WithoutPR) != len(c.left) {
				t.Errorf("left out %v, want %v", imp.WithoutPR, c.left)
			}
			for r, n := range c.left {
				if imp.WithoutPR[r] != n {
					t.Errorf("left out %v, want %v", imp.WithoutPR, c.left)
				}
			}
			for _, p := range imp.Problems {
				if p.Code == misimport.CodePRColumnMissing {
					t.Errorf("a per-row note for the file's missing column: %v", p)
				}
			}
		})
	}
	long := "UPN,Surname,Forename,Year,Contact Name,Contact Mobile\n" + upn(1) + ",Jones,Ffion,Y1,Bethan Jones,07400 000001\n"
	if imp := parseWith(t, long, misimport.Responsibility{}, nil); !imp.Detection.PriorityUnknown() {
		t.Error("a one-row-per-contact file without priorities: PriorityUnknown is false")
	}
	if imp := parseWith(t, numbered, misimport.Responsibility{}, nil); imp.Detection.PriorityUnknown() {
		t.Error("numbered contacts: PriorityUnknown is true")
	}
}

// A school's own header for PR is given in the mapping, as any column.
func TestPRColumnByMapping(t *testing.T) {
	file := "UPN,Forename,Surname,Year,Contact 1 Name,Contact 1 Mobile,Mum Resp,Contact 2 Name,Contact 2 Mobile,Dad Resp\n" +
		upn(1) + ",Ffion,Jones,Y1,Bethan Jones,07400 000001,Y,Huw Jones,07400 000002,N\n"
	imp := parseWith(t, file, misimport.Responsibility{}, misimport.Mapping{
		misimport.ContactField(1, misimport.AttrParentalResponsibility): "Mum Resp",
		misimport.ContactField(2, misimport.AttrParentalResponsibility): "dad resp",
	})
	if parents, _ := mobiles(imp); !slices.Equal(parents, []string{"+447400000001"}) {
		t.Errorf("parents %v", parents)
	}
	if len(imp.Detection.SlotsWithoutPR()) != 0 || imp.WithoutPR[misimport.ReasonNoParentalResponsibility] != 1 {
		t.Errorf("slots without PR %v, left out %v", imp.Detection.SlotsWithoutPR(), imp.WithoutPR)
	}
}

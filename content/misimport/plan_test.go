package misimport_test

import (
	"slices"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
)

func TestPlanCategories(t *testing.T) {
	imp := parse(t, ""+
		// unchanged child, unchanged parent
		upn(1)+",Jones,Ffion,,Year 1,1A,N,Bethan Jones,Mother,07400 000001,bethan@example.org,Welsh,,,,,\n"+
		// changed child (year and class), new second parent
		upn(2)+",Jones,Rhys,,Year 4,4B,N,Bethan Jones,Mother,07400 000001,bethan@example.org,Welsh,Huw Jones,Father,07400 000002,,\n"+
		// new child; parent matched by email, changes language and gains a mobile
		upn(3)+",Nowak,Maja,,Y2,2A,Y,Anna Nowak,Mother,07400 000003,anna@example.org,Polish,,,,,\n"+
		// new child, new parent, suppressed for SMS only
		upn(4)+",Khan,Aisha,,Y3,3A,N,Fatima Khan,Mother,07400 000004,fatima@example.org,Urdu,,,,,\n"+
		// suppressed on every channel
		upn(5)+",Lee,Sam,,Y5,5A,N,Kim Lee,Mother,07400 000005,,,,,,,\n"+
		// rejected row: still at the school, not a leaver
		upn(6)+",Price,Tom,,Year 9,9A,N,Jo Price,Mother,07400 000006,,,,,,,\n")
	roster := misimport.Roster{
		Children: map[string]misimport.CurrentChild{
			upn(1): {FirstName: "Ffion", LastName: "Jones", YearGroup: "Y1", RegGroup: "1A", ParentKeys: []string{"par_bethan"}},
			upn(2): {FirstName: "Rhys", LastName: "Jones", YearGroup: "Y3", RegGroup: "3B", ParentKeys: []string{"par_bethan", "par_gone"}},
			upn(6): {FirstName: "Tom", LastName: "Price", YearGroup: "Y6", RegGroup: "6A"},
			upn(9): {FirstName: "Left", LastName: "School", YearGroup: "Y6"},
			upn(8): {FirstName: "Also", LastName: "Left", YearGroup: "Y2"},
		},
		Parents: map[string]misimport.CurrentParent{
			"par_bethan": {FirstName: "Bethan", LastName: "Jones", Mobile: "+447400000001", Email: "bethan@example.org", Language: "cy", Invited: true},
			"par_anna":   {FirstName: "Anna", LastName: "Nowak", Email: "anna@example.org", Language: "en"},
			"par_gone":   {FirstName: "Old", LastName: "Contact", Mobile: "+447400000099", Language: "en", Invited: true},
		},
	}
	suppressed := func(channel, normalized string) bool {
		return (channel == content.SuppressionSMS && (normalized == "+447400000004" || normalized == "+447400000005"))
	}
	pl := misimport.NewPlan(imp, roster, suppressed)

	type child struct {
		change  misimport.Change
		fields  []string
		added   int
		removed []string
	}
	wantChildren := []child{
		{misimport.ChangeUnchanged, nil, 0, nil},
		{misimport.ChangeChanged, []string{"year_group", "reg_group", "parents"}, 1, []string{"par_gone"}},
		{misimport.ChangeNew, nil, 1, nil},
		{misimport.ChangeNew, nil, 1, nil},
		{misimport.ChangeNew, nil, 1, nil},
	}
	if len(pl.Children) != len(wantChildren) {
		t.Fatalf("%d children planned", len(pl.Children))
	}
	for i, w := range wantChildren {
		c := pl.Children[i]
		if c.Change != w.change || !slices.Equal(c.Fields, w.fields) || len(c.AddedParents) != w.added || !slices.Equal(c.RemovedParents, w.removed) {
			t.Errorf("child %d = %+v, want %+v", i, c, w)
		}
	}
	wantLeavers := []string{upn(8), upn(9)}
	slices.Sort(wantLeavers)
	if !slices.Equal(pl.Leavers, wantLeavers) {
		t.Errorf("leavers %v", pl.Leavers)
	}

	type parent struct {
		key    string
		change misimport.Change
		fields []string
	}
	wantParents := []parent{
		{"par_bethan", misimport.ChangeUnchanged, nil},
		{"", misimport.ChangeNew, nil},
		{"par_anna", misimport.ChangeChanged, []string{"mobile", "language"}},
		{"", misimport.ChangeNew, nil},
		{"", misimport.ChangeNew, nil},
	}
	for i, w := range wantParents {
		p := pl.Parents[i]
		if p.RosterKey != w.key || p.Change != w.change || !slices.Equal(p.Fields, w.fields) {
			t.Errorf("parent %d = %+v, want %+v", i, p, w)
		}
	}

	// Bethan was invited already; Kim is suppressed everywhere.
	type invite struct {
		row        int
		lang       string
		sms, email bool
		children   []int
	}
	wantInvites := []invite{
		{3, "en", true, false, []int{1}},
		{4, "pl", true, true, []int{2}},
		{5, "ur", false, true, []int{3}},
	}
	if len(pl.Invites) != len(wantInvites) {
		t.Fatalf("invites %+v", pl.Invites)
	}
	for i, w := range wantInvites {
		v := pl.Invites[i]
		if v.Row != w.row || v.Language != w.lang || v.SMS != w.sms || v.Email != w.email || !slices.Equal(v.Children, w.children) {
			t.Errorf("invite %d = %+v, want %+v", i, v, w)
		}
	}
	if got := problemsAt(pl.Problems); !slices.Equal(got, []string{"5:Contact 1 Mobile:suppressed", "6:Contact 1 Mobile:suppressed"}) {
		t.Errorf("plan problems %q", got)
	}

	s := pl.Summary
	got := []int{s.NewChildren, s.ChangedChildren, s.UnchangedChildren, s.Leavers, s.NewParents, s.ChangedParents,
		s.UnchangedParents, s.Invites, s.InvitesBySMS, s.InvitesByEmail, s.SuppressedChannels, s.FullySuppressed, s.RejectedRows}
	want := []int{3, 1, 1, 2, 3, 1, 1, 3, 2, 2, 2, 1, 1}
	if !slices.Equal(got, want) {
		t.Errorf("summary %v, want %v", got, want)
	}
	if s.ByLanguage["pl"] != (misimport.LanguageCount{Invites: 1, SMS: 1, Email: 1}) || s.Problems[misimport.CodeSuppressed] != 2 {
		t.Errorf("by language %v, problems %v", s.ByLanguage, s.Problems)
	}
	if s.LeaverShare != 0.4 {
		t.Errorf("leaver share %v", s.LeaverShare)
	}

	// The plan is a pure function: planning again gives the same answer.
	again := misimport.NewPlan(imp, roster, suppressed)
	if !slices.EqualFunc(again.Invites, pl.Invites, func(a, b misimport.Invite) bool {
		return a.Parent == b.Parent && a.SMS == b.SMS && a.Email == b.Email
	}) {
		t.Error("planning twice differs")
	}
}

func TestImportContactsForSuppressionLookup(t *testing.T) {
	imp := parse(t, upn(1)+",Jones,Ffion,,Year 1,1A,N,Bethan Jones,Mother,07400 000001,Bethan@Example.org,Welsh,Huw Jones,Father,,huw@example.org,\n")
	got := imp.Contacts()
	want := []misimport.ContactRef{{"sms", "+447400000001"}, {"email", "bethan@example.org"}, {"email", "huw@example.org"}}
	if !slices.Equal(got, want) {
		t.Errorf("contacts %v", got)
	}
	for _, c := range got {
		if _, err := content.NormalizeContact(c.Channel, c.Normalized); err != nil {
			t.Errorf("%v does not normalise for the suppression list: %v", c, err)
		}
	}
}

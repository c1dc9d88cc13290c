package misimport_test

import (
	"bytes"
	"fmt"
	"maps"
	"testing"

	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// TestGeneratedFilesDryRunExactly parses generated exports in each layout
// and checks every number the generator says a dry run must report; then
// re-plans against the roster the import would leave, which must change
// nothing and invite nobody (a re-upload is idempotent).
func TestGeneratedFilesDryRunExactly(t *testing.T) {
	for _, tc := range []struct {
		layout    mistest.Layout
		families  int
		bom, crlf bool
	}{
		{mistest.LayoutSIMS, 300, false, false},
		{mistest.LayoutArbor, 300, true, true},
		{mistest.LayoutBromcom, 300, true, false},
		{mistest.LayoutSIMS, 2000, true, true},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.layout, tc.families), func(t *testing.T) {
			var buf bytes.Buffer
			exp, err := mistest.Generate(&buf, mistest.Config{Families: tc.families, Layout: tc.layout, Seed: 7, BOM: tc.bom, CRLF: tc.crlf})
			if err != nil {
				t.Fatal(err)
			}
			imp, err := misimport.Parse(&buf, misimport.Options{Region: "GB", DefaultLanguage: "en", Phones: mistest.UKPhones{}})
			if err != nil {
				t.Fatal(err)
			}
			if imp.Detection.Confidence != misimport.ConfidenceHigh {
				t.Errorf("confidence %s, notes %v", imp.Detection.Confidence, imp.Detection.Notes)
			}
			pl := misimport.NewPlan(imp, misimport.Roster{}, nil)
			s := pl.Summary
			check := func(name string, got, want int) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			check("rows", s.Rows, exp.Rows)
			check("pupils", s.Pupils, exp.Pupils)
			check("rejected", s.RejectedRows, exp.RejectedRows)
			check("duplicates", s.DuplicateRows, exp.DuplicateRows)
			check("new children", s.NewChildren, exp.Pupils)
			check("parents", len(imp.Parents), exp.Parents)
			check("new parents", s.NewParents, exp.Parents)
			check("invites", s.Invites, exp.Invites)
			check("sms", s.InvitesBySMS, exp.InvitesBySMS)
			check("email", s.InvitesByEmail, exp.InvitesByEmail)
			if !maps.Equal(s.ByLanguage, exp.ByLanguage) {
				t.Errorf("by language = %v, want %v", s.ByLanguage, exp.ByLanguage)
			}
			if !maps.Equal(s.Problems, exp.Problems) {
				t.Errorf("problems = %v, want %v", s.Problems, exp.Problems)
			}
			for _, code := range []string{misimport.CodeLandline, misimport.CodeInvalidPhone, misimport.CodeUnreachable, misimport.CodeDuplicateRow} {
				if exp.Problems[code] == 0 && tc.families >= 300 {
					t.Errorf("the generator made no %s problems", code)
				}
			}
			if exp.ByLanguage["cy"].Invites == 0 || exp.ByLanguage["pl"].Invites == 0 || exp.Siblings == 0 {
				t.Errorf("the generator made no Welsh or Polish families or no siblings: %+v", exp)
			}
			for _, p := range imp.Problems {
				if p.Row < 2 || p.Column == "" || p.Code == "" {
					t.Errorf("problem without row or column: %+v", p)
				}
			}

			again := misimport.NewPlan(imp, mistest.RosterAfter(imp), nil)
			a := again.Summary
			check("re-upload unchanged children", a.UnchangedChildren, exp.Pupils)
			check("re-upload changed children", a.ChangedChildren, 0)
			check("re-upload unchanged parents", a.UnchangedParents, exp.Parents)
			check("re-upload invites", a.Invites, 0)
			check("re-upload leavers", a.Leavers, 0)
		})
	}
}

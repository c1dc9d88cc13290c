package misimport_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// simsHeader is a two-contact SIMS-style header for hand-written files.
const simsHeader = "UPN,Legal Surname,Legal Forename,Preferred Forename,Year,Reg Group,Pupil Premium," +
	"Contact 1 Name,Contact 1 Relationship,Contact 1 Mobile,Contact 1 Email,Contact 1 Language," +
	"Contact 2 Name,Contact 2 Relationship,Contact 2 Mobile,Contact 2 Email,Contact 2 Language\n"

// allParents is the choice for the hand-written files here, which have no
// parental responsibility column: every contact is a parent.
var allParents = misimport.Responsibility{Missing: misimport.PRMissingAllParents}

// upn returns the n-th valid UPN.
func upn(n int) string { return mistest.UPNFor(n) }

func parse(t *testing.T, body string) *misimport.Import {
	t.Helper()
	imp, err := misimport.Parse(strings.NewReader(simsHeader+body), misimport.Options{
		Region: "GB", DefaultLanguage: "en", Phones: mistest.UKPhones{}, Responsibility: allParents})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range imp.Problems {
		if p.Row < 2 || p.Column == "" || p.Code == "" || p.Message == "" {
			t.Errorf("problem without row, column, code or message: %+v", p)
		}
	}
	return imp
}

// problemsAt lists "row:column:code" for each problem, in order.
func problemsAt(ps []misimport.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, strings.Join([]string{strconv.Itoa(p.Row), p.Column, p.Code}, ":"))
	}
	return out
}

func TestSiblingsShareOneParent(t *testing.T) {
	imp := parse(t, ""+
		upn(1)+",Jones,Ffion,,Year 1,1A,N,Mrs Bethan Jones,Mother,07400 000001,bethan@example.org,Welsh,Mr Huw Jones,Father,07400 000002,,\n"+
		upn(2)+",Jones,Rhys,,Year 3,3B,Y,Bethan Jones,Mother,+44 7400 000001,BETHAN@example.org,Cymraeg,Mr Huw Jones,Father,+447400000002,,\n"+
		upn(3)+",Jones,Alys,,Reception,RA,N,,,,,,Huw Jones,Father,07400000002,huw@example.org,\n")
	if len(imp.Pupils) != 3 || len(imp.Parents) != 2 {
		t.Fatalf("%d pupils, %d parents; want 3 and 2", len(imp.Pupils), len(imp.Parents))
	}
	mum, dad := imp.Parents[0], imp.Parents[1]
	if mum.Mobile != "+447400000001" || mum.Email != "bethan@example.org" || mum.Language != "cy" ||
		mum.FirstName != "Bethan" || mum.LastName != "Jones" || !slices.Equal(mum.Children, []int{0, 1}) {
		t.Errorf("mum = %+v", mum)
	}
	// Dad's email only appears on the third row; it fills in.
	if dad.Email != "huw@example.org" || dad.Language != "en" || !slices.Equal(dad.Children, []int{0, 1, 2}) {
		t.Errorf("dad = %+v", dad)
	}
	if imp.Pupils[2].YearGroup != "R" || len(imp.Pupils[2].Links) != 1 || imp.Pupils[2].Links[0].Parent != 1 {
		t.Errorf("third pupil = %+v", imp.Pupils[2])
	}
	if len(imp.Problems) != 0 {
		t.Errorf("problems: %v", problemsAt(imp.Problems))
	}
}

func TestEmailOnlyContactJoinsTheParentWithThatEmail(t *testing.T) {
	imp := parse(t, ""+
		upn(1)+",Nowak,Jakub,,Y2,2A,N,Anna Nowak,Mother,,anna@example.org,Polski,,,,,\n"+
		upn(2)+",Nowak,Maja,,Y4,4A,N,Anna Nowak,Mother,07400 000009,anna@example.org,,,,,,\n")
	if len(imp.Parents) != 1 {
		t.Fatalf("%d parents, want 1: %+v", len(imp.Parents), imp.Parents)
	}
	p := imp.Parents[0]
	if p.Mobile != "+447400000009" || p.Language != "pl" || p.Row != 2 || !slices.Equal(p.Children, []int{0, 1}) {
		t.Errorf("parent = %+v", p)
	}
}

func TestSharedFamilyEmailKeepsTwoParents(t *testing.T) {
	imp := parse(t, upn(1)+",Khan,Aisha,,Y2,2A,N,Fatima Khan,Mother,07400 000011,family@example.org,Urdu,Imran Khan,Father,07400 000012,family@example.org,Urdu\n")
	if len(imp.Parents) != 2 || imp.Parents[0].Language != "ur" {
		t.Fatalf("parents = %+v", imp.Parents)
	}
}

func TestRowProblems(t *testing.T) {
	imp := parse(t, ""+
		// row 2: landline and an invalid email: unreachable; bad phone but email OK
		upn(1)+",Evans,Dafydd,,Year 2,2A,N,Gareth Evans,Father,01632 960123,gareth@,Welsh,Sian Evans,Mother,12345,sian@example.org,Klingon\n"+
		// row 3: exact duplicate of row 2
		upn(1)+",Evans,Dafydd,,Year 2,2A,N,Gareth Evans,Father,01632 960123,gareth@,Welsh,Sian Evans,Mother,12345,sian@example.org,Klingon\n"+
		// row 4: same UPN, different details
		upn(1)+",Evans,Dafydd,,Year 3,3A,N,,,,,,,,,,\n"+
		// row 5: secondary year, formula in the class, pupil premium "maybe"
		upn(2)+",Price,Tom,,Year 8,=HYPERLINK(\"x\"),maybe,Jo Price,Mother,07400 000020,,,,,,,\n"+
		// row 6: no UPN, no surname
		",,Ann,,Y1,,N,Jo Price,Mother,07400 000020,,,,,,,\n"+
		// row 7: bad UPN; "-" placeholder is not a formula
		"A12,Price,Ann,,Y1,-,N,Jo Price,Mother,07400 000020,,,,,,,\n"+
		// row 8: the same contact twice on a row, and a contact with nothing
		upn(3)+",Lee,Sam,,Y5,5A,N,Kim Lee,Mother,07400 000030,,,Kim Lee,Mother,07400000030,,\n"+
		upn(4)+",Lee,Max,,Y6,6A,N,Kim Lee,Mother,,,,Pat Lee,Grandparent,,,\n"+
		// row 10: a formula in a name is refused, the row with it
		upn(5)+",=cmd|' /C calc'!A0,Eve,,Y1,1A,N,Kim Lee,Mother,07400 000030,,,,,,,\n")
	want := []string{
		"2:Contact 1 Mobile:landline", "2:Contact 1 Email:invalid_email", "2:Contact 1 Mobile:unreachable",
		"2:Contact 2 Mobile:invalid_phone", "2:Contact 2 Language:unknown_language",
		"3:UPN:duplicate_row",
		"4:UPN:duplicate_upn",
		"5:Year:bad_year_group", "5:Reg Group:formula_cell", "5:Pupil Premium:bad_boolean",
		"6:UPN:missing_upn", "6:Legal Surname:missing_name",
		"7:UPN:bad_upn",
		"8:Contact 2 Mobile:duplicate_contact",
		"9:Contact 1 Mobile:unreachable", "9:Contact 2 Mobile:unreachable",
		"10:Legal Surname:formula_cell",
	}
	if got := problemsAt(imp.Problems); !slices.Equal(got, want) {
		t.Errorf("problems\n got %q\nwant %q", got, want)
	}
	if imp.Rows != 9 || imp.DuplicateRows != 1 || imp.RejectedRows != 5 || len(imp.Pupils) != 3 {
		t.Errorf("rows %d dup %d rejected %d pupils %d", imp.Rows, imp.DuplicateRows, imp.RejectedRows, len(imp.Pupils))
	}
	// Sian is reachable by email in the default language; Gareth is not a parent.
	if len(imp.Parents) != 2 || imp.Parents[0].Email != "sian@example.org" || imp.Parents[0].Language != "en" {
		t.Errorf("parents %+v", imp.Parents)
	}
	// Rows with errors still name pupils at the school: never leavers.
	for _, u := range []string{upn(1), upn(2), upn(5)} {
		if !imp.Seen(u) {
			t.Errorf("UPN %s of a rejected row not seen", u)
		}
	}
	if imp.ProblemCounts[misimport.CodeUnreachable] != 3 {
		t.Errorf("counts %v", imp.ProblemCounts)
	}
}

func TestWindows1252File(t *testing.T) {
	// "Zoë" and "O’Neil – Smith" as Excel's "CSV (comma delimited)" writes them.
	body := upn(1) + ",O\x92Neil \x96 Smith,Zo\xEB,,Y1,1A,N,Ren\xE9e O\x92Neil,Mother,07400 000040,,,,,,,\n"
	imp, err := misimport.Parse(strings.NewReader(simsHeader+body), misimport.Options{Region: "GB", Phones: mistest.UKPhones{}, Responsibility: allParents})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Encoding != misimport.EncodingWindows1252 {
		t.Errorf("encoding %s", imp.Encoding)
	}
	p := imp.Pupils[0]
	if p.FirstName != "Zoë" || p.LastName != "O’Neil – Smith" || imp.Parents[0].FirstName != "Renée" {
		t.Errorf("pupil %+v parent %+v", p, imp.Parents[0])
	}
}

func TestPreferredForenameWins(t *testing.T) {
	imp := parse(t, upn(1)+",Smith,Alfred,Alfie,Y1,1A,N,Jo Smith,Mother,07400 000050,,,,,,,\n"+
		upn(2)+",Smith,Grace,,Y1,1A,N,Jo Smith,Mother,07400 000050,,,,,,,\n")
	if imp.Pupils[0].FirstName != "Alfie" || imp.Pupils[1].FirstName != "Grace" {
		t.Errorf("pupils %+v", imp.Pupils)
	}
}

func TestConflictingDetailsKeepTheFirstRow(t *testing.T) {
	imp := parse(t, upn(1)+",Ahmed,Omar,,Y1,1A,N,Layla Ahmed,Mother,07400 000060,layla@example.org,Arabic,,,,,\n"+
		upn(2)+",Ahmed,Hamza,,Y3,3A,N,Layla Ahmed,Mother,07400 000060,other@example.org,Urdu,,,,,\n")
	if got := problemsAt(imp.Problems); !slices.Equal(got, []string{"3:Contact 1 Email:contact_conflict", "3:Contact 1 Language:contact_conflict"}) {
		t.Errorf("problems %q", got)
	}
	if p := imp.Parents[0]; p.Email != "layla@example.org" || p.Language != "ar" {
		t.Errorf("parent %+v", p)
	}
}

func TestParseNeedsAMappingWhenUnsure(t *testing.T) {
	in := "Pupil Ref,First,Last,Yr,Mum Mobile\n" + upn(1) + ",Ann,Lee,Y1,07400 000070\n"
	opts := misimport.Options{Region: "GB", Phones: mistest.UKPhones{}, Responsibility: allParents}
	if _, err := misimport.Parse(strings.NewReader(in), opts); !content.IsCode(err, content.CodeInvalid) {
		t.Fatalf("err = %v, want invalid", err)
	}
	opts.Mapping = misimport.Mapping{misimport.FieldUPN: "Pupil Ref", misimport.FieldForename: "First", misimport.FieldSurname: "Last",
		misimport.ContactField(1, misimport.AttrMobile): "Mum Mobile"}
	imp, err := misimport.Parse(strings.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Pupils) != 1 || len(imp.Parents) != 1 || imp.Parents[0].Mobile != "+447400000070" {
		t.Errorf("pupils %+v parents %+v", imp.Pupils, imp.Parents)
	}
}

func TestOneRowPerContact(t *testing.T) {
	in := "UPN,Surname,Forename,Year,Class,Contact Name,Relationship,Contact Mobile,Contact Email,Priority\n" +
		upn(1) + ",Jones,Ffion,Y1,1A,Bethan Jones,Mother,07400 000001,,1\n" +
		upn(1) + ",Jones,Ffion,Y1,1A,Huw Jones,Father,07400 000002,,2\n" +
		upn(1) + ",Jones,Ffion,Y1,1A,Huw Jones,Father,07400 000002,,2\n" + // exact repeat
		upn(2) + ",Jones,Rhys,Y3,3A,Huw Jones,Father,07400 000002,,1\n" +
		upn(2) + ",Jones,Rhys,Y4,3A,Bethan Jones,Mother,07400 000001,,2\n" + // pupil cells differ: a clash
		upn(3) + ",Jones,Alys,Y9,9A,Bethan Jones,Mother,07400 000001,,1\n" + // rejected pupil
		upn(3) + ",Jones,Alys,Y9,9A,Huw Jones,Father,07400 000002,,2\n"
	imp, err := misimport.Parse(strings.NewReader(in), misimport.Options{Region: "GB", Phones: mistest.UKPhones{}, Responsibility: allParents})
	if err != nil {
		t.Fatal(err)
	}
	if !imp.Detection.LongFormat {
		t.Fatal("not read as one row per contact")
	}
	if got := problemsAt(imp.Problems); !slices.Equal(got, []string{"4:UPN:duplicate_row", "6:UPN:duplicate_upn", "7:Year:bad_year_group"}) {
		t.Errorf("problems %q", got)
	}
	if len(imp.Pupils) != 2 || len(imp.Parents) != 2 || imp.RejectedRows != 3 || imp.DuplicateRows != 1 {
		t.Fatalf("pupils %d parents %d rejected %d duplicates %d", len(imp.Pupils), len(imp.Parents), imp.RejectedRows, imp.DuplicateRows)
	}
	ffion := imp.Pupils[0]
	if len(ffion.Links) != 2 || ffion.Links[1].Relationship != "Father" || ffion.Links[1].Priority != 2 {
		t.Errorf("Ffion's links %+v", ffion.Links)
	}
	if !slices.Equal(imp.Parents[1].Children, []int{0, 1}) {
		t.Errorf("Huw's children %v", imp.Parents[1].Children)
	}
}

func TestTitleRowsAboveTheHeader(t *testing.T) {
	in := "Pupil contacts report,,\nPrinted 01/09/2026,,\n\n" + simsHeader +
		upn(1) + ",Jones,Ffion,,Year 1,1A,N,Bethan Jones,Mother,07400 000001,,,,,,,\n" +
		upn(2) + ",Jones,Rhys,,Year 9,1A,N,Bethan Jones,Mother,07400 000001,,,,,,,\n"
	imp, err := misimport.Parse(strings.NewReader(in), misimport.Options{Region: "GB", Phones: mistest.UKPhones{}, Responsibility: allParents})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Pupils) != 1 || len(imp.Parents) != 1 {
		t.Fatalf("pupils %d parents %d", len(imp.Pupils), len(imp.Parents))
	}
	if got := problemsAt(imp.Problems); !slices.Equal(got, []string{"6:Year:bad_year_group"}) {
		t.Errorf("problems %q", got)
	}

	// A header that names some fields is the header: its error stands.
	in = "UPN,Name,Contact 1 Mobile\n" + simsHeader
	_, err = misimport.Parse(strings.NewReader(in), misimport.Options{Region: "GB", Phones: mistest.UKPhones{}, Responsibility: allParents})
	if !content.IsCode(err, content.CodeInvalid) {
		t.Fatalf("err = %v", err)
	}
}

// A commit releases the pupils' side once its children are written; the
// parents, which its parent writes still read, stay.
func TestReleasePupilsKeepsParents(t *testing.T) {
	imp := parse(t, ""+
		upn(1)+",Jones,Ffion,,Year 1,1A,N,Mrs Bethan Jones,Mother,07400 000001,,,,,,,\n"+
		upn(2)+",Jones,,,Year 3,3B,N,Mrs Bethan Jones,Mother,07400 000001,,,,,,,\n")
	if !imp.Seen(upn(2)) || len(imp.Pupils) != 1 || len(imp.Problems) == 0 {
		t.Fatalf("before: seen %t, %d pupils, %d problems", imp.Seen(upn(2)), len(imp.Pupils), len(imp.Problems))
	}
	imp.ReleasePupils()
	if imp.Seen(upn(1)) || imp.Seen(upn(2)) || imp.Pupils != nil || imp.Problems != nil {
		t.Errorf("after: seen %t/%t, pupils %v, problems %v", imp.Seen(upn(1)), imp.Seen(upn(2)), imp.Pupils, imp.Problems)
	}
	if len(imp.Parents) != 1 || imp.Parents[0].Mobile != "+447400000001" {
		t.Errorf("parents = %+v", imp.Parents)
	}
}

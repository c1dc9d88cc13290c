package mistest

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/hometime-edu/hometime/content/misimport"
)

// Layout is an MIS export's column layout.
type Layout string

const (
	LayoutSIMS    Layout = "sims"    // Legal/Preferred Forename, Legal Surname, "Year 3", Y/N, contact forename+surname
	LayoutArbor   Layout = "arbor"   // Forename, Surname, "Y3"/"YR", Yes/No, "Contact N Name", Mobile Phone, Email Address
	LayoutBromcom Layout = "bromcom" // Preferred Forename, NC Year "3"/"R", Class, True/False, Contact1_Telephone
	// LayoutSIMSContacts is a SIMS report with a row per pupil and
	// contact: unnumbered "Contact Forename", "Relationship", "Priority".
	LayoutSIMSContacts Layout = "sims-contacts"
)

// ContactSlots is how many contact slots every generated header carries;
// families use one or two, so the rest are empty cells as in real exports.
const ContactSlots = 3

// Config says what to generate. The same Config always writes the same
// bytes.
type Config struct {
	Families int
	Layout   Layout
	Seed     uint64
	BOM      bool // start with a UTF-8 byte-order mark, as Excel's "CSV UTF-8" does
	CRLF     bool // Windows line endings
}

// Expected is what misimport.Parse (region GB, default language en, with
// UKPhones) and then misimport.NewPlan against an empty roster with nothing
// suppressed must report for the generated file, exactly.
type Expected struct {
	Rows           int // data rows written, duplicates included
	Pupils         int // accepted pupils
	RejectedRows   int // bad year groups
	DuplicateRows  int // exact repeats
	Siblings       int // pupils with at least one sibling in the file, accepted or not
	Parents        int // distinct reachable contacts of families with an accepted pupil
	Invites        int
	InvitesBySMS   int
	InvitesByEmail int
	ByLanguage     map[string]misimport.LanguageCount
	Problems       map[string]int // by problem code
}

// contactKind is how reachable a generated contact is.
type contactKind int

const (
	kindBoth contactKind = iota
	kindMobileOnly
	kindEmailOnly
	kindLandlineEmail
	kindLandlineOnly
	kindBadPhoneEmail
	kindBadPhoneOnly
	kindMobileBadEmail
	kindNeither
)

func (k contactKind) hasPhoneCell() bool {
	return k != kindEmailOnly && k != kindNeither
}
func (k contactKind) mobileOK() bool {
	return k == kindBoth || k == kindMobileOnly || k == kindMobileBadEmail
}
func (k contactKind) emailOK() bool {
	return k == kindBoth || k == kindEmailOnly || k == kindLandlineEmail || k == kindBadPhoneEmail
}
func (k contactKind) hasEmailCell() bool { return k.emailOK() || k == kindMobileBadEmail }

// pickKind draws a contact's kind: most have a mobile and an email; a few
// are landlines, typos or nothing at all.
func pickKind(r *rand.Rand) contactKind {
	switch x := r.IntN(100); {
	case x < 45:
		return kindBoth
	case x < 67:
		return kindMobileOnly
	case x < 79:
		return kindEmailOnly
	case x < 84:
		return kindLandlineEmail
	case x < 87:
		return kindLandlineOnly
	case x < 90:
		return kindBadPhoneEmail
	case x < 92:
		return kindBadPhoneOnly
	case x < 95:
		return kindMobileBadEmail
	}
	return kindNeither
}

type genContact struct {
	kind            contactKind
	priority        int
	first, last     string
	title, relation string
	phone, email    string
}

type genChild struct {
	upn, first, preferred, last string
	year                        int // 0 nursery, 1 reception, 2..7 = Y1..Y6, 11 = a secondary year (rejected)
	class                       string
	pp                          bool
	formula                     bool // class cell is a formula
	dup                         bool // row written twice
}

// nameLists returns the names families are drawn from: Welsh, Polish,
// Urdu-, Arabic- and Spanish-speaking families' names among them, with the
// accents and apostrophes a real roster holds.
func nameLists() (childNames, adultNames, surnames []string) {
	childNames = []string{"Oliver", "Amelia", "Zoë", "Siân", "Dafydd", "Łucja", "Mohammed", "Aisha", "Noah", "Isla",
		"Jakub", "Zuzanna", "Ffion", "Rhys", "Maja", "Andrei", "Ioana", "Yusuf", "Maryam", "Sofía", "Mateo", "Chloé",
		"Aoife", "Tomás", "Lily-Rose", "Jack", "Grace", "Alfie", "Evie", "Hamza"}
	adultNames = []string{"Jane", "David", "Sarah", "Gareth", "Anna", "Piotr", "Agnieszka", "Bethan", "Imran", "Fatima",
		"Elena", "Mihai", "Carmen", "José", "Layla", "Omar", "Emma", "Chris", "Rachel", "Huw"}
	surnames = []string{"Jones", "Williams", "Evans", "Davies", "Nowak", "Kowalski", "Wiśniewska", "Khan", "Hussain",
		"Popescu", "García", "O'Brien", "Smith-Jones", "Thomas", "Roberts", "Lewandowska", "Ahmed", "Ionescu",
		"Hughes", "Morgan", "Ap Rhys", "Brown"}
	return childNames, adultNames, surnames
}

// language is a family's language: its code and how this family's
// school wrote it.
func pickLanguage(r *rand.Rand) (code, cell string, known bool) {
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	switch x := r.IntN(100); {
	case x < 70:
		return misimport.LangEnglish, pick("", "English", "ENG", "english"), true
	case x < 80:
		return misimport.LangWelsh, pick("Welsh", "Cymraeg", "cy", "WEL"), true
	case x < 90:
		return misimport.LangPolish, pick("Polish", "Polski", "pl", "POL"), true
	case x < 93:
		return misimport.LangUrdu, pick("Urdu", "ur"), true
	case x < 95:
		return misimport.LangRomanian, pick("Romanian", "Română"), true
	case x < 97:
		return misimport.LangArabic, pick("Arabic", "العربية"), true
	case x < 98:
		return misimport.LangSpanish, pick("Spanish", "Español"), true
	}
	return misimport.LangEnglish, pick("Tigrinya", "Somali", "Klingon"), false
}

// UPNFor returns a valid UPN (right check letter) for pupil number n.
func UPNFor(n int) string {
	d := fmt.Sprintf("%012d", 820_000_000_000+n)
	return string(misimport.UPNCheckLetter(d[:11], int(d[11]-'0'))) + d
}

// Generate writes a MIS export of cfg.Families families to w, one row per
// pupil, streaming: memory does not grow with the number of families. It
// returns what a dry run of the file must report.
func Generate(w io.Writer, cfg Config) (Expected, error) {
	if cfg.Layout == "" {
		cfg.Layout = LayoutSIMS
	}
	exp := Expected{ByLanguage: map[string]misimport.LanguageCount{}, Problems: map[string]int{}}
	bw := bufio.NewWriterSize(w, 64<<10)
	if cfg.BOM {
		bw.WriteString("\uFEFF")
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = cfg.CRLF
	if err := cw.Write(header(cfg.Layout)); err != nil {
		return exp, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9E3779B97F4A7C15))
	childNames, adultNames, surnames := nameLists()
	pupilN := 0
	row := make([]string, 0, 8+8*ContactSlots)
	for f := 0; f < cfg.Families; f++ {
		surname := surnames[r.IntN(len(surnames))]
		langCode, langCell, langKnown := pickLanguage(r)
		kids := 1
		switch x := r.IntN(10); {
		case x >= 9:
			kids = 3
		case x >= 6:
			kids = 2
		}
		nContacts := 1 + r.IntN(10)/4 // 1 (40%) or 2 (60%)
		if nContacts > 2 {
			nContacts = 2
		}
		contacts := make([]genContact, nContacts)
		for ci := range contacts {
			c := &contacts[ci]
			c.kind = pickKind(r)
			c.priority = ci + 1
			c.first = adultNames[r.IntN(len(adultNames))]
			c.last = surname
			c.relation, c.title = "Mother", "Mrs"
			if ci == 1 {
				c.relation, c.title = "Father", "Mr"
			}
			if r.IntN(20) == 0 {
				c.relation, c.title = "Grandparent", "Ms"
			}
			id := f*4 + ci
			switch {
			case c.kind.mobileOK():
				num := fmt.Sprintf("74%08d", id)
				switch id % 3 {
				case 0:
					c.phone = "0" + num[:4] + " " + num[4:]
				case 1:
					c.phone = "+44 " + num[:4] + " " + num[4:]
				default:
					c.phone = "+44" + num
				}
			case c.kind == kindLandlineEmail || c.kind == kindLandlineOnly:
				if id%2 == 0 {
					c.phone = fmt.Sprintf("0161 496 0%03d", id%1000)
				} else {
					c.phone = fmt.Sprintf("020 7946 0%03d", id%1000)
				}
			case c.kind == kindBadPhoneEmail || c.kind == kindBadPhoneOnly:
				c.phone = []string{"07400 12", "12345", "0800 CALL ME"}[id%3]
			}
			local := strings.ToLower(asciiOnly(c.first)) + "." + strings.ToLower(asciiOnly(c.last)) + strconv.Itoa(id)
			switch {
			case c.kind.emailOK():
				if id%5 == 0 {
					c.email = strings.ToUpper(local[:1]) + local[1:] + "@Example.org"
				} else {
					c.email = local + "@example.org"
				}
			case c.kind == kindMobileBadEmail:
				c.email = []string{local + "@", local + " @example.org", local + "@example"}[id%3]
			}
		}
		children := make([]genChild, kids)
		accepted := 0
		for k := range children {
			ch := &children[k]
			ch.upn = UPNFor(pupilN)
			pupilN++
			ch.first = childNames[r.IntN(len(childNames))]
			if r.IntN(10) == 0 {
				ch.preferred = childNames[r.IntN(len(childNames))]
			}
			ch.last = surname
			ch.year = r.IntN(8)
			if r.IntN(200) == 0 {
				ch.year = 11
			}
			ch.class = className(ch.year, r.IntN(2))
			ch.pp = r.IntN(4) == 0
			ch.formula = r.IntN(300) == 0
			ch.dup = r.IntN(50) == 0
			if ch.year != 11 {
				accepted++
			}
		}
		for k := range children {
			ch := &children[k]
			// Wide layouts: one row per pupil. The long layout: one row
			// per pupil and contact; a duplicate repeats the first.
			rows := [][]genContact{contacts}
			if cfg.Layout == LayoutSIMSContacts {
				rows = rows[:0]
				for ci := range contacts {
					rows = append(rows, contacts[ci:ci+1])
				}
			}
			for ri, rc := range rows {
				row = fillRow(row[:0], cfg.Layout, ch, rc, langCell, f)
				writes := 1
				if ch.dup && ri == 0 {
					writes = 2
				}
				for i := 0; i < writes; i++ {
					if err := cw.Write(row); err != nil {
						return exp, err
					}
				}
				exp.Rows += writes
			}
			if kids > 1 {
				exp.Siblings++
			}
			if ch.dup {
				exp.DuplicateRows++
				exp.Problems[misimport.CodeDuplicateRow]++
			}
			if ch.year == 11 {
				exp.RejectedRows += len(rows)
				exp.Problems[misimport.CodeBadYearGroup]++
			} else {
				exp.Pupils++
			}
			if ch.formula {
				exp.Problems[misimport.CodeFormulaCell]++
			}
			for _, c := range contacts {
				switch c.kind {
				case kindLandlineEmail, kindLandlineOnly:
					exp.Problems[misimport.CodeLandline]++
				case kindBadPhoneEmail, kindBadPhoneOnly:
					exp.Problems[misimport.CodeInvalidPhone]++
				case kindMobileBadEmail:
					exp.Problems[misimport.CodeInvalidEmail]++
				}
				if !c.kind.mobileOK() && !c.kind.emailOK() {
					exp.Problems[misimport.CodeUnreachable]++
				}
				if !langKnown {
					exp.Problems[misimport.CodeUnknownLanguage]++
				}
			}
		}
		if accepted == 0 {
			continue
		}
		for _, c := range contacts {
			if !c.kind.mobileOK() && !c.kind.emailOK() {
				continue
			}
			exp.Parents++
			exp.Invites++
			lc := exp.ByLanguage[langCode]
			lc.Invites++
			if c.kind.mobileOK() {
				exp.InvitesBySMS++
				lc.SMS++
			}
			if c.kind.emailOK() {
				exp.InvitesByEmail++
				lc.Email++
			}
			exp.ByLanguage[langCode] = lc
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return exp, err
	}
	return exp, bw.Flush()
}

func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		switch r {
		case 'ł', 'Ł':
			return 'l'
		case 'ś':
			return 's'
		case 'é':
			return 'e'
		case 'í':
			return 'i'
		case 'ô', 'ó':
			return 'o'
		}
		return -1
	}, s)
}

func className(year, stream int) string {
	letters := "AB"
	switch year {
	case 0:
		return "Nursery " + letters[stream:stream+1]
	case 1:
		return "Reception " + letters[stream:stream+1]
	case 11:
		return "9" + letters[stream:stream+1]
	}
	return strconv.Itoa(year-1) + letters[stream:stream+1]
}

func header(l Layout) []string {
	var h []string
	var attrs []string
	switch l {
	case LayoutArbor:
		h = []string{"UPN", "Forename", "Surname", "Year Group", "Registration Group", "Pupil Premium", "Address"}
		attrs = []string{"Name", "Relationship", "Mobile Phone", "Email Address", "Parental Responsibility", "Priority", "Preferred Language"}
	case LayoutBromcom:
		h = []string{"UPN", "Preferred Forename", "Legal Surname", "NC Year", "Class", "Pupil_Premium", "Address"}
		attrs = []string{"Name", "Relationship", "Telephone", "Email", "Parental_Responsibility", "Priority", "Language"}
	case LayoutSIMSContacts:
		return []string{"UPN", "Legal Surname", "Legal Forename", "Preferred Forename", "Year", "Reg Group", "Pupil Premium", "Address",
			"Contact Forename", "Contact Surname", "Relationship", "Contact Mobile", "Contact Email", "Parental Responsibility",
			"Priority", "Contact Language"}
	default:
		h = []string{"UPN", "Legal Surname", "Legal Forename", "Preferred Forename", "Year", "Reg Group", "Pupil Premium", "Address"}
		attrs = []string{"Forename", "Surname", "Relationship", "Mobile", "Email", "Parental Responsibility", "Priority", "Language"}
	}
	for n := 1; n <= ContactSlots; n++ {
		for _, a := range attrs {
			if l == LayoutBromcom {
				h = append(h, fmt.Sprintf("Contact%d_%s", n, a))
			} else {
				h = append(h, fmt.Sprintf("Contact %d %s", n, a))
			}
		}
	}
	return h
}

func yearCell(l Layout, year int) string {
	switch l {
	case LayoutArbor:
		return []string{"N", "YR", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "", "", "", "Y9"}[year]
	case LayoutBromcom:
		return []string{"N", "R", "1", "2", "3", "4", "5", "6", "", "", "", "9"}[year]
	}
	return []string{"Nursery", "Reception", "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6", "", "", "", "Year 9"}[year]
}

func boolCell(l Layout, v bool) string {
	switch l {
	case LayoutArbor:
		if v {
			return "Yes"
		}
		return "No"
	case LayoutBromcom:
		if v {
			return "True"
		}
		return "False"
	}
	if v {
		return "Y"
	}
	return "N"
}

// fillRow appends one pupil's row. The address holds a quoted newline, as
// MIS address fields do.
func fillRow(row []string, l Layout, ch *genChild, contacts []genContact, lang string, family int) []string {
	class := ch.class
	if ch.formula {
		class = `=HYPERLINK("http://example.invalid","Click")`
	}
	address := fmt.Sprintf("%d High Street\nLlandudno", family%200+1)
	pp := boolCell(l, ch.pp)
	switch l {
	case LayoutArbor:
		first := ch.first
		if ch.preferred != "" {
			first = ch.preferred
		}
		row = append(row, ch.upn, first, ch.last, yearCell(l, ch.year), class, pp, address)
	case LayoutBromcom:
		first := ch.first
		if ch.preferred != "" {
			first = ch.preferred
		}
		row = append(row, ch.upn, first, ch.last, yearCell(l, ch.year), class, pp, address)
	default:
		row = append(row, ch.upn, ch.last, ch.first, ch.preferred, yearCell(l, ch.year), class, pp, address)
	}
	slots := ContactSlots
	if l == LayoutSIMSContacts {
		slots = 1
	}
	for n := 0; n < slots; n++ {
		if n >= len(contacts) {
			width := 7
			if l != LayoutArbor && l != LayoutBromcom {
				width = 8
			}
			for i := 0; i < width; i++ {
				row = append(row, "")
			}
			continue
		}
		c := contacts[n]
		prio := strconv.Itoa(c.priority)
		prCell := boolCell(l, true)
		switch l {
		case LayoutArbor:
			row = append(row, c.title+" "+c.first+" "+c.last, c.relation, c.phone, c.email, prCell, prio, lang)
		case LayoutBromcom:
			row = append(row, c.last+", "+c.first, c.relation, c.phone, c.email, prCell, prio, lang)
		default:
			row = append(row, c.first, c.last, c.relation, c.phone, c.email, prCell, prio, lang)
		}
	}
	return row
}

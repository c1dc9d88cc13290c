package misimport

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hometime-edu/hometime/content"
)

// Phones turns what a school typed into an E.164 number. region is the
// school's country (ISO 3166-1 alpha-2, content.School.Country); mobile
// says whether the number can take texts. The real implementation wraps a
// phone-number library, which content may not import; mistest.UKPhones is
// a fake for tests.
type Phones interface {
	Normalize(raw, region string) (e164 string, mobile bool, err error)
}

// DefaultMaxProblems caps the problems kept. A file that is wrong on every
// row would otherwise hold one problem per cell in memory; the counts per
// code stay exact.
const DefaultMaxProblems = 10_000

// Options are what a parse needs from the school and the caller.
type Options struct {
	Region          string  // school's country, for phone numbers
	DefaultLanguage string  // school's default family language; "en" if empty
	Phones          Phones  // required
	Mapping         Mapping // explicit columns, overriding detection
	// Responsibility decides which contacts are parents; the zero value
	// makes none of a PR-less slot's contacts one.
	Responsibility Responsibility
	Reader         ReaderOptions
	MaxProblems    int
}

// Pupil is one accepted pupil row.
type Pupil struct {
	Row, Line    int
	UPN          string // upper case, no spaces
	FirstName    string // preferred forename when given, else legal
	LastName     string
	YearGroup    string // one of content.YearGroups
	RegGroup     string // reg group / class / form, as the MIS names it
	PupilPremium bool
	Links        []Link // in slot order, one per distinct reachable contact
}

// Link is a pupil's link to a parent, with what the row says about it.
type Link struct {
	Parent                 int // index into Import.Parents
	Slot                   int
	Relationship           string
	ParentalResponsibility bool
	Priority               int
}

// Parent is one household contact: every row naming the same mobile (or,
// lacking one, the same email) folds into one Parent.
type Parent struct {
	Key       string // ContactKey: "sms:+447…" or "email:…"
	Row, Line int    // where the contact first appears
	Slot      int
	FirstName string
	LastName  string
	Mobile    string // E.164, mobile only; "" if none usable
	Email     string // lower case; "" if none usable
	Language  string // a Lang… code
	Children  []int  // indexes into Import.Pupils, in row order

	langGiven bool // the language came from the file, not the school default
	// mobileAt and emailAt are the cells the mobile and email came from,
	// so a later problem about them (suppressed) points at the right cell.
	mobileAt, emailAt cellRef
}

// cellRef is where a value was read: col indexes Detection.Header.
type cellRef struct {
	row, line, col int
}

// Import is a parsed, validated, deduplicated file.
type Import struct {
	Encoding      string
	Detection     *Detection
	Rows          int // non-blank data rows read
	Pupils        []Pupil
	Parents       []Parent
	RejectedRows  int // rows with a pupil-level error (duplicate_upn included)
	DuplicateRows int // exact repeats, skipped
	Problems      []Problem
	ProblemCounts map[string]int // by code, exact even when Problems is capped
	// ProblemsDropped counts problems beyond Options.MaxProblems.
	ProblemsDropped int
	// WithoutPR counts the contacts of accepted pupils left out for want
	// of parental responsibility, one per pupil and contact, by reason
	// (Reason…). Nothing else of them is kept.
	WithoutPR map[string]int
	// seen holds the UPN of every row read, rejected ones included.
	seen map[string]seenPupil
}

// seenPupil is what the rows read so far said about one UPN: enough to
// tell an exact repeat, another contact of the same pupil (long format)
// and a clash apart.
type seenPupil struct {
	pupilHash uint64   // the pupil's cells (long format only)
	rowHash   uint64   // the first row
	more      []uint64 // further distinct rows (long format: one per contact)
	pupil     int      // index into Import.Pupils; -1 when the pupil was rejected
}

// Seen reports whether any row of the file, rejected ones included, names
// upn: a pupil whose row has a mistake is still at the school, not a
// leaver.
func (imp *Import) Seen(upn string) bool {
	_, ok := imp.seen[upn]
	return ok
}

// ReleasePupils drops what only planning and the pupils' writes use: the
// accepted pupils, the index of every UPN read and the problems. A commit
// calls it once its children are written, so the parents' writes that
// follow do not carry a whole school's pupils. Seen reports false after.
func (imp *Import) ReleasePupils() {
	imp.Pupils, imp.seen, imp.Problems = nil, nil, nil
}

// ContactKey is the household key of a contact: its mobile when it has
// one, else its email. Mobile first because couples often share one family
// email but rarely one mobile. Callers building a Roster use it too.
func ContactKey(mobile, email string) string {
	switch {
	case mobile != "":
		return "sms:" + mobile
	case email != "":
		return "email:" + email
	}
	return ""
}

// Parse reads, validates and deduplicates a whole MIS export, one row at a
// time. A file it cannot read at all (encoding, size, columns) is an error:
// a *content.Error wrapping a *FileError or *DetectionError. Everything
// wrong with single rows or cells is a Problem in the Import.
func Parse(r io.Reader, opts Options) (*Import, error) {
	if opts.Phones == nil {
		return nil, errors.New("misimport: Options.Phones is required")
	}
	if opts.DefaultLanguage == "" {
		opts.DefaultLanguage = LangEnglish
	}
	lang, ok := Language(opts.DefaultLanguage)
	if !ok {
		return nil, fmt.Errorf("misimport: the school's default language %q has no templates", opts.DefaultLanguage)
	}
	opts.DefaultLanguage = lang
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = DefaultMaxProblems
	}
	rd, err := NewReader(r, opts.Reader)
	if err != nil {
		return nil, err
	}
	det, err := detectHeader(rd, opts.Mapping)
	if err != nil {
		return nil, err
	}
	b := newBuilder(rd, det, opts)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		b.add(rec)
	}
	return b.finish(), nil
}

// maxPreambleRows is how many rows above the header (a report title, a
// date, a blank line) detection looks past.
const maxPreambleRows = 5

// detectHeader detects the columns on the first non-blank row, and when
// that row names none of them, on the rows below it: some MIS reports put
// a title above the header. The first row's error is the one returned, as
// it is the school's most likely header.
func detectHeader(rd *Reader, m Mapping) (*Detection, error) {
	det, firstErr := Detect(rd.Header(), m)
	if firstErr == nil {
		return det, nil
	}
	for i := 0; i < maxPreambleRows && !namesAnyField(rd.Header()); i++ {
		if err := rd.NextHeader(); err != nil {
			if err == io.EOF {
				return nil, firstErr
			}
			return nil, err
		}
		if det, err := Detect(rd.Header(), m); err == nil {
			return det, nil
		}
	}
	return nil, firstErr
}

// namesAnyField reports whether a row looks like a header at all: one of
// its cells is a column name detection knows.
func namesAnyField(row []string) bool {
	for _, h := range row {
		k := headerKey(h)
		if _, _, ok := pupilHeader(k); ok {
			return true
		}
		if _, _, _, ok := contactHeader(k); ok {
			return true
		}
	}
	return false
}

// builder folds records into an Import.
type builder struct {
	opts      Options
	rd        *Reader
	l         layout
	mapped    []int // every mapped column, for the duplicate-row hash
	pupilCols []int // the pupil's columns, for the long-format pupil hash
	imp       *Import
	byKey     map[string]int    // ContactKey → index into imp.Parents
	intern    map[string]string // reg groups and relationships repeat on every row

	rec  Record
	errs int // pupil-level errors on the current row
}

func newBuilder(rd *Reader, det *Detection, opts Options) *builder {
	b := &builder{
		opts: opts, rd: rd, l: det.layout,
		imp: &Import{Encoding: rd.Encoding(), Detection: det, ProblemCounts: map[string]int{},
			WithoutPR: map[string]int{}, seen: map[string]seenPupil{}},
		byKey: map[string]int{}, intern: map[string]string{},
	}
	for f, i := range det.Columns {
		b.mapped = append(b.mapped, i)
		if _, isContact := contactSlot(f); !isContact {
			b.pupilCols = append(b.pupilCols, i)
		}
	}
	// Column order, not map order: the hash must not change between runs.
	slices.Sort(b.mapped)
	slices.Sort(b.pupilCols)
	return b
}

func (b *builder) problem(col int, code string, sev Severity, msg string) {
	b.addProblem(Problem{Row: b.rec.Row, Line: b.rec.Line, Column: b.rd.Column(col), Code: code, Severity: sev, Message: msg})
}

func (b *builder) addProblem(p Problem) {
	b.imp.ProblemCounts[p.Code]++
	if len(b.imp.Problems) < b.opts.MaxProblems {
		b.imp.Problems = append(b.imp.Problems, p)
	} else {
		b.imp.ProblemsDropped++
	}
}

func (b *builder) cellRef(col int) cellRef {
	return cellRef{row: b.rec.Row, line: b.rec.Line, col: col}
}

func (b *builder) raw(col int) string {
	if col < 0 || col >= len(b.rec.Fields) {
		return ""
	}
	return cleanCell(b.rec.Fields[col])
}

// cell returns a cleaned cell, or "" and a formula_cell problem when the
// cell would run as a formula.
//
// Formula cells are refused, not stripped: the MIS never exports a formula,
// so one means the file was edited or tampered with, and stripping the
// "=" would turn "=HYPERLINK(…)" into text we would then put in a text
// message greeting. The school sees the problem and fixes the source.
// (Exports Hometime writes escape cells separately: that is the funnel
// CSV's job.)
func (b *builder) cell(col int) (string, bool) {
	if col < 0 || col >= len(b.rec.Fields) {
		return "", false
	}
	if looksLikeFormula(b.rec.Fields[col]) {
		b.problem(col, CodeFormulaCell, SeverityError,
			"the cell starts like a spreadsheet formula (=, +, -, @); it was ignored, correct it in the MIS")
		return "", true
	}
	return cleanCell(b.rec.Fields[col]), false
}

func (b *builder) internString(s string) string {
	if v, ok := b.intern[s]; ok {
		return v
	}
	if len(b.intern) < 4096 {
		s = strings.Clone(s) // not a slice of the record: see detach
		b.intern[s] = s
	}
	return s
}

// detach copies three strings into one fresh allocation. Cells are slices
// of encoding/csv's per-record string; keeping one would keep the whole
// record, and memory would follow the file rather than the roster.
func detach(a, b, c *string) {
	all := *a + *b + *c
	if all == "" {
		return
	}
	la, lb := len(*a), len(*b)
	*a, *b, *c = all[:la], all[la:la+lb], all[la+lb:]
}

// hashCells is FNV-1a over cells, written out so hashing a row allocates
// nothing. Two rows for one UPN with the same hash are treated as exact
// copies; a collision (2⁻⁶⁴) would report a changed row as a repeat, never
// lose a different pupil.
func (b *builder) hashCells(cols []int) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, i := range cols {
		s := b.raw(i)
		for j := 0; j < len(s); j++ {
			h ^= uint64(s[j])
			h *= prime
		}
		h ^= 0xFF // cell separator: no UTF-8 byte is 0xFF
		h *= prime
	}
	return h
}

// add reads one data row: a pupil with their contacts, another contact
// of a pupil already read (long format), or a row rejected or skipped.
func (b *builder) add(rec Record) {
	if allBlank(rec.Fields) {
		return // a trailing ",,,," row: nothing to say
	}
	b.rec, b.errs = rec, 0
	b.imp.Rows++

	upn, shapeOK, checkOK := UPN(b.raw(b.l.upn))
	if upn != "" && b.repeated(upn) {
		return
	}
	for _, p := range rec.Problems {
		b.addProblem(p)
	}
	p := b.pupil(upn, shapeOK, checkOK)
	contacts := b.contacts()
	if b.errs > 0 {
		b.imp.RejectedRows++
		return
	}
	detach(&p.UPN, &p.FirstName, &p.LastName)
	p.Links = b.link(contacts, p.Links)
	if s, ok := b.imp.seen[p.UPN]; ok {
		s.pupil = len(b.imp.Pupils)
		b.imp.seen[p.UPN] = s
	}
	b.imp.Pupils = append(b.imp.Pupils, p)
}

// repeated reports whether the row names a UPN an earlier row named, and
// deals with it: an exact repeat is skipped (duplicate_row), another
// contact of the same pupil (long format) is read onto it, anything else
// is rejected (duplicate_upn). A first sight of upn is recorded.
func (b *builder) repeated(upn string) bool {
	rh := b.hashCells(b.mapped)
	var ph uint64
	if b.imp.Detection.LongFormat {
		ph = b.hashCells(b.pupilCols)
	}
	s, seen := b.imp.seen[upn]
	if !seen {
		b.imp.seen[upn] = seenPupil{pupilHash: ph, rowHash: rh, pupil: -1}
		return false
	}
	switch {
	case s.rowHash == rh || slices.Contains(s.more, rh):
		b.imp.DuplicateRows++
		b.problem(b.l.upn, CodeDuplicateRow, SeverityWarning,
			"this row repeats an earlier row for the same pupil; it was skipped")
	case b.imp.Detection.LongFormat && s.pupilHash == ph:
		s.more = append(s.more, rh)
		b.imp.seen[upn] = s
		b.moreContacts(s.pupil)
	default:
		b.imp.RejectedRows++
		b.problem(b.l.upn, CodeDuplicateUPN, SeverityError,
			"an earlier row has the same UPN with different details; this row was skipped")
	}
	return true
}

// pupil reads the row's pupil cells, noting their problems (an error
// counts in b.errs, rejecting the row).
func (b *builder) pupil(upn string, shapeOK, checkOK bool) Pupil {
	var p Pupil
	p.Row, p.Line = b.rec.Row, b.rec.Line
	switch {
	case looksLikeFormula(b.raw(b.l.upn)):
		b.cell(b.l.upn)
		b.errs++
	case upn == "":
		b.problem(b.l.upn, CodeMissingUPN, SeverityError, "the pupil has no UPN; the row was skipped")
		b.errs++
	case !shapeOK:
		b.problem(b.l.upn, CodeBadUPN, SeverityError,
			"the UPN is not a letter followed by 12 characters; the row was skipped")
		b.errs++
	case !checkOK:
		b.problem(b.l.upn, CodeUPNCheckLetter, SeverityWarning, "the UPN's check letter does not match its digits")
	}
	p.UPN = upn

	p.FirstName = b.forename()
	last, formula := b.cell(b.l.surname)
	p.LastName = collapseSpaces(last)
	if formula {
		b.errs++
	} else if p.LastName == "" {
		b.problem(b.l.surname, CodeMissingName, SeverityError, "the pupil has no surname; the row was skipped")
		b.errs++
	}

	year, formula := b.cell(b.l.year)
	switch yg, ok := YearGroup(year); {
	case formula:
		b.errs++
	case !ok:
		b.problem(b.l.year, CodeBadYearGroup, SeverityError,
			"the year group is not one Hometime serves (Nursery, Reception, Years 1–6); the row was skipped")
		b.errs++
	default:
		p.YearGroup = yg
	}

	reg, _ := b.cell(b.l.regGroup)
	p.RegGroup = b.internString(collapseSpaces(reg))

	pp, _ := b.cell(b.l.pupilPremium)
	v, ok := parseBool(pp)
	if !ok {
		b.problem(b.l.pupilPremium, CodeBadBoolean, SeverityWarning,
			"pupil premium is not Y/N, Yes/No, True/False or 1/0; read as no")
	}
	p.PupilPremium = v
	return p
}

// moreContacts reads a further row of a pupil already read (long format:
// one row per contact). Its pupil cells equal the first row's, so only its
// contacts are new.
func (b *builder) moreContacts(pupil int) {
	for _, p := range b.rec.Problems {
		b.addProblem(p)
	}
	contacts := b.contacts()
	if pupil < 0 {
		b.imp.RejectedRows++ // the pupil's first row had the error, and said so
		return
	}
	b.imp.Pupils[pupil].Links = b.link(contacts, b.imp.Pupils[pupil].Links)
}

// link folds a row's contacts with PR into households and appends the
// pupil's links to them; the others are counted and noted on the row.
func (b *builder) link(contacts []rowContact, links []Link) []Link {
	for _, c := range contacts {
		if c.leftOut != "" {
			b.leaveOut(c)
			continue
		}
		idx, dup := b.register(c, links)
		if dup {
			continue
		}
		links = append(links, Link{Parent: idx, Slot: c.slot, Relationship: c.relationship,
			ParentalResponsibility: c.pr, Priority: c.priority})
	}
	return links
}

// forename is the preferred forename when the file gives one (the name the
// family uses), else the legal one, else a plain forename column.
func (b *builder) forename() string {
	var formula bool
	for _, col := range []int{b.l.preferredForename, b.l.legalForename, b.l.forename} {
		v, f := b.cell(col)
		formula = formula || f
		if v != "" {
			return collapseSpaces(v)
		}
	}
	col := b.l.forename
	if col < 0 {
		col = b.l.legalForename
	}
	if col < 0 {
		col = b.l.preferredForename
	}
	if !formula {
		b.problem(col, CodeMissingName, SeverityError, "the pupil has no forename; the row was skipped")
	}
	b.errs++
	return ""
}

// leaveOut counts a contact of an accepted pupil who is not a parent and
// notes why on the row (a missing PR column is said once, for the file).
func (b *builder) leaveOut(c rowContact) {
	b.imp.WithoutPR[c.leftOut]++
	switch c.leftOut {
	case ReasonNoParentalResponsibility:
		b.problem(c.cols.pr, CodeNoParentalResponsibility, SeverityWarning,
			"the contact does not have parental responsibility; they stay a school contact: not linked to the pupil, not invited")
	case ReasonNotPriorityOne:
		b.problem(firstColumn(c.cols.priority, c.cols.name, c.cols.forename, c.cols.surname, c.cols.mobile, c.cols.email),
			CodeNotPriorityOne, SeverityWarning,
			"the file does not say who has parental responsibility and this contact is not priority 1; they stay a school contact: not linked, not invited")
	}
}

// rowContact is one contact slot of the current row, validated.
type rowContact struct {
	slot                int
	first, last         string
	relationship        string
	mobile, email, lang string
	langGiven           bool
	pr                  bool
	priority            int
	cols                contactColumns
	// leftOut is why the contact is not a parent (a Reason…), "" for a
	// parent. A left-out contact's other cells are not read.
	leftOut string
}

// contacts reads the row's contact slots: its parents, and the contacts
// left out as not having parental responsibility.
func (b *builder) contacts() []rowContact {
	var out []rowContact
	for _, cc := range b.l.contacts {
		if c, ok := b.contact(cc); ok {
			out = append(out, c)
		}
	}
	return out
}

// contact reads one contact slot of the row. ok is false when there is no
// one to keep: an empty slot, one that only fills the PR cell, or a
// parent with no usable channel (unreachable). A contact without parental
// responsibility is kept with leftOut set, and nothing more of it read.
func (b *builder) contact(cc contactColumns) (c rowContact, ok bool) {
	empty := true
	for _, col := range []int{cc.name, cc.forename, cc.surname, cc.relationship, cc.mobile, cc.email, cc.pr, cc.priority, cc.lang} {
		if b.raw(col) != "" {
			empty = false
			break
		}
	}
	if empty {
		return rowContact{}, false
	}
	c = rowContact{slot: cc.slot, cols: cc}
	if parent, why := b.responsibility(&c); !parent {
		// Only someone the row names counts: exports fill "N" into
		// the PR cell of an empty slot.
		for _, col := range []int{cc.name, cc.forename, cc.surname, cc.mobile, cc.email} {
			if b.raw(col) != "" {
				c.leftOut = why
				return c, true
			}
		}
		return rowContact{}, false
	}
	fn, _ := b.cell(cc.forename)
	sn, _ := b.cell(cc.surname)
	c.first, c.last = collapseSpaces(fn), collapseSpaces(sn)
	if c.first == "" && c.last == "" {
		name, _ := b.cell(cc.name)
		c.first, c.last = splitName(name)
	}
	b.channels(&c)
	c.lang = b.opts.DefaultLanguage
	if raw, _ := b.cell(cc.lang); raw != "" {
		if l, ok := Language(raw); ok {
			c.lang, c.langGiven = l, true
		} else {
			b.problem(cc.lang, CodeUnknownLanguage, SeverityWarning,
				"the language is not one Hometime writes in yet; the school's default language is used")
		}
	}
	if nameCol := firstColumn(cc.name, cc.forename, cc.surname); c.first == "" && c.last == "" && nameCol >= 0 {
		b.problem(nameCol, CodeMissingName, SeverityWarning, "the contact has no name; messages will not greet them by name")
	}
	if c.mobile == "" && c.email == "" {
		col := firstColumn(cc.mobile, cc.email, cc.name, cc.forename, cc.surname, cc.relationship, cc.lang, cc.pr, cc.priority)
		b.problem(col, CodeUnreachable, SeverityWarning,
			"the contact has neither a mobile number nor a valid email; they cannot be invited")
		return rowContact{}, false
	}
	return c, true
}

// responsibility reads c's relationship, PR and priority cells and
// decides whether c is a parent (why not, a Reason…, when not).
func (b *builder) responsibility(c *rowContact) (parent bool, why string) {
	cc := c.cols
	rel, _ := b.cell(cc.relationship)
	c.relationship = b.internString(collapseSpaces(rel))
	pr, _ := b.cell(cc.pr)
	if v, ok := parseBool(pr); ok {
		c.pr = v
	} else {
		b.problem(cc.pr, CodeBadBoolean, SeverityWarning,
			"parental responsibility is not Y/N, Yes/No, True/False or 1/0; read as no")
	}
	prio, _ := b.cell(cc.priority)
	if n, ok := parsePriority(prio); ok {
		c.priority = n
	} else {
		b.problem(cc.priority, CodeBadPriority, SeverityWarning, "the priority is not a whole number; ignored")
	}
	order := c.priority
	if cc.priority < 0 {
		order = cc.slot // "Contact 2" is the second contact; slot 0 has no order
	}
	return b.opts.Responsibility.decide(cc.pr >= 0, c.pr, order, c.relationship)
}

// channels reads c's mobile and email cells, keeping what can be used.
func (b *builder) channels(c *rowContact) {
	cc := c.cols
	if raw, _ := b.cell(cc.mobile); raw != "" {
		e164, mobile, err := b.opts.Phones.Normalize(raw, b.opts.Region)
		if err == nil {
			_, err = content.NormalizeContact(content.SuppressionSMS, e164)
		}
		switch {
		case err != nil:
			b.problem(cc.mobile, CodeInvalidPhone, SeverityWarning,
				fmt.Sprintf("the number is not a valid phone number for %s; no texts to this contact", b.regionName()))
		case !mobile:
			b.problem(cc.mobile, CodeLandline, SeverityWarning,
				"the number is a landline or cannot take texts; no texts to this contact")
		default:
			c.mobile = e164
		}
	}
	if raw, _ := b.cell(cc.email); raw != "" {
		if e, ok := Email(raw); ok {
			c.email = e
		} else {
			b.problem(cc.email, CodeInvalidEmail, SeverityWarning,
				"the email address is not valid (one plain address per cell); no email to this contact")
		}
	}
}

// firstColumn returns the first of cols the file has, or -1.
func firstColumn(cols ...int) int {
	for _, c := range cols {
		if c >= 0 {
			return c
		}
	}
	return -1
}

func (b *builder) regionName() string {
	if b.opts.Region == "" {
		return "the school's country"
	}
	return strings.ToUpper(b.opts.Region)
}

// register folds a row's contact into its household parent and returns the
// parent's index; dup is true when the row already links that parent.
func (b *builder) register(c rowContact, links []Link) (idx int, dup bool) {
	key := ContactKey(c.mobile, c.email)
	idx, ok := b.byKey[key]
	if !ok {
		detach(&c.first, &c.last, &c.email)
		idx = len(b.imp.Parents)
		b.byKey[key] = idx
		b.imp.Parents = append(b.imp.Parents, Parent{
			Key: key, Row: b.rec.Row, Line: b.rec.Line, Slot: c.slot, FirstName: c.first, LastName: c.last,
			Mobile: c.mobile, Email: c.email, Language: c.lang, langGiven: c.langGiven,
			mobileAt: b.cellRef(c.cols.mobile), emailAt: b.cellRef(c.cols.email),
		})
		return idx, false
	}
	for _, l := range links {
		if l.Parent == idx {
			col := c.cols.mobile
			if c.mobile == "" {
				col = c.cols.email
			}
			b.problem(col, CodeDuplicateContact, SeverityWarning, "this contact appears twice for the pupil; counted once")
			return idx, true
		}
	}
	p := &b.imp.Parents[idx]
	if p.FirstName == "" && p.LastName == "" {
		p.FirstName, p.LastName = strings.Clone(c.first), strings.Clone(c.last)
	}
	switch {
	case p.Email == "" && c.email != "":
		c.email = strings.Clone(c.email)
		p.Email, p.emailAt = c.email, b.cellRef(c.cols.email)
	case c.email != "" && c.email != p.Email:
		b.problem(c.cols.email, CodeContactConflict, SeverityWarning,
			"an earlier row gives this contact a different email; the earlier one is used")
	}
	switch {
	case !p.langGiven && c.langGiven:
		p.Language, p.langGiven = c.lang, true
	case p.langGiven && c.langGiven && p.Language != c.lang:
		b.problem(c.cols.lang, CodeContactConflict, SeverityWarning,
			"an earlier row gives this contact a different language; the earlier one is used")
	}
	return idx, false
}

// finish merges email-only contacts into the one mobile contact with the
// same email (the same person, reachable by text on a sibling's row), then
// fills each parent's children in row order.
func (b *builder) finish() *Import {
	imp := b.imp
	byEmail := map[string]int{} // email → mobile-keyed parent, -1 when several share it
	for i := range imp.Parents {
		p := &imp.Parents[i]
		if p.Mobile == "" || p.Email == "" {
			continue
		}
		if _, ok := byEmail[p.Email]; ok {
			byEmail[p.Email] = -1
		} else {
			byEmail[p.Email] = i
		}
	}
	remap := make([]int, len(imp.Parents))
	merged := false
	for i := range imp.Parents {
		remap[i] = i
		p := &imp.Parents[i]
		if p.Mobile != "" {
			continue
		}
		if t, ok := byEmail[p.Email]; ok && t >= 0 {
			remap[i] = t
			merged = true
			q := &imp.Parents[t]
			if q.FirstName == "" && q.LastName == "" {
				q.FirstName, q.LastName = p.FirstName, p.LastName
			}
			if !q.langGiven && p.langGiven {
				q.Language, q.langGiven = p.Language, true
			}
			if p.Row < q.Row {
				q.Row, q.Line, q.Slot, q.emailAt = p.Row, p.Line, p.Slot, p.emailAt
			}
		}
	}
	if merged {
		// Compact, keeping first-appearance order.
		newIdx := make([]int, len(imp.Parents))
		kept := imp.Parents[:0]
		for i := range imp.Parents {
			if remap[i] == i {
				newIdx[i] = len(kept)
				kept = append(kept, imp.Parents[i])
			}
		}
		for i := range remap {
			newIdx[i] = newIdx[remap[i]]
		}
		imp.Parents = kept
		for pi := range imp.Pupils {
			links := imp.Pupils[pi].Links
			out := links[:0]
			for _, l := range links {
				l.Parent = newIdx[l.Parent]
				dup := false
				for _, o := range out {
					dup = dup || o.Parent == l.Parent
				}
				if !dup {
					out = append(out, l)
				}
			}
			imp.Pupils[pi].Links = out
		}
	}
	for pi := range imp.Pupils {
		for _, l := range imp.Pupils[pi].Links {
			imp.Parents[l.Parent].Children = append(imp.Parents[l.Parent].Children, pi)
		}
	}
	return imp
}

// ContactRef is a normalised contact to look up in the suppression list.
type ContactRef struct {
	Channel    string // content.SuppressionSMS | content.SuppressionEmail
	Normalized string
}

// Contacts lists every parent's mobile and email, so the caller can look
// them up in one batch (content.Suppressions.SuppressedAmong) before
// planning.
func (imp *Import) Contacts() []ContactRef {
	var out []ContactRef
	for _, p := range imp.Parents {
		if p.Mobile != "" {
			out = append(out, ContactRef{content.SuppressionSMS, p.Mobile})
		}
		if p.Email != "" {
			out = append(out, ContactRef{content.SuppressionEmail, p.Email})
		}
	}
	return out
}

package misimport

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hometime-edu/hometime/content"
)

// Field is what a column holds: a pupil field ("upn", "year_group") or a
// contact field for contact slot N ("contact1.mobile").
type Field string

// Pupil fields.
const (
	FieldUPN               Field = "upn"
	FieldLegalForename     Field = "legal_forename"
	FieldPreferredForename Field = "preferred_forename"
	FieldForename          Field = "forename"
	FieldSurname           Field = "surname"
	FieldYearGroup         Field = "year_group"
	FieldRegGroup          Field = "reg_group"
	FieldPupilPremium      Field = "pupil_premium"
)

// ContactAttr is one thing recorded about a contact.
type ContactAttr string

const (
	AttrName                   ContactAttr = "name" // whole name, "Mrs Jane Smith" or "Smith, Jane"
	AttrForename               ContactAttr = "forename"
	AttrSurname                ContactAttr = "surname"
	AttrRelationship           ContactAttr = "relationship"
	AttrMobile                 ContactAttr = "mobile"
	AttrEmail                  ContactAttr = "email"
	AttrParentalResponsibility ContactAttr = "parental_responsibility"
	AttrPriority               ContactAttr = "priority"
	AttrLanguage               ContactAttr = "language"
)

// MaxContacts is the highest contact slot read. MIS exports carry 2–6.
const MaxContacts = 9

// ContactField is the Field of attr for contact slot n: "contact2.mobile".
// Slot 0 is the unnumbered contact of a file with one row per contact
// ("Contact Mobile", "Relationship"): "contact.mobile".
func ContactField(n int, attr ContactAttr) Field {
	if n == 0 {
		return Field("contact." + string(attr))
	}
	return Field("contact" + strconv.Itoa(n) + "." + string(attr))
}

// Mapping names, per field, the header of the column that holds it. It
// overrides detection field by field; "" says the file has no such column.
// Headers match as detection does: ignoring case, spaces and punctuation.
type Mapping map[Field]string

// Confidence is how sure detection is that it read the header right.
type Confidence string

const (
	// ConfidenceHigh: every required field matched exactly one header,
	// with no choices made. Safe to go on without asking.
	ConfidenceHigh Confidence = "high"
	// ConfidenceMedium: the required fields are there, but detection chose
	// between candidate headers or found contact slots with no channel;
	// Detection.Notes says which. Show the mapping for confirmation.
	ConfidenceMedium Confidence = "medium"
	// ConfidenceLow: a required field is missing or ambiguous. Detect
	// returns a *DetectionError; ask the school for a Mapping.
	ConfidenceLow Confidence = "low"
)

// Detection is which column holds what.
type Detection struct {
	Header   []string
	Columns  map[Field]int // field → index into Header
	Contacts []int         // contact slots found, ascending; 0 is the unnumbered one
	// LongFormat: the file has unnumbered contact columns, so a pupil may
	// take several rows, one per contact. Rows with the same UPN and the
	// same pupil cells add contacts instead of clashing.
	LongFormat bool
	Confidence Confidence
	Notes      []string // why confidence is not high; no personal data
	Ignored    []string // headers not used, in file order
	layout     layout
}

// Column returns the header text of the column holding f, or "".
func (d *Detection) Column(f Field) string {
	if i, ok := d.Columns[f]; ok {
		return d.Header[i]
	}
	return ""
}

// DetectionError says what detection could not work out. Unmapped lists
// the required fields with no column (for a contact: both its mobile and
// email fields, either of which will do); Ambiguous the fields several
// headers claim equally; Unknown the Mapping entries naming headers not in
// the file.
type DetectionError struct {
	Unmapped  []Field
	Ambiguous map[Field][]string
	Unknown   map[Field]string
	Detection *Detection
}

func (e *DetectionError) Error() string {
	var parts []string
	if len(e.Unmapped) > 0 {
		fs := make([]string, len(e.Unmapped))
		for i, f := range e.Unmapped {
			fs[i] = string(f)
		}
		parts = append(parts, "no column found for "+strings.Join(fs, ", "))
	}
	for _, f := range sortedFields(e.Ambiguous) {
		parts = append(parts, fmt.Sprintf("%s could be any of %q", f, e.Ambiguous[f]))
	}
	for _, f := range sortedFields(e.Unknown) {
		parts = append(parts, fmt.Sprintf("the mapping for %s names %q, which is not in the header", f, e.Unknown[f]))
	}
	return "the columns could not be worked out: " + strings.Join(parts, "; ")
}

func sortedFields[V any](m map[Field]V) []Field {
	fs := make([]Field, 0, len(m))
	for f := range m {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return fs
}

// headerKey is how headers compare: lower case, letters and digits only,
// so "Contact 1 E-mail", "contact1_email" and "CONTACT1EMAIL" are one.
func headerKey(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pupilHeader is the pupil column a header key names, with the rank of
// that synonym. The lists are the headers SIMS, Arbor and Bromcom reports
// use, and what schools rename them to.
func pupilHeader(key string) (Field, int, bool) {
	switch key {
	case "upn", "uniquepupilnumber":
		return FieldUPN, 0, true
	case "pupilupn", "studentupn":
		return FieldUPN, 1, true
	case "legalforename", "legalfirstname":
		return FieldLegalForename, 0, true
	case "preferredforename", "preferredfirstname":
		return FieldPreferredForename, 0, true
	case "knownas", "preferredname", "chosenname":
		return FieldPreferredForename, 1, true
	case "forename", "firstname":
		return FieldForename, 0, true
	case "pupilforename", "studentforename", "pupilfirstname", "studentfirstname", "givenname":
		return FieldForename, 1, true
	case "legalsurname":
		return FieldSurname, 0, true
	case "surname", "lastname":
		return FieldSurname, 1, true
	case "pupilsurname", "studentsurname", "familyname", "preferredsurname", "pupillastname", "studentlastname":
		return FieldSurname, 2, true
	case "year", "yeargroup", "ncyear":
		return FieldYearGroup, 0, true
	case "nationalcurriculumyear", "curriculumyear", "yr", "yeargrp":
		return FieldYearGroup, 1, true
	case "reggroup", "registrationgroup", "regform", "registrationform", "tutorgroup", "formgroup":
		return FieldRegGroup, 0, true
	case "reg", "form", "class", "classname", "tutor", "homeroom":
		return FieldRegGroup, 1, true
	case "pupilpremium", "pupilpremiumindicator", "pupilpremiumeligible", "ppindicator":
		return FieldPupilPremium, 0, true
	case "pp", "ppeligible", "pupilpremiumflag":
		return FieldPupilPremium, 1, true
	}
	return "", 0, false
}

// contactHeader splits "contact2mobile" into slot 2 and AttrMobile. An
// unnumbered contact header ("Contact Mobile", "Carer Email",
// "Relationship") is slot 0: the file has a row per pupil and contact.
func contactHeader(key string) (int, ContactAttr, int, bool) {
	switch key {
	case "relationship", "relation", "parentalresponsibility", "hasparentalresponsibility", "parentalresp", "pr",
		"priority", "contactpriority":
		// Contact-only notions, so a bare header means the row's contact
		// (Arbor: "Has Parental Responsibility"; Bromcom: "PR").
		attr, rank, ok := contactAttr(key)
		return 0, attr, 1 + rank, ok
	}
	for _, p := range []string{"primarycontact", "secondarycontact"} {
		if rest, ok := strings.CutPrefix(key, p); ok {
			slot := 1
			if p == "secondarycontact" {
				slot = 2
			}
			attr, rank, ok := contactAttr(rest)
			return slot, attr, rank, ok
		}
	}
	for _, p := range []string{"contact", "parent", "carer", "guardian"} {
		rest, ok := strings.CutPrefix(key, p)
		if !ok {
			continue
		}
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		switch {
		case n == 0 && rest != "":
			attr, rank, ok := contactAttr(rest)
			return 0, attr, rank, ok
		case n != 1 || rest[0] == '0':
			return 0, "", 0, false
		}
		attr, rank, ok := contactAttr(rest[n:])
		return int(rest[0] - '0'), attr, rank, ok
	}
	return 0, "", 0, false
}

func contactAttr(key string) (ContactAttr, int, bool) {
	switch key {
	case "name", "fullname", "":
		return AttrName, 0, true
	case "contactname":
		return AttrName, 1, true
	case "forename", "firstname", "legalforename":
		return AttrForename, 0, true
	case "givenname", "preferredforename":
		return AttrForename, 1, true
	case "surname", "lastname", "legalsurname":
		return AttrSurname, 0, true
	case "familyname":
		return AttrSurname, 1, true
	case "relationship", "relation":
		return AttrRelationship, 0, true
	case "relationshiptopupil", "relationshiptostudent", "relationshiptochild":
		return AttrRelationship, 1, true
	case "mobile", "mobilephone", "mobilenumber", "mobiletelephone", "mobiletel", "mobileno":
		return AttrMobile, 0, true
	case "telephone", "phone", "tel", "phonenumber", "telephonenumber", "primaryphone", "cellphone":
		return AttrMobile, 1, true
	case "email", "emailaddress", "mail", "primaryemail":
		return AttrEmail, 0, true
	case "parentalresponsibility", "parentalresp", "hasparentalresponsibility":
		return AttrParentalResponsibility, 0, true
	case "pr":
		return AttrParentalResponsibility, 1, true
	case "priority", "contactpriority", "prioritynumber":
		return AttrPriority, 0, true
	case "order", "contactorder":
		return AttrPriority, 1, true
	case "language", "preferredlanguage", "homelanguage", "correspondencelanguage", "languagepreference":
		return AttrLanguage, 0, true
	case "firstlanguage", "languagespoken":
		return AttrLanguage, 1, true
	}
	return "", 0, false
}

// Detect works out which column holds which field. mapping (may be nil)
// overrides it field by field. It returns a *DetectionError wrapped in a
// CodeInvalid *content.Error when a required field — UPN, a forename,
// surname, year group, and a mobile or email for at least one contact —
// has no column or several equally likely ones.
func Detect(header []string, mapping Mapping) (*Detection, error) {
	d := &Detection{Header: header, Columns: map[Field]int{}, Confidence: ConfidenceHigh}
	derr := &DetectionError{Ambiguous: map[Field][]string{}, Unknown: map[Field]string{}, Detection: d}

	keys := make([]string, len(header))
	byKey := map[string]int{}
	for i, h := range header {
		keys[i] = headerKey(h)
		if _, dup := byKey[keys[i]]; !dup && keys[i] != "" {
			byKey[keys[i]] = i
		}
	}
	// Explicit mapping first: it claims its headers. Then every other
	// header, by its synonym's rank.
	claimed, explicit := d.mapExplicit(mapping, byKey, derr)
	d.claimBySynonym(keys, claimed, explicit, derr)

	used := map[int]bool{}
	for _, i := range d.Columns {
		used[i] = true
	}
	for i, h := range header {
		if !used[i] && h != "" {
			d.Ignored = append(d.Ignored, h)
		}
	}
	d.checkRequired(derr)
	if reachable := d.noteContacts(); reachable == 0 {
		derr.Unmapped = append(derr.Unmapped, ContactField(1, AttrMobile), ContactField(1, AttrEmail))
	}

	if len(derr.Unmapped) > 0 || len(derr.Ambiguous) > 0 || len(derr.Unknown) > 0 {
		d.Confidence = ConfidenceLow
		return nil, &content.Error{Code: content.CodeInvalid, Message: derr.Error(), Err: derr}
	}
	if len(d.Notes) > 0 {
		d.Confidence = ConfidenceMedium
	}
	d.layout = newLayout(d)
	return d, nil
}

// mapExplicit applies the school's mapping: each field it names takes the
// header it gives (a header the file lacks is noted in derr.Unknown). It
// returns the columns claimed and the fields the mapping names (an empty
// header leaves its field unmapped, and out of detection).
func (d *Detection) mapExplicit(mapping Mapping, byKey map[string]int, derr *DetectionError) (claimed map[int]bool, explicit map[Field]bool) {
	claimed, explicit = map[int]bool{}, map[Field]bool{}
	for _, f := range sortedFields(mapping) {
		explicit[f] = true
		h := mapping[f]
		if h == "" {
			continue
		}
		i, ok := byKey[headerKey(h)]
		if !ok {
			derr.Unknown[f] = h
			continue
		}
		d.Columns[f] = i
		claimed[i] = true
	}
	return claimed, explicit
}

// claimBySynonym gives each field not mapped explicitly the unclaimed
// header whose synonym ranks best, noting the choice when several
// matched; a tie is ambiguous (derr.Ambiguous).
func (d *Detection) claimBySynonym(keys []string, claimed map[int]bool, explicit map[Field]bool, derr *DetectionError) {
	type claim struct {
		col  int
		rank int
	}
	claims := map[Field][]claim{}
	for i, k := range keys {
		if claimed[i] || k == "" {
			continue
		}
		var f Field
		var rank int
		if pf, r, ok := pupilHeader(k); ok {
			f, rank = pf, r
		} else if slot, attr, r, ok := contactHeader(k); ok {
			f, rank = ContactField(slot, attr), r
		} else {
			continue
		}
		if explicit[f] {
			continue
		}
		claims[f] = append(claims[f], claim{i, rank})
	}
	header := d.Header
	for _, f := range sortedFields(claims) {
		cs := claims[f]
		sort.SliceStable(cs, func(a, b int) bool { return cs[a].rank < cs[b].rank })
		if len(cs) > 1 {
			if cs[0].rank == cs[1].rank {
				var hs []string
				for _, c := range cs {
					if c.rank == cs[0].rank {
						hs = append(hs, header[c.col])
					}
				}
				derr.Ambiguous[f] = hs
				continue
			}
			d.Notes = append(d.Notes, fmt.Sprintf("%s: chose %q over %q", f, header[cs[0].col], header[cs[1].col]))
		}
		d.Columns[f] = cs[0].col
	}
}

// checkRequired notes in derr.Unmapped the required pupil fields with no
// column (and not ambiguous): UPN, a forename, surname, year group.
func (d *Detection) checkRequired(derr *DetectionError) {
	need := func(f Field) {
		if _, ok := d.Columns[f]; !ok {
			if _, amb := derr.Ambiguous[f]; !amb {
				derr.Unmapped = append(derr.Unmapped, f)
			}
		}
	}
	need(FieldUPN)
	_, hasLegal := d.Columns[FieldLegalForename]
	_, hasPreferred := d.Columns[FieldPreferredForename]
	_, hasForename := d.Columns[FieldForename]
	if !hasLegal && !hasPreferred && !hasForename {
		need(FieldForename)
	}
	need(FieldSurname)
	need(FieldYearGroup)
}

// noteContacts lists the contact slots with a column, notes those lacking
// a channel or name column, and returns how many have a mobile or email
// column. Slot 0 (one contact per row) with a channel is LongFormat.
func (d *Detection) noteContacts() (reachable int) {
	slots := map[int]bool{}
	for f := range d.Columns {
		if slot, ok := contactSlot(f); ok {
			slots[slot] = true
		}
	}
	for slot := range slots {
		d.Contacts = append(d.Contacts, slot)
	}
	slices.Sort(d.Contacts)
	for _, slot := range d.Contacts {
		_, m := d.Columns[ContactField(slot, AttrMobile)]
		_, e := d.Columns[ContactField(slot, AttrEmail)]
		if m || e {
			reachable++
			d.LongFormat = d.LongFormat || slot == 0
		} else {
			d.Notes = append(d.Notes, slotName(slot)+": no mobile or email column")
		}
		_, n := d.Columns[ContactField(slot, AttrName)]
		_, fn := d.Columns[ContactField(slot, AttrForename)]
		_, sn := d.Columns[ContactField(slot, AttrSurname)]
		if !n && !fn && !sn {
			d.Notes = append(d.Notes, slotName(slot)+": no name column")
		}
	}
	return reachable
}

// contactSlot returns the slot of a contact field.
func contactSlot(f Field) (int, bool) {
	s, ok := strings.CutPrefix(string(f), "contact")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(s, ".")
	if !ok {
		return 0, false
	}
	if n == "" {
		return 0, true
	}
	slot, err := strconv.Atoi(n)
	return slot, err == nil
}

// slotName names a contact slot in notes.
func slotName(slot int) string {
	if slot == 0 {
		return "the contact columns"
	}
	return "contact " + strconv.Itoa(slot)
}

// layout is a Detection as column indexes (-1: absent), so reading a row
// does no map look-ups.
type layout struct {
	upn, legalForename, preferredForename, forename, surname, year, regGroup, pupilPremium int
	contacts                                                                               []contactColumns
}

type contactColumns struct {
	slot                                                                     int
	name, forename, surname, relationship, mobile, email, pr, priority, lang int
}

func newLayout(d *Detection) layout {
	col := func(f Field) int {
		if i, ok := d.Columns[f]; ok {
			return i
		}
		return -1
	}
	l := layout{
		upn: col(FieldUPN), legalForename: col(FieldLegalForename), preferredForename: col(FieldPreferredForename),
		forename: col(FieldForename), surname: col(FieldSurname), year: col(FieldYearGroup),
		regGroup: col(FieldRegGroup), pupilPremium: col(FieldPupilPremium),
	}
	for _, s := range d.Contacts {
		l.contacts = append(l.contacts, contactColumns{
			slot: s, name: col(ContactField(s, AttrName)), forename: col(ContactField(s, AttrForename)),
			surname: col(ContactField(s, AttrSurname)), relationship: col(ContactField(s, AttrRelationship)),
			mobile: col(ContactField(s, AttrMobile)), email: col(ContactField(s, AttrEmail)),
			pr: col(ContactField(s, AttrParentalResponsibility)), priority: col(ContactField(s, AttrPriority)),
			lang: col(ContactField(s, AttrLanguage)),
		})
	}
	return l
}

package misimport

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

func TestDetectLayouts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		header     string
		want       map[Field]string
		contacts   []int
		confidence Confidence
	}{
		{
			name:   "SIMS",
			header: "UPN,Legal Surname,Legal Forename,Preferred Forename,Year,Reg Group,Pupil Premium,Contact 1 Forename,Contact 1 Surname,Contact 1 Relationship,Contact 1 Mobile,Contact 1 Email,Contact 1 Parental Responsibility,Contact 1 Priority,Contact 1 Language,Contact 2 Forename,Contact 2 Surname,Contact 2 Mobile",
			want: map[Field]string{FieldUPN: "UPN", FieldSurname: "Legal Surname", FieldLegalForename: "Legal Forename",
				FieldPreferredForename: "Preferred Forename", FieldYearGroup: "Year", FieldRegGroup: "Reg Group",
				FieldPupilPremium: "Pupil Premium", ContactField(1, AttrMobile): "Contact 1 Mobile",
				ContactField(1, AttrParentalResponsibility): "Contact 1 Parental Responsibility",
				ContactField(1, AttrLanguage):               "Contact 1 Language", ContactField(2, AttrMobile): "Contact 2 Mobile"},
			contacts: []int{1, 2}, confidence: ConfidenceHigh,
		},
		{
			name:   "Arbor",
			header: "UPN,Forename,Surname,Year Group,Registration Group,Pupil Premium,Contact 1 Name,Contact 1 Relationship,Contact 1 Mobile Phone,Contact 1 Email Address,Contact 1 Preferred Language,Contact 4 Name,Contact 4 Email Address",
			want: map[Field]string{FieldForename: "Forename", FieldSurname: "Surname", FieldYearGroup: "Year Group",
				FieldRegGroup: "Registration Group", ContactField(1, AttrName): "Contact 1 Name",
				ContactField(1, AttrMobile): "Contact 1 Mobile Phone", ContactField(1, AttrEmail): "Contact 1 Email Address",
				ContactField(1, AttrLanguage): "Contact 1 Preferred Language", ContactField(4, AttrEmail): "Contact 4 Email Address"},
			contacts: []int{1, 4}, confidence: ConfidenceHigh,
		},
		{
			name:   "Bromcom, underscores and odd case",
			header: "upn,PREFERRED_FORENAME,legal_surname,NC_Year,Class,Pupil_Premium,Contact1_Name,Contact1_Telephone,Contact1_E-mail,Contact1_Parental_Responsibility,Contact1_Priority,Contact1_Language",
			want: map[Field]string{FieldUPN: "upn", FieldPreferredForename: "PREFERRED_FORENAME", FieldSurname: "legal_surname",
				FieldYearGroup: "NC_Year", FieldRegGroup: "Class", ContactField(1, AttrMobile): "Contact1_Telephone",
				ContactField(1, AttrEmail): "Contact1_E-mail", ContactField(1, AttrPriority): "Contact1_Priority"},
			contacts: []int{1}, confidence: ConfidenceHigh,
		},
		{
			name:   "SIMS, one row per contact",
			header: "UPN,Legal Surname,Legal Forename,Year,Reg Group,Contact Forename,Contact Surname,Relationship,Contact Mobile,Contact Email,Parental Responsibility,Priority,Contact Language",
			want: map[Field]string{ContactField(0, AttrForename): "Contact Forename", ContactField(0, AttrRelationship): "Relationship",
				ContactField(0, AttrMobile): "Contact Mobile", ContactField(0, AttrParentalResponsibility): "Parental Responsibility",
				ContactField(0, AttrPriority): "Priority", ContactField(0, AttrLanguage): "Contact Language"},
			contacts: []int{0}, confidence: ConfidenceHigh,
		},
		{
			name:   "both mobile and telephone: mobile wins, confidence medium",
			header: "UPN,Forename,Surname,Year,Contact 1 Name,Contact 1 Telephone,Contact 1 Mobile",
			want:   map[Field]string{ContactField(1, AttrMobile): "Contact 1 Mobile"}, contacts: []int{1}, confidence: ConfidenceMedium,
		},
		{
			name:   "Reg Group preferred over Class",
			header: "UPN,Forename,Surname,Year,Class,Reg Group,Contact 1 Name,Contact 1 Email",
			want:   map[Field]string{FieldRegGroup: "Reg Group"}, contacts: []int{1}, confidence: ConfidenceMedium,
		},
		{
			name:   "contact slot without a channel lowers confidence",
			header: "UPN,Forename,Surname,Year,Contact 1 Name,Contact 1 Email,Contact 2 Name",
			want:   map[Field]string{}, contacts: []int{1, 2}, confidence: ConfidenceMedium,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Detect(strings.Split(tc.header, ","), nil)
			if err != nil {
				t.Fatal(err)
			}
			for f, h := range tc.want {
				if got := d.Column(f); got != h {
					t.Errorf("%s → %q, want %q", f, got, h)
				}
			}
			if !slices.Equal(d.Contacts, tc.contacts) {
				t.Errorf("contacts %v, want %v", d.Contacts, tc.contacts)
			}
			if d.LongFormat != slices.Contains(tc.contacts, 0) {
				t.Errorf("long format %v", d.LongFormat)
			}
			if d.Confidence != tc.confidence {
				t.Errorf("confidence %s (notes %v), want %s", d.Confidence, d.Notes, tc.confidence)
			}
		})
	}
}

func TestDetectUnsure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		header    string
		mapping   Mapping
		unmapped  []Field
		ambiguous []Field
		unknown   []Field
	}{
		{
			name: "missing required columns are listed", header: "Pupil,Surname,Contact 1 Name",
			unmapped: []Field{FieldUPN, FieldForename, FieldYearGroup, ContactField(1, AttrMobile), ContactField(1, AttrEmail)},
		},
		{
			name: "two headers equally likely", header: "UPN,Forename,Surname,Year,Year Group,Contact 1 Email",
			ambiguous: []Field{FieldYearGroup},
		},
		{
			name: "a mapping naming a header that is not there", header: "UPN,Forename,Surname,Year,Contact 1 Email",
			mapping: Mapping{FieldRegGroup: "Tutor"}, unknown: []Field{FieldRegGroup},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Detect(strings.Split(tc.header, ","), tc.mapping)
			if !content.IsCode(err, content.CodeInvalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
			var de *DetectionError
			if !errors.As(err, &de) {
				t.Fatalf("no DetectionError in %v", err)
			}
			if !slices.Equal(de.Unmapped, tc.unmapped) {
				t.Errorf("unmapped %v, want %v", de.Unmapped, tc.unmapped)
			}
			if got := sortedFields(de.Ambiguous); !slices.Equal(got, tc.ambiguous) {
				t.Errorf("ambiguous %v, want %v", got, tc.ambiguous)
			}
			if got := sortedFields(de.Unknown); !slices.Equal(got, tc.unknown) {
				t.Errorf("unknown %v, want %v", got, tc.unknown)
			}
			if de.Detection.Confidence != ConfidenceLow {
				t.Errorf("confidence %s", de.Detection.Confidence)
			}
		})
	}
}

func TestMappingOverridesDetection(t *testing.T) {
	header := strings.Split("Pupil Ref,First,Family,Yr Grp,Year,Tutor Grp,Parent Mob,Parent Name,Contact 1 Mobile", ",")
	m := Mapping{
		FieldUPN: "pupil ref", FieldForename: "First", FieldSurname: "Family", FieldYearGroup: "Yr Grp",
		FieldRegGroup: "TUTOR_GRP", ContactField(1, AttrMobile): "Parent Mob", ContactField(1, AttrName): "parent name",
	}
	d, err := Detect(header, m)
	if err != nil {
		t.Fatal(err)
	}
	for f, h := range map[Field]string{FieldUPN: "Pupil Ref", FieldYearGroup: "Yr Grp", FieldRegGroup: "Tutor Grp",
		ContactField(1, AttrMobile): "Parent Mob"} {
		if got := d.Column(f); got != h {
			t.Errorf("%s → %q, want %q", f, got, h)
		}
	}
	if d.Confidence != ConfidenceHigh {
		t.Errorf("confidence %s: %v", d.Confidence, d.Notes)
	}
	if !slices.Contains(d.Ignored, "Year") || !slices.Contains(d.Ignored, "Contact 1 Mobile") {
		t.Errorf("ignored %v should hold the columns the mapping displaced", d.Ignored)
	}

	// "" removes a column detection would have used.
	d, err = Detect(strings.Split("UPN,Forename,Surname,Year,Class,Contact 1 Email", ","), Mapping{FieldRegGroup: ""})
	if err != nil {
		t.Fatal(err)
	}
	if d.Column(FieldRegGroup) != "" {
		t.Errorf("reg group mapped to %q despite an empty mapping", d.Column(FieldRegGroup))
	}
}

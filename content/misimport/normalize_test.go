package misimport

import (
	"testing"

	"github.com/hometime-edu/hometime/content"
)

func TestYearGroup(t *testing.T) {
	for in, want := range map[string]string{
		"Reception": "R", "R": "R", "YR": "R", "Yr R": "R", "FS2": "R", "F2": "R", "rec": "R", "Year R": "R",
		"Nursery": "N", "N": "N", "FS1": "N", "N2": "N",
		"Year 3": "Y3", "Y3": "Y3", "3": "Y3", "03": "Y3", "NC Year 3": "Y3", "year3": "Y3", "Yr 3": "Y3", "Y 6": "Y6", "1": "Y1",
		"Year 7": "", "9": "", "Y13": "", "": "", "three": "", "Year": "", "0.5": "",
	} {
		got, ok := YearGroup(in)
		if got != want || ok != (want != "") {
			t.Errorf("YearGroup(%q) = %q, %v; want %q", in, got, ok, want)
		}
		if ok && !content.ValidYearGroup(got) {
			t.Errorf("YearGroup(%q) = %q is not a content year group", in, got)
		}
	}
}

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"Welsh": "cy", "Cymraeg": "cy", "cy": "cy", "WEL": "cy", " welsh ": "cy",
		"Polish": "pl", "Polski": "pl", "pl": "pl", "POL": "pl", "Polish / Polski": "pl",
		"Urdu": "ur", "Spanish": "es", "Español": "es", "Romanian": "ro", "Română": "ro", "Arabic": "ar", "العربية": "ar",
		"English": "en", "English (UK)": "en", "en-GB": "en", "ENG": "en",
		"Tigrinya": "", "Klingon": "", "": "", "e": "",
	} {
		got, ok := Language(in)
		if got != want || ok != (want != "") {
			t.Errorf("Language(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestLooksLikeFormula(t *testing.T) {
	for in, want := range map[string]bool{
		"=1+1": true, `=HYPERLINK("http://x","y")`: true, "@SUM(A1)": true, "+cmd|' /C calc'!A0": true,
		"-2+3": true, "\t=1+1": true, "\r=cmd": true, " =A1": true, "+A1": true, "-Jane": true,
		"+44 7700 900123": false, "+44 (0)7700-900-123": false, "-": false, "--": false, "-5": false,
		"Jane": false, "": false, "=": false, "@": false, "jane@example.org": false, "\tJane": false,
	} {
		if got := looksLikeFormula(in); got != want {
			t.Errorf("looksLikeFormula(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Jane.Smith@Example.org": "jane.smith@example.org", " jane@example.co.uk ": "jane@example.co.uk",
		"o'brien+school@example.org": "o'brien+school@example.org",
		"jane@":                      "", "jane @example.org": "", "jane@example": "", "Jane <jane@example.org>": "",
		"a@example.org; b@example.org": "", "a@example.org,b@example.org": "", "jane..smith@example.org": "",
		"jane@-example.org": "", "jane@example.123": "", "@example.org": "", "": "", "jane@exa mple.org": "",
	} {
		got, ok := Email(in)
		if got != want || ok != (want != "") {
			t.Errorf("Email(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestUPN(t *testing.T) {
	for _, tc := range []struct {
		in             string
		shape, checkOK bool
	}{
		{"A123456789012", true, true}, // 368 mod 23 = 0: A
		{"B123456789012", true, false},
		{"a12345678901 2", true, true},
		{"I123456789012", false, false}, // no I in the alphabet
		{"A12345678901", false, false},
		{"A1234567890AB", false, false},
		{"", false, false},
	} {
		_, shape, check := UPN(tc.in)
		if shape != tc.shape || check != tc.checkOK {
			t.Errorf("UPN(%q) = %v, %v; want %v, %v", tc.in, shape, check, tc.shape, tc.checkOK)
		}
	}
	// A generated UPN with its check letter computed passes; the temporary
	// form (letter last) too.
	d := "82000000001"
	good := string(UPNCheckLetter(d, 7)) + d + "7"
	if _, shape, check := UPN(good); !shape || !check {
		t.Errorf("UPN(%q) should pass", good)
	}
	temp := string(UPNCheckLetter(d, 0)) + d + "A"
	if _, shape, check := UPN(temp); !shape || !check {
		t.Errorf("temporary UPN(%q) should pass", temp)
	}
}

func TestSplitName(t *testing.T) {
	for in, want := range map[string][2]string{
		"Mrs Jane Smith": {"Jane", "Smith"}, "Smith, Jane": {"Jane", "Smith"}, "Smith, Mrs Jane": {"Jane", "Smith"},
		"Mrs J Smith": {"J", "Smith"}, "Mrs Smith": {"", "Smith"}, "Jane": {"Jane", ""}, "Mary Ann  de la Cruz": {"Mary Ann de la", "Cruz"},
		"Dr. Anna Nowak": {"Anna", "Nowak"}, "": {"", ""},
	} {
		f, l := splitName(in)
		if f != want[0] || l != want[1] {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", in, f, l, want[0], want[1])
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string][2]bool{
		"Y": {true, true}, "yes": {true, true}, "TRUE": {true, true}, "1": {true, true}, "t": {true, true},
		"N": {false, true}, "No": {false, true}, "false": {false, true}, "0": {false, true}, "": {false, true},
		"maybe": {false, false}, "2": {false, false},
	} {
		v, ok := parseBool(in)
		if v != want[0] || ok != want[1] {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, v, ok, want)
		}
	}
}

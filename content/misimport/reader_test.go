package misimport

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
)

// readAll returns every record's row, line and fields.
func readAll(t *testing.T, in string, opts ReaderOptions) (*Reader, []Record, error) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(in), opts)
	if err != nil {
		return nil, nil, err
	}
	var out []Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return rd, out, nil
		}
		if err != nil {
			return rd, out, err
		}
		rec.Fields = append([]string(nil), rec.Fields...)
		out = append(out, rec)
	}
}

func TestReaderEncodingsAndRows(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		encoding  string
		header    string
		fields    [][]string
		rows      []int
		lines     []int
		problems  []string // codes, in order
		delimiter rune
	}{
		{
			name: "plain UTF-8", in: "UPN,Forename\nA1,Zoë\n", encoding: EncodingUTF8, header: "UPN|Forename",
			fields: [][]string{{"A1", "Zoë"}}, rows: []int{2}, lines: []int{2},
		},
		{
			name: "UTF-8 with BOM and CRLF", in: "\xEF\xBB\xBFUPN,Forename\r\nA1,Siân\r\nA2,Łucja\r\n", encoding: EncodingUTF8,
			header: "UPN|Forename", fields: [][]string{{"A1", "Siân"}, {"A2", "Łucja"}}, rows: []int{2, 3}, lines: []int{2, 3},
		},
		{
			name: "Windows-1252: ë, en dash, curly quotes, euro", in: "UPN,Name\nA1,Zo\xEB\nA2,\x93Jo\x94 \x96 O\x92Neil \x80\n",
			encoding: EncodingWindows1252, header: "UPN|Name",
			fields: [][]string{{"A1", "Zoë"}, {"A2", "“Jo” – O’Neil €"}}, rows: []int{2, 3}, lines: []int{2, 3},
		},
		{
			name: "Windows-1252 undefined byte becomes U+FFFD", in: "UPN,Name\nA1,x\x81y\n", encoding: EncodingWindows1252,
			header: "UPN|Name", fields: [][]string{{"A1", "x\uFFFDy"}}, rows: []int{2}, lines: []int{2},
		},
		{
			name: "quoted newlines count as one spreadsheet row",
			in:   "UPN,Address\nA1,\"1 High St\r\nCardiff\"\nA2,\"a\nb\nc\"\nA3,x\n", encoding: EncodingUTF8, header: "UPN|Address",
			fields: [][]string{{"A1", "1 High St\nCardiff"}, {"A2", "a\nb\nc"}, {"A3", "x"}}, rows: []int{2, 3, 4}, lines: []int{2, 4, 7},
		},
		{
			name: "blank lines are rows a spreadsheet shows", in: "\nUPN,Name\n\nA1,x\n\n\nA2,y\n", encoding: EncodingUTF8,
			header: "UPN|Name", fields: [][]string{{"A1", "x"}, {"A2", "y"}}, rows: []int{4, 7}, lines: []int{4, 7},
		},
		{
			name: "short rows and stray quotes are read", in: "UPN,Name,Year\nA1,Mary \"Molly\" Jones\n", encoding: EncodingUTF8,
			header: "UPN|Name|Year", fields: [][]string{{"A1", `Mary "Molly" Jones`}}, rows: []int{2}, lines: []int{2},
		},
		{
			name: "semicolons from a European Excel", in: "UPN;Name\nA1;x,y\n", encoding: EncodingUTF8,
			header: "UPN|Name", fields: [][]string{{"A1", "x,y"}}, rows: []int{2}, lines: []int{2},
		},
		{
			name: "tabs", in: "UPN\tName\nA1\tx\n", encoding: EncodingUTF8,
			header: "UPN|Name", fields: [][]string{{"A1", "x"}}, rows: []int{2}, lines: []int{2},
		},
		{
			name: "invalid UTF-8 after the sniff window is repaired and flagged",
			in:   "UPN,Name\n" + strings.Repeat("A0,plain\n", sniffBytes/9+10) + "A1,Zo\xEB\n", encoding: EncodingUTF8,
			header: "UPN|Name", problems: []string{CodeBadEncoding},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, recs, err := readAll(t, tc.in, ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rd.Encoding() != tc.encoding {
				t.Errorf("encoding %s, want %s", rd.Encoding(), tc.encoding)
			}
			if got := strings.Join(rd.Header(), "|"); got != tc.header {
				t.Errorf("header %q, want %q", got, tc.header)
			}
			var codes []string
			for _, r := range recs {
				for _, p := range r.Problems {
					codes = append(codes, p.Code)
					if p.Row != r.Row || p.Column == "" {
						t.Errorf("problem without row or column: %+v", p)
					}
				}
			}
			if strings.Join(codes, ",") != strings.Join(tc.problems, ",") {
				t.Errorf("problems %v, want %v", codes, tc.problems)
			}
			if tc.fields == nil {
				last := recs[len(recs)-1]
				if last.Fields[1] != "Zoë" {
					t.Errorf("repaired field %q, want Zoë", last.Fields[1])
				}
				return
			}
			if len(recs) != len(tc.fields) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.fields))
			}
			for i, r := range recs {
				if strings.Join(r.Fields, "|") != strings.Join(tc.fields[i], "|") {
					t.Errorf("record %d = %q, want %q", i, r.Fields, tc.fields[i])
				}
				if r.Row != tc.rows[i] || r.Line != tc.lines[i] {
					t.Errorf("record %d at row %d line %d, want row %d line %d", i, r.Row, r.Line, tc.rows[i], tc.lines[i])
				}
			}
		})
	}
}

func TestReaderRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		opts ReaderOptions
		code content.Code
		row  int
	}{
		{"empty", "", ReaderOptions{}, content.CodeInvalid, 0},
		{"only blank lines", "\n\n \n", ReaderOptions{}, content.CodeInvalid, 0},
		{"UTF-16 from Excel's Unicode text", "\xFF\xFEU\x00P\x00N\x00", ReaderOptions{}, content.CodeInvalid, 0},
		{"too many rows", "UPN\n1\n2\n3\n4\n", ReaderOptions{MaxRows: 3}, content.CodeTooLarge, 5},
		{"an unclosed quote swallowing the file", "UPN,Name\nA1,\"never closed\n" + strings.Repeat("A2,x\n", 40000),
			ReaderOptions{MaxRecordBytes: 1 << 10}, content.CodeTooLarge, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.in, tc.opts)
			if !content.IsCode(err, tc.code) {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err %v carries no FileError", err)
			}
			if fe.Row != tc.row {
				t.Errorf("row %d, want %d", fe.Row, tc.row)
			}
		})
	}
}

func TestReaderDropsOverlongFields(t *testing.T) {
	in := "UPN,Name\nA1," + strings.Repeat("x", 300) + "\n"
	_, recs, err := readAll(t, in, ReaderOptions{MaxFieldBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Fields[1] != "" || len(recs[0].Problems) != 1 ||
		recs[0].Problems[0].Code != CodeFieldTooLong || recs[0].Problems[0].Column != "Name" || recs[0].Problems[0].Row != 2 {
		t.Fatalf("got %+v", recs)
	}
}

func TestLooksUTF8ForgivesACutRune(t *testing.T) {
	s := []byte("abc Zoë")
	cut := s[:len(s)-1] // half of ë
	if !looksUTF8(cut, false) {
		t.Error("a rune cut by the sniff window made the prefix look like Windows-1252")
	}
	if looksUTF8(cut, true) {
		t.Error("a cut rune at the true end of the file is invalid")
	}
	if looksUTF8([]byte("Zo\xEB here"), false) {
		t.Error("Windows-1252 ë read as UTF-8")
	}
}

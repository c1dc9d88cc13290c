package misimport_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// FuzzReader feeds arbitrary bytes through the reader and the whole parse
// and plan. Whatever the input: no panic, only classified errors, rows
// that only move forward, every problem placed at a row and column, and
// every index pointing inside the import. Seeds are in
// testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	f.Add([]byte(simsHeader + upn(1) + ",Jones,Ffion,,Year 1,1A,N,Bethan Jones,Mother,07400 000001,bethan@example.org,Welsh,,,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		limits := misimport.ReaderOptions{MaxRows: 500, MaxFieldBytes: 256, MaxRecordBytes: 4 << 10}

		rd, err := misimport.NewReader(bytes.NewReader(data), limits)
		if err == nil {
			lastRow := 0
			for {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					checkClassified(t, err)
					break
				}
				if rec.Row <= lastRow || rec.Row > rec.Line {
					t.Fatalf("record at row %d line %d after row %d", rec.Row, rec.Line, lastRow)
				}
				lastRow = rec.Row
				for _, p := range rec.Problems {
					if p.Row != rec.Row || p.Column == "" {
						t.Fatalf("misplaced problem %+v", p)
					}
				}
			}
		} else {
			checkClassified(t, err)
		}

		imp, err := misimport.Parse(bytes.NewReader(data), misimport.Options{Region: "GB", Phones: mistest.UKPhones{},
			Reader: limits, MaxProblems: 100, Responsibility: allParents})
		if err != nil {
			checkClassified(t, err)
			return
		}
		for _, p := range imp.Problems {
			if p.Row < 1 || p.Column == "" || p.Code == "" {
				t.Fatalf("problem without row or column: %+v", p)
			}
		}
		for i, p := range imp.Pupils {
			if !content.ValidYearGroup(p.YearGroup) || p.UPN == "" || p.LastName == "" || p.FirstName == "" {
				t.Fatalf("pupil %d accepted incomplete: %+v", i, p)
			}
			for _, l := range p.Links {
				if l.Parent < 0 || l.Parent >= len(imp.Parents) {
					t.Fatalf("pupil %d links parent %d of %d", i, l.Parent, len(imp.Parents))
				}
			}
		}
		for i, p := range imp.Parents {
			if p.Key != misimport.ContactKey(p.Mobile, p.Email) || p.Key == "" {
				t.Fatalf("parent %d keyed %q", i, p.Key)
			}
			for _, c := range p.Children {
				if c < 0 || c >= len(imp.Pupils) {
					t.Fatalf("parent %d has child %d of %d", i, c, len(imp.Pupils))
				}
			}
		}
		pl := misimport.NewPlan(imp, mistest.RosterAfter(imp), nil)
		if pl.Summary.Invites != 0 || pl.Summary.ChangedChildren != 0 || pl.Summary.Leavers != 0 {
			t.Fatalf("re-planning against its own roster changed something: %+v", pl.Summary)
		}
	})
}

func checkClassified(t *testing.T, err error) {
	t.Helper()
	var ce *content.Error
	if !errors.As(err, &ce) || (ce.Code != content.CodeInvalid && ce.Code != content.CodeTooLarge) {
		t.Fatalf("unclassified error %v", err)
	}
}

package misimport_test

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// plannedRun parses and plans file against snap as PlanRun does,
// without a store: nothing is suppressed.
func plannedRun(t *testing.T, file []byte, snap *content.RosterSnapshot, hashKey []byte) *misimport.Run {
	t.Helper()
	imp, err := misimport.Parse(bytes.NewReader(file), misimport.Options{Region: "GB", DefaultLanguage: "en", Phones: mistest.UKPhones{}})
	if err != nil {
		t.Fatal(err)
	}
	return misimport.NewRun(hashKey, "sch_apply", imp, snap, nil)
}

// generated is a mistest file of families families, as the API's import
// tests make them.
func generated(t *testing.T, families int, layout mistest.Layout) ([]byte, mistest.Expected) {
	t.Helper()
	var b bytes.Buffer
	exp, err := mistest.Generate(&b, mistest.Config{Families: families, Layout: layout, Seed: 4, BOM: true, CRLF: true})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), exp
}

// appliedWrites is every chunk apply handed over, and the whole of them.
type appliedWrites struct {
	calls []*content.ImportWrites
	all   content.ImportWrites
}

func applyInChunks(t *testing.T, run *misimport.Run, hashKey []byte, now time.Time, chunk int) appliedWrites {
	t.Helper()
	var got appliedWrites
	err := run.Apply(now, chunk, func(w *content.ImportWrites) error {
		got.calls = append(got.calls, w)
		got.all.NewClasses = append(got.all.NewClasses, w.NewClasses...)
		got.all.NewChildren = append(got.all.NewChildren, w.NewChildren...)
		got.all.Children = append(got.all.Children, w.Children...)
		got.all.NewParents = append(got.all.NewParents, w.NewParents...)
		got.all.ParentUpdates = append(got.all.ParentUpdates, w.ParentUpdates...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The parents' writes run without the pupils' side of the file or the
	// plan: a whole school's worth of memory the commit no longer needs.
	if run.Plan != nil || run.Import.Pupils != nil || run.Import.Problems != nil || run.Import.Parents != nil {
		t.Errorf("apply kept the plan (%t), pupils (%d), problems (%d) or parents (%d) past the writes that need them",
			run.Plan != nil, len(run.Import.Pupils), len(run.Import.Problems), len(run.Import.Parents))
	}
	return got
}

// TestImportAppliesInChunks: a commit hands its writes to the store a
// chunk at a time, every child before any parent, and the chunks add up to
// exactly what one call carrying everything would write — on an empty
// roster and on one the file changes (moved, returning and re-linked
// pupils, parents who joined).
func TestImportAppliesInChunks(t *testing.T) {
	hashKey := []byte("apply-test-key")
	now := time.Date(2026, 9, 7, 9, 0, 0, 0, time.UTC)
	file, exp := generated(t, 60, mistest.LayoutSIMS)

	empty := func() *content.RosterSnapshot { return &content.RosterSnapshot{Invited: map[string]bool{}} }
	first := applyInChunks(t, plannedRun(t, file, empty(), hashKey), hashKey, now, 1<<30)
	if len(first.all.NewChildren) != exp.Pupils || len(first.all.NewParents) != exp.Parents {
		t.Fatalf("one call wrote %d children and %d parents, want %d and %d",
			len(first.all.NewChildren), len(first.all.NewParents), exp.Pupils, exp.Parents)
	}
	// A roster as that commit left it, then changed behind the file's
	// back: a pupil the school removed (returning), one in another class,
	// one who lost a parent link, a parent who has joined.
	roster := func() *content.RosterSnapshot {
		snap := empty()
		for i, k := range first.all.NewChildren {
			c := *k
			c.Parents = slices.Clone(k.Parents)
			switch i {
			case 0:
				c.SchoolLink = content.SchoolLink{State: content.LinkRemoved, RemovedAt: now.Add(-time.Hour)}
			case 1:
				c.ClassIDs = []string{"cls_elsewhere"}
				c.YearGroup = "Y6"
			case 2:
				c.Parents = c.Parents[:0]
			}
			snap.Children = append(snap.Children, &c)
		}
		for i, p := range first.all.NewParents {
			q := *p
			if i == 3 {
				q.State = content.ParentActive
			}
			snap.Parents = append(snap.Parents, &q)
			snap.Invited[q.ID] = true
		}
		snap.Classes = append(snap.Classes, first.all.NewClasses...)
		return snap
	}

	for _, c := range []struct {
		name string
		snap func() *content.RosterSnapshot
	}{{"empty roster", empty}, {"roster the file changes", roster}} {
		t.Run(c.name, func(t *testing.T) {
			whole := applyInChunks(t, plannedRun(t, file, c.snap(), hashKey), hashKey, now, 1<<30)
			if len(whole.calls) != 2 {
				t.Errorf("one unbounded chunk made %d calls, want 2 (children, then parents)", len(whole.calls))
			}
			const chunk = 7
			got := applyInChunks(t, plannedRun(t, file, c.snap(), hashKey), hashKey, now, chunk)
			if !reflect.DeepEqual(got.all, whole.all) {
				t.Errorf("chunks of %d wrote otherwise than one call: %d/%d/%d/%d/%d documents vs %d/%d/%d/%d/%d", chunk,
					len(got.all.NewClasses), len(got.all.NewChildren), len(got.all.Children), len(got.all.NewParents), len(got.all.ParentUpdates),
					len(whole.all.NewClasses), len(whole.all.NewChildren), len(whole.all.Children), len(whole.all.NewParents), len(whole.all.ParentUpdates))
			}
			if len(got.all.Children)+len(got.all.NewChildren) == 0 || len(got.all.NewParents)+len(got.all.ParentUpdates) == 0 {
				t.Fatalf("nothing to write: %+v", got.all)
			}
			parentsBegan := false
			classes := map[string]bool{}
			for _, cl := range c.snap().Classes {
				classes[cl.ID] = true
			}
			for i, w := range got.calls {
				// A child's class is written in its call or before.
				for _, cl := range w.NewClasses {
					classes[cl.ID] = true
				}
				for _, k := range slices.Concat(w.NewChildren, w.Children) {
					for _, id := range k.ClassIDs {
						if !classes[id] && id != "cls_elsewhere" {
							t.Errorf("call %d writes child %s in class %s, which no call has written yet", i, k.ID, id)
						}
					}
				}
				kids, parents := len(w.NewChildren)+len(w.Children), len(w.NewParents)+len(w.ParentUpdates)
				if kids+parents > chunk {
					t.Errorf("call %d carries %d children and %d parents, more than %d", i, kids, parents, chunk)
				}
				if kids > 0 && parentsBegan {
					t.Errorf("call %d writes children after parents were written", i)
				}
				parentsBegan = parentsBegan || parents > 0
			}
			if c.name == "roster the file changes" {
				checkRosterChanges(t, got.all)
			}
		})
	}
}

// checkRosterChanges checks the second commit put back what the roster
// lost: the returning pupil is linked again, the re-linked parent has the
// child in its copy.
func checkRosterChanges(t *testing.T, w content.ImportWrites) {
	t.Helper()
	if len(w.NewChildren) != 0 || len(w.NewParents) != 0 {
		t.Errorf("%d new children and %d new parents on a roster that has them all", len(w.NewChildren), len(w.NewParents))
	}
	byID := map[string]*content.Child{}
	for _, k := range w.Children {
		byID[k.ID] = k
		if k.SchoolLink.State != content.LinkLinked {
			t.Errorf("child %s written %s, want linked", k.ID, k.SchoolLink.State)
		}
	}
	if len(byID) < 3 {
		t.Fatalf("%d children rewritten, want the 3 the roster changed", len(byID))
	}
	copies := map[string]map[string]bool{}
	for _, u := range w.ParentUpdates {
		copies[u.ID] = map[string]bool{}
		for _, cl := range u.Children {
			if copies[u.ID][cl.ChildID] {
				t.Errorf("parent %s's copy holds child %s twice", u.ID, cl.ChildID)
			}
			copies[u.ID][cl.ChildID] = true
			if cl.SchoolID != "sch_apply" || !strings.HasPrefix(cl.ChildID, "chd_") {
				t.Errorf("parent %s link copy %+v", u.ID, cl)
			}
		}
	}
	for _, k := range w.Children {
		for _, l := range k.Parents {
			if cp, ok := copies[l.ParentID]; ok && !cp[k.ID] {
				t.Errorf("parent %s's copy lacks child %s", l.ParentID, k.ID)
			}
		}
	}
}

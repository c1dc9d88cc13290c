package misimport_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/clocktest"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// memStore is misimport.Store in memory: the roster a commit writes is
// the roster the next plan reads, as with the real store.
type memStore struct {
	children map[string]*content.Child
	parents  map[string]*content.Parent
	classes  map[string]*content.Class
	invited  map[string]bool
	batches  map[string]content.ImportBatch
	rows     map[string][]content.ImportRowOutcome
	rowPuts  int
	applies  int
	// failApply fails the ApplyImport call of this number (1-based); 0 never.
	failApply int
}

func newMemStore() *memStore {
	return &memStore{children: map[string]*content.Child{}, parents: map[string]*content.Parent{},
		classes: map[string]*content.Class{}, invited: map[string]bool{}, batches: map[string]content.ImportBatch{},
		rows: map[string][]content.ImportRowOutcome{}}
}

var errStoreDown = errors.New("store down")

func (m *memStore) RosterSnapshot(_ context.Context, schoolID string) (*content.RosterSnapshot, error) {
	snap := &content.RosterSnapshot{Invited: map[string]bool{}}
	for _, id := range sortedKeys(m.children) {
		if k := m.children[id]; k.SchoolID == schoolID {
			c := *k
			c.Parents = slices.Clone(k.Parents)
			snap.Children = append(snap.Children, &c)
		}
	}
	for _, id := range sortedKeys(m.parents) {
		p := *m.parents[id]
		p.Children = slices.Clone(p.Children)
		snap.Parents = append(snap.Parents, &p)
		snap.Invited[id] = m.invited[id]
	}
	for _, id := range sortedKeys(m.classes) {
		cl := *m.classes[id]
		snap.Classes = append(snap.Classes, &cl)
	}
	return snap, nil
}

func (m *memStore) SuppressedKeys(context.Context, []string) (map[string]bool, error) {
	return map[string]bool{}, nil
}

func (m *memStore) Import(_ context.Context, id string) (*content.ImportBatch, error) {
	b, ok := m.batches[id]
	if !ok {
		return nil, content.ErrNotFound
	}
	return &b, nil
}

func (m *memStore) PutImport(_ context.Context, b *content.ImportBatch) error {
	m.batches[b.ID] = *b
	return nil
}

func (m *memStore) PutImportRows(_ context.Context, importID string, rows []content.ImportRowOutcome) (int, error) {
	m.rowPuts++
	m.rows[importID] = slices.Clone(rows)
	return (len(rows) + content.ImportRowChunk - 1) / content.ImportRowChunk, nil
}

// ApplyImport applies w as the real store does: inserts keep a document
// already there, updates replace children whole and parents' copies.
func (m *memStore) ApplyImport(_ context.Context, w *content.ImportWrites) error {
	m.applies++
	if m.applies == m.failApply {
		return errStoreDown
	}
	for _, cl := range w.NewClasses {
		if m.classes[cl.ID] == nil {
			m.classes[cl.ID] = cl
		}
	}
	for _, k := range w.NewChildren {
		if m.children[k.ID] == nil {
			m.children[k.ID] = k
		}
	}
	for _, k := range w.Children {
		m.children[k.ID] = k
	}
	for _, p := range w.NewParents {
		if m.parents[p.ID] == nil {
			m.parents[p.ID] = p
		}
	}
	for _, u := range w.ParentUpdates {
		p := m.parents[u.ID]
		p.Children = u.Children
		if u.SetContact {
			p.FirstName, p.LastName, p.Phone, p.Email, p.Language = u.FirstName, u.LastName, u.Phone, u.Email, u.Language
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// inviteRecorder is a Commit.Invite that records whom it invited.
type inviteRecorder struct {
	store *memStore
	calls [][]string
	err   error
}

func (r *inviteRecorder) invite(_ context.Context, ids []string, _ time.Time) (string, int, error) {
	if r.err != nil {
		return "", 0, r.err
	}
	r.calls = append(r.calls, slices.Clone(ids))
	if len(ids) == 0 {
		return "", 0, nil
	}
	for _, id := range ids {
		r.store.invited[id] = true
	}
	return "brd_test", len(ids), nil
}

const commitSchool = "sch_commit"

var commitKey = []byte("commit-test-key")

// commitFile plans file against st's roster and commits it as batch id.
func commitFile(t *testing.T, st *memStore, file []byte, id string, inv *inviteRecorder, chunk int) (misimport.Committed, error) {
	t.Helper()
	imp, err := misimport.Parse(bytes.NewReader(file), misimport.Options{Region: "GB", DefaultLanguage: "en", Phones: mistest.UKPhones{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run, err := misimport.PlanRun(ctx, st, commitKey, commitSchool, imp)
	if err != nil {
		t.Fatal(err)
	}
	return run.Commit(ctx, st, misimport.Commit{ID: id, StaffID: "stf_1", FileName: "roster.csv", FileSHA256: "abc",
		Clock: clocktest.New(time.Date(2026, 9, 7, 9, 0, 0, 0, time.UTC)), Chunk: chunk, Invite: inv.invite})
}

// TestCommitRecordsBatch: a commit on an empty roster writes every pupil
// and parent, stores one outcome per row (created, rejected, duplicate),
// invites the plan's invitees once, and records the batch as committed
// with the plan's numbers; committing the same file again writes nothing
// new and invites nobody.
func TestCommitRecordsBatch(t *testing.T) {
	file, exp := generated(t, 40, mistest.LayoutSIMS)
	st := newMemStore()
	inv := &inviteRecorder{store: st}
	res, err := commitFile(t, st, file, "imp_1", inv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed || res.BroadcastID != "brd_test" || res.Invited != exp.Invites {
		t.Errorf("first commit answered %+v, want %d invited by brd_test", res, exp.Invites)
	}
	if len(st.children) != exp.Pupils || len(st.parents) != exp.Parents {
		t.Errorf("store holds %d children and %d parents, want %d and %d", len(st.children), len(st.parents), exp.Pupils, exp.Parents)
	}
	b := st.batches["imp_1"]
	if b.Status != content.ImportCommitted || b.SchoolID != commitSchool || b.CreatedBy != "stf_1" ||
		b.InviteBroadcastID != "brd_test" || b.Invited != exp.Invites || b.RowChunks != 1 ||
		b.Counts["pupils"] != exp.Pupils || b.Counts["new_parents"] != exp.Parents || b.Counts["households"] == 0 {
		t.Errorf("batch recorded as %+v", b)
	}
	byOutcome := map[string]int{}
	rows := st.rows["imp_1"]
	for i, o := range rows {
		byOutcome[o.Outcome]++
		if i > 0 && rows[i-1].Row >= o.Row {
			t.Errorf("outcome rows out of order: %d then %d", rows[i-1].Row, o.Row)
		}
		if o.Outcome == misimport.OutcomeCreated && (!strings.HasPrefix(o.ChildID, "chd_") || st.children[o.ChildID] == nil) {
			t.Errorf("row %d created child %q, which the store lacks", o.Row, o.ChildID)
		}
	}
	want := map[string]int{misimport.OutcomeCreated: exp.Pupils, misimport.OutcomeRejected: exp.RejectedRows,
		misimport.OutcomeDuplicate: exp.DuplicateRows}
	for k, n := range want {
		if byOutcome[k] != n {
			t.Errorf("%d rows %s, want %d (all: %v)", byOutcome[k], k, n, byOutcome)
		}
	}

	applies := st.applies
	res, err = commitFile(t, st, file, "imp_1", inv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed || res.BroadcastID != "" || res.Invited != 0 || st.applies != applies || st.rowPuts != 1 {
		t.Errorf("the same file again: %+v, %d more writes, %d row puts", res, st.applies-applies, st.rowPuts)
	}
	if b := st.batches["imp_1"]; b.InviteBroadcastID != "brd_test" || b.Invited != exp.Invites {
		t.Errorf("a repeat lost the first invites: %+v", b)
	}
}

// TestCommitResumesAfterFailure: a commit whose store fails part-way, at
// any of its roster writes (children or parents), is recorded failed with
// the error's code; the same upload then resumes (row outcomes are not
// written again) and leaves the roster exactly as one clean commit does,
// inviting everyone once.
func TestCommitResumesAfterFailure(t *testing.T) {
	file, exp := generated(t, 30, mistest.LayoutArbor)
	const chunk = 7
	clean := newMemStore()
	if _, err := commitFile(t, clean, file, "imp_r", &inviteRecorder{store: clean}, chunk); err != nil {
		t.Fatal(err)
	}
	if clean.applies < 4 {
		t.Fatalf("a clean commit made %d roster writes; want several chunks of children and of parents", clean.applies)
	}
	for fail := 1; fail <= clean.applies; fail++ {
		st := newMemStore()
		st.failApply = fail
		inv := &inviteRecorder{store: st}
		if _, err := commitFile(t, st, file, "imp_r", inv, chunk); !errors.Is(err, errStoreDown) {
			t.Fatalf("failing write %d: %v", fail, err)
		}
		if b := st.batches["imp_r"]; b.Status != content.ImportFailed || b.ErrorCode != string(content.CodeInternal) || b.RowChunks != 1 {
			t.Errorf("failing write %d: batch recorded as %+v", fail, b)
		}
		if len(inv.calls) != 0 {
			t.Errorf("failing write %d: invited before the roster was written", fail)
		}
		res, err := commitFile(t, st, file, "imp_r", inv, chunk)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Resumed || res.Invited != exp.Invites || st.rowPuts != 1 || len(inv.calls) != 1 {
			t.Errorf("failing write %d, resumed: %+v, %d row puts, %d invite calls", fail, res, st.rowPuts, len(inv.calls))
		}
		if b := st.batches["imp_r"]; b.Status != content.ImportCommitted || b.ErrorCode != "" {
			t.Errorf("failing write %d: resumed batch recorded as %+v", fail, b)
		}
		if !reflect.DeepEqual(st.children, clean.children) || !reflect.DeepEqual(st.parents, clean.parents) ||
			!reflect.DeepEqual(st.classes, clean.classes) {
			t.Errorf("failing write %d: the resumed commit left %d children, %d parents, %d classes unlike a clean one's %d, %d, %d",
				fail, len(st.children), len(st.parents), len(st.classes), len(clean.children), len(clean.parents), len(clean.classes))
		}
	}
}

// TestCommitRecordsInviteFailure: when the invites cannot go out, the
// roster is written but the batch is failed with the invite's error code,
// so the same upload resumes and invites.
func TestCommitRecordsInviteFailure(t *testing.T) {
	file, exp := generated(t, 10, mistest.LayoutBromcom)
	st := newMemStore()
	inv := &inviteRecorder{store: st, err: content.Errorf(content.CodeUnavailable, "queue down")}
	if _, err := commitFile(t, st, file, "imp_i", inv, 0); !content.IsCode(err, content.CodeUnavailable) {
		t.Fatalf("failing invites: %v", err)
	}
	if b := st.batches["imp_i"]; b.Status != content.ImportFailed || b.ErrorCode != string(content.CodeUnavailable) || b.InviteBroadcastID != "" {
		t.Errorf("batch recorded as %+v", b)
	}
	inv.err = nil
	res, err := commitFile(t, st, file, "imp_i", inv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.Invited != exp.Invites || len(inv.calls) != 1 {
		t.Errorf("resumed: %+v after %d invite calls", res, len(inv.calls))
	}
}

// TestCommitRefusesAnotherSchoolsBatch: a batch id held by another school
// is a conflict, and nothing is written.
func TestCommitRefusesAnotherSchoolsBatch(t *testing.T) {
	file, _ := generated(t, 5, mistest.LayoutSIMS)
	st := newMemStore()
	st.batches["imp_x"] = content.ImportBatch{ID: "imp_x", SchoolID: "sch_other", Status: content.ImportCommitted}
	if _, err := commitFile(t, st, file, "imp_x", &inviteRecorder{store: st}, 0); !content.IsCode(err, content.CodeConflict) {
		t.Fatalf("another school's batch: %v", err)
	}
	if st.applies != 0 || st.rowPuts != 0 || st.batches["imp_x"].SchoolID != "sch_other" {
		t.Errorf("wrote %d roster chunks and %d row sets over another school's batch", st.applies, st.rowPuts)
	}
}

// TestCommitKeepsParentCopiesWhole: when a file changes one child of a
// family and not its siblings, the parents' copies of their links are
// rebuilt with every child, the unchanged ones included: after the commit
// each parent's copy matches the children's links exactly.
func TestCommitKeepsParentCopiesWhole(t *testing.T) {
	file, _ := generated(t, 20, mistest.LayoutSIMS)
	st := newMemStore()
	if _, err := commitFile(t, st, file, "imp_a", &inviteRecorder{store: st}, 0); err != nil {
		t.Fatal(err)
	}
	checkParentCopies(t, st)
	// One child of a family with several loses its links behind the
	// file's back; the file links it again.
	var lost string
	for _, id := range sortedKeys(st.parents) {
		if p := st.parents[id]; len(p.Children) > 1 {
			lost = p.Children[0].ChildID
			break
		}
	}
	if lost == "" {
		t.Fatal("no parent with more than one child in the file")
	}
	st.children[lost].Parents = nil
	applies := st.applies
	if _, err := commitFile(t, st, file, "imp_b", &inviteRecorder{store: st}, 3); err != nil {
		t.Fatal(err)
	}
	if st.applies == applies || len(st.children[lost].Parents) == 0 {
		t.Fatalf("the file did not link child %s again", lost)
	}
	checkParentCopies(t, st)
}

// checkParentCopies checks every parent's copy of its links at the school
// holds exactly the children linked to it, once each.
func checkParentCopies(t *testing.T, st *memStore) {
	t.Helper()
	want := map[string][]string{}
	for _, id := range sortedKeys(st.children) {
		for _, l := range st.children[id].Parents {
			want[l.ParentID] = append(want[l.ParentID], id)
		}
	}
	for _, id := range sortedKeys(st.parents) {
		var got []string
		for _, cl := range st.parents[id].Children {
			if cl.SchoolID == commitSchool {
				got = append(got, cl.ChildID)
			}
		}
		if !slices.Equal(got, want[id]) {
			t.Errorf("parent %s's copy holds %v, the children link %v", id, got, want[id])
		}
	}
}

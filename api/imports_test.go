package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// importSchool is a school with one admin, for import tests: its roster
// starts empty, as mistest's expected numbers assume.
type importSchool struct {
	h     *harness
	sc    *content.School
	admin string // access token
}

func newImportSchool(t *testing.T) *importSchool {
	t.Helper()
	h := newHarness(t)
	h.deps.Imports, h.deps.Phones, h.deps.Catalog, h.deps.SMSPrice = h.store, mistest.UKPhones{}, notify.MustCatalog(), 4
	h.app = mustNew(t, h.deps)
	ctx := context.Background()
	sc := NewSchoolDefaults("", h.clock.Now())
	sc.ID, sc.Name = "sch_imp", "Ysgol Glan Afon"
	if err := h.store.CreateSchool(ctx, sc); err != nil {
		t.Fatal(err)
	}
	hash, err := h.deps.Passwords.Hash(ctx, fixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	st := &content.Staff{ID: "stf_imp", Email: "admin@glanafon.test", FirstName: "Ada", LastName: "Admin", PasswordHash: hash,
		Schools: []content.SchoolRoles{{SchoolID: sc.ID, Roles: []content.Role{content.RoleAdmin}}}}
	if err := h.store.CreateStaff(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutLogin(ctx, &content.Login{Key: loginKey(content.KindStaff, "email", st.Email), Kind: content.KindStaff, AccountID: st.ID}); err != nil {
		t.Fatal(err)
	}
	return &importSchool{h: h, sc: sc, admin: h.login(st.Email, fixturePassword).AccessToken}
}

func (s *importSchool) upload(t *testing.T, csv []byte, query string, opts ...reqOpt) (*http.Response, []byte) {
	t.Helper()
	opts = append([]reqOpt{withHeader("Content-Type", "text/csv")}, opts...)
	return s.h.do("POST", "/v1/schools/"+s.sc.ID+"/imports?"+query, csv, s.admin, opts...)
}

func generated(t *testing.T, families int, layout mistest.Layout) ([]byte, mistest.Expected) {
	t.Helper()
	var b bytes.Buffer
	exp, err := mistest.Generate(&b, mistest.Config{Families: families, Layout: layout, Seed: 4, BOM: true, CRLF: true})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), exp
}

// checkSummary compares a dry run's numbers with what mistest says the
// generated file must give against an empty roster.
func checkSummary(t *testing.T, got importResultDTO, exp mistest.Expected) {
	t.Helper()
	s := got.Summary
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"rows", s.Rows, exp.Rows}, {"pupils", s.Pupils, exp.Pupils}, {"rejected_rows", s.RejectedRows, exp.RejectedRows},
		{"duplicate_rows", s.DuplicateRows, exp.DuplicateRows}, {"new_children", s.NewChildren, exp.Pupils},
		{"parents", s.Parents, exp.Parents}, {"new_parents", s.NewParents, exp.Parents}, {"invites", s.Invites, exp.Invites},
		{"invites_by_sms", s.InvitesBySMS, exp.InvitesBySMS}, {"invites_by_email", s.InvitesByEmail, exp.InvitesByEmail},
		{"leavers", s.Leavers, 0},
	} {
		if c.got != c.want {
			t.Errorf("summary %s = %d, want %d", c.name, c.got, c.want)
		}
	}
	for code, n := range exp.Problems {
		if got.ProblemCounts[code] != n {
			t.Errorf("problem %s: %d, want %d", code, got.ProblemCounts[code], n)
		}
	}
	for code, n := range got.ProblemCounts {
		if exp.Problems[code] != n {
			t.Errorf("unexpected problem %s ×%d", code, n)
		}
	}
	if len(got.ByLanguage) != len(exp.ByLanguage) {
		t.Errorf("%d languages, want %d", len(got.ByLanguage), len(exp.ByLanguage))
	}
	segs := 0
	for _, l := range got.ByLanguage {
		want := exp.ByLanguage[l.Language]
		if l.Invites != want.Invites || l.SMS != want.SMS || l.Email != want.Email {
			t.Errorf("language %s: %d invites (%d sms, %d email), want %+v", l.Language, l.Invites, l.SMS, l.Email, want)
		}
		if l.SMS > 0 && (l.SMSSegments < l.SMS || l.SMSCostPence != int64(l.SMSSegments)*4) {
			t.Errorf("language %s: %d segments costing %dp for %d texts", l.Language, l.SMSSegments, l.SMSCostPence, l.SMS)
		}
		segs += l.SMSSegments
	}
	if s.SMSSegments != segs || s.SMSCostPence != int64(segs)*4 {
		t.Errorf("total %d segments %dp, want %d segments", s.SMSSegments, s.SMSCostPence, segs)
	}
	for _, p := range got.Problems {
		if p.Row < 2 || p.Column == "" || p.Code == "" || p.Message == "" {
			t.Errorf("problem without row, column, code or message: %+v", p)
		}
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	s := newImportSchool(t)
	file, exp := generated(t, 300, mistest.LayoutSIMS)
	if exp.ByLanguage["cy"].Invites == 0 || exp.ByLanguage["pl"].Invites == 0 || exp.Siblings == 0 || exp.DuplicateRows == 0 ||
		exp.Problems["landline"] == 0 || exp.Problems["invalid_phone"] == 0 {
		t.Fatalf("the generated file lacks a case the test needs: %+v", exp)
	}
	resp, body := s.upload(t, file, "dry_run=true")
	wantStatus(t, resp, body, 200)
	got := decode[importResultDTO](t, body)
	if got.Status != "dry_run" || got.ImportID != "" {
		t.Errorf("status %q import %q, want a dry run with no batch", got.Status, got.ImportID)
	}
	checkSummary(t, got, exp)
	t.Logf("dry run of %d families: %d rows, %d pupils, %d households, %d parents, %d invites (%d sms, %d email), %d segments, %dp",
		300, got.Summary.Rows, got.Summary.Pupils, got.Summary.Households, got.Summary.Parents, got.Summary.Invites,
		got.Summary.InvitesBySMS, got.Summary.InvitesByEmail, got.Summary.SMSSegments, got.Summary.SMSCostPence)

	ctx := context.Background()
	kids, err := s.h.store.ChildrenOfSchool(ctx, s.sc.ID)
	if err != nil || len(kids) != 0 {
		t.Errorf("a dry run wrote %d children (%v)", len(kids), err)
	}
	if n := s.h.queue.Len(); n != 0 {
		t.Errorf("a dry run queued %d tasks", n)
	}
	for _, v := range []string{"Cymraeg", "+447", "@example"} {
		if strings.Contains(s.h.logBuf.String(), v) {
			t.Errorf("the log holds personal data (%q)", v)
		}
	}
}

func TestImportCommitIsIdempotent(t *testing.T) {
	s := newImportSchool(t)
	ctx := context.Background()
	file, exp := generated(t, 300, mistest.LayoutArbor)

	resp, body := s.upload(t, file, "dry_run=false", withHeader("X-File-Name", "arbor-export.csv"))
	wantStatus(t, resp, body, 200)
	got := decode[importResultDTO](t, body)
	checkSummary(t, got, exp)
	if got.Status != "committed" || got.ImportID == "" || got.Invited != exp.Invites || got.InviteBroadcastID == "" {
		t.Fatalf("commit: %+v", got)
	}
	kids, err := s.h.store.ChildrenOfSchool(ctx, s.sc.ID)
	if err != nil || len(kids) != exp.Pupils {
		t.Fatalf("%d children stored, want %d (%v)", len(kids), exp.Pupils, err)
	}
	// Both sides of every link, and one parent per household.
	parents := map[string]*content.Parent{}
	for _, k := range kids {
		if len(k.ClassIDs) > 1 {
			t.Errorf("child %s has classes %v", k.ID, k.ClassIDs)
		}
		for _, l := range k.Parents {
			pa, ok := parents[l.ParentID]
			if !ok {
				if pa, err = s.h.store.Parent(ctx, l.ParentID); err != nil {
					t.Fatalf("child %s links parent %s: %v", k.ID, l.ParentID, err)
				}
				parents[pa.ID] = pa
			}
			if _, ok := pa.LinkedChild(k.ID); !ok {
				t.Errorf("parent %s lacks its copy of the link to %s", pa.ID, k.ID)
			}
		}
	}
	if len(parents) != exp.Parents {
		t.Errorf("%d parents linked, want %d", len(parents), exp.Parents)
	}
	b, err := s.h.store.Broadcast(ctx, got.InviteBroadcastID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Template != "invite" || b.Category != "invites" || len(b.Audience.ParentIDs) != exp.Invites || b.Params["link"] == "" {
		t.Errorf("invite broadcast: %s/%s to %d parents, params %v", b.Template, b.Category, len(b.Audience.ParentIDs), b.Params)
	}
	if n := len(s.h.queue.OfType(tasks.TypeExpandBroadcast)); n != 1 {
		t.Errorf("%d expansions queued, want 1", n)
	}
	if n := len(s.h.queue.OfType(tasks.TypeInviteReminder)); n != 2 {
		t.Errorf("%d reminders queued, want 2 (+3 and +7 days)", n)
	}
	batch, err := s.h.store.Import(ctx, got.ImportID)
	if err != nil {
		t.Fatal(err)
	}
	if batch.Status != content.ImportCommitted || batch.FileName != "arbor-export.csv" || batch.Invited != exp.Invites ||
		batch.Counts["new_children"] != exp.Pupils || batch.RowChunks != 1 {
		t.Errorf("batch: %+v", batch)
	}
	rows, err := s.h.store.ImportRows(ctx, got.ImportID, 0)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, r := range rows {
		outcomes[r.Outcome]++
	}
	if outcomes["created"] != exp.Pupils || outcomes["duplicate"] != exp.DuplicateRows || outcomes["rejected"] != exp.RejectedRows {
		t.Errorf("row outcomes %v; want %d created, %d duplicate, %d rejected", outcomes, exp.Pupils, exp.DuplicateRows, exp.RejectedRows)
	}

	// The same file again: nothing changes, nobody is invited.
	resp, body = s.upload(t, file, "dry_run=false")
	wantStatus(t, resp, body, 200)
	again := decode[importResultDTO](t, body)
	if again.ImportID != got.ImportID || again.Invited != 0 || again.InviteBroadcastID != "" ||
		again.Summary.NewChildren != 0 || again.Summary.ChangedChildren != 0 || again.Summary.UnchangedChildren != exp.Pupils ||
		again.Summary.NewParents != 0 || again.Summary.ChangedParents != 0 || again.Summary.Invites != 0 {
		t.Errorf("re-upload: %+v", again)
	}
	if n := len(s.h.queue.OfType(tasks.TypeExpandBroadcast)); n != 1 {
		t.Errorf("after a re-upload %d expansions queued, want still 1", n)
	}
	kids2, _ := s.h.store.ChildrenOfSchool(ctx, s.sc.ID)
	if len(kids2) != len(kids) {
		t.Errorf("re-upload left %d children, want %d", len(kids2), len(kids))
	}
}

func TestImportRefusals(t *testing.T) {
	s := newImportSchool(t)
	file, _ := generated(t, 20, mistest.LayoutBromcom)
	cases := []struct {
		name   string
		body   []byte
		query  string
		opts   []reqOpt
		status int
		field  string
	}{
		{"not CSV", file, "dry_run=true", []reqOpt{withHeader("Content-Type", "application/json")}, 400, "Content-Type"},
		{"bad dry_run", file, "dry_run=maybe", nil, 400, "dry_run"},
		{"empty file", []byte{}, "dry_run=true", nil, 400, "body"},
		{"mapping not JSON", file, "dry_run=true&mapping=%7Bnope", nil, 400, "mapping"},
		{"unrecognised columns", []byte("Pupil,Colour\nA,blue\n"), "dry_run=true", nil, 422, "mapping.upn"},
		{"mapping names a missing header", file, "dry_run=true&mapping=" + "%7B%22upn%22%3A%22Nope%22%7D", nil, 422, "mapping.upn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := s.upload(t, c.body, c.query, c.opts...)
			wantStatus(t, resp, body, c.status)
			e := decode[errorBody](t, body)
			if _, ok := e.Error.Fields[c.field]; !ok {
				t.Errorf("fields %v lack %s", e.Error.Fields, c.field)
			}
		})
	}
	kids, _ := s.h.store.ChildrenOfSchool(context.Background(), s.sc.ID)
	if len(kids) != 0 {
		t.Errorf("refused uploads wrote %d children", len(kids))
	}
	// The upload may be larger than the 1 MiB every other route keeps.
	big, exp := generated(t, 8000, mistest.LayoutSIMS)
	if len(big) <= 1<<20 {
		t.Fatalf("the big file is only %d bytes", len(big))
	}
	resp, body := s.upload(t, big, "dry_run=true")
	wantStatus(t, resp, body, 200)
	if got := decode[importResultDTO](t, body); got.Summary.Pupils != exp.Pupils {
		t.Errorf("a %d-byte file: %d pupils, want %d", len(big), got.Summary.Pupils, exp.Pupils)
	}
}

func TestResendInvitesAndFamiliesExport(t *testing.T) {
	s := newImportSchool(t)
	ctx := context.Background()
	file, exp := generated(t, 20, mistest.LayoutBromcom)
	resp, body := s.upload(t, file, "dry_run=false")
	wantStatus(t, resp, body, 200)

	// Everyone still invited is invited again, once per Idempotency-Key.
	path := "/v1/schools/" + s.sc.ID + "/invites/resend"
	resp, body = s.h.do("POST", path, nil, s.admin, withHeader("Idempotency-Key", "resend-1"))
	wantStatus(t, resp, body, 202)
	first := decode[resendInvitesDTO](t, body)
	if first.Invited != exp.Parents || first.BroadcastID == "" {
		t.Fatalf("resend: %+v, want %d parents", first, exp.Parents)
	}
	resp, body = s.h.do("POST", path, nil, s.admin, withHeader("Idempotency-Key", "resend-1"))
	wantStatus(t, resp, body, 202)
	if again := decode[resendInvitesDTO](t, body); again != first || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("repeat: %+v (replayed %q), want %+v", again, resp.Header.Get("Idempotent-Replayed"), first)
	}
	if n := len(s.h.queue.OfType(tasks.TypeExpandBroadcast)); n != 2 {
		t.Errorf("%d expansions queued, want 2 (import, one resend)", n)
	}
	invs, err := s.h.store.FamilyInvitesOfSchool(ctx, s.sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if inv.BroadcastID != first.BroadcastID || inv.ImportID == "" {
			t.Errorf("invite record %+v: want the resend's broadcast and the import kept", inv)
		}
	}

	// A name that a spreadsheet would run is exported as text.
	b, _ := s.h.store.Broadcast(ctx, first.BroadcastID)
	pa, err := s.h.store.Parent(ctx, b.Audience.ParentIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	pa.FirstName, pa.LastName = `=HYPERLINK("http://evil.test","x")`, "+SUM(1)"
	if err := s.h.store.UpdateParent(ctx, pa); err != nil {
		t.Fatal(err)
	}
	resp, body = s.h.do("GET", "/v1/schools/"+s.sc.ID+"/funnel/families.csv", nil, s.admin)
	wantStatus(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	csv := string(body)
	if !strings.Contains(csv, `"'=HYPERLINK(""http://evil.test"",""x"")"`) || !strings.Contains(csv, ",'+SUM(1),") {
		t.Errorf("formula cells not neutralised:\n%s", csv)
	}
	for _, c := range []struct{ in, out string }{{"=1", "'=1"}, {"-2", "'-2"}, {"@a", "'@a"}, {"\tx", "'\tx"}, {"\rx", "'\rx"}, {"Ann", "Ann"}, {"", ""}} {
		if got := csvSafe(c.in); got != c.out {
			t.Errorf("csvSafe(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}

// TestImportLeavers: pupils missing from a later file leave (their school
// link is removed, starting the retention clock; their parents' copies
// follow), but only once the admin confirms a file that removes many.
func TestImportLeavers(t *testing.T) {
	s := newImportSchool(t)
	ctx := context.Background()
	full, _ := generated(t, 20, mistest.LayoutArbor)
	resp, body := s.upload(t, full, "dry_run=false")
	wantStatus(t, resp, body, 200)
	before, _ := s.h.store.ChildrenOfSchool(ctx, s.sc.ID)

	part, exp := generated(t, 8, mistest.LayoutArbor)
	resp, body = s.upload(t, part, "dry_run=true")
	wantStatus(t, resp, body, 200)
	plan := decode[importResultDTO](t, body)
	leavers := plan.Summary.Leavers
	if leavers == 0 || plan.Summary.NewChildren != 0 || plan.Summary.UnchangedChildren != exp.Pupils {
		t.Fatalf("a shorter file of the same families: %+v", plan.Summary)
	}
	resp, body = s.upload(t, part, "dry_run=false")
	wantStatus(t, resp, body, 409)
	if e := decode[errorBody](t, body); e.Error.Fields["confirm_leavers"] == "" {
		t.Errorf("409 without the field to confirm: %s", body)
	}
	resp, body = s.upload(t, part, "dry_run=false&confirm_leavers=true")
	wantStatus(t, resp, body, 200)

	after, _ := s.h.store.ChildrenOfSchool(ctx, s.sc.ID)
	removed := 0
	for _, k := range after {
		if k.SchoolLink.State != content.LinkRemoved {
			continue
		}
		removed++
		if !k.SchoolLink.RemovedAt.Equal(s.h.clock.Now()) {
			t.Errorf("leaver %s removed at %v", k.ID, k.SchoolLink.RemovedAt)
		}
		for _, l := range k.Parents {
			pa, err := s.h.store.Parent(ctx, l.ParentID)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := pa.LinkedChild(k.ID); ok {
				t.Errorf("parent %s still sees leaver %s", pa.ID, k.ID)
			}
		}
	}
	if removed != leavers || len(after) != len(before) {
		t.Errorf("%d of %d children removed, want %d leavers (and nothing deleted)", removed, len(after), leavers)
	}
}

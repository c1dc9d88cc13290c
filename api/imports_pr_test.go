package api

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// The contacts of the PR files below: Bethan has parental responsibility,
// Glenys (a grandmother, a childminder) is an emergency contact without.
const (
	prMumMobile  = "+447400000101"
	prMumEmail   = "bethan@example.org"
	prGranMobile = "+447400000102"
	prGranEmail  = "glenys@example.org"
)

// prFiles are one pupil with two contacts, the second without PR, as
// SIMS, Arbor and Bromcom export them; prColumn is the second contact's
// PR column, where the dry run notes her.
var prFiles = []struct {
	name, file, prColumn string
}{
	{"SIMS", "UPN,Legal Surname,Legal Forename,Year,Reg Group," +
		"Contact 1 Forename,Contact 1 Surname,Contact 1 Relationship,Contact 1 Mobile,Contact 1 Email,Contact 1 Parental Responsibility,Contact 1 Priority," +
		"Contact 2 Forename,Contact 2 Surname,Contact 2 Relationship,Contact 2 Mobile,Contact 2 Email,Contact 2 Parental Responsibility,Contact 2 Priority\r\n" +
		mistest.UPNFor(901) + ",Jones,Ffion,Year 2,2A,Bethan,Jones,Mother,07400 000101,bethan@example.org,Y,1," +
		"Glenys,Jones,Grandmother,07400 000102,glenys@example.org,N,2\r\n",
		"Contact 2 Parental Responsibility"},
	{"Arbor", "UPN,Forename,Surname,Year Group,Registration Group," +
		"Contact 1 Name,Contact 1 Relationship,Contact 1 Mobile Phone,Contact 1 Email Address,Contact 1 Has Parental Responsibility," +
		"Contact 2 Name,Contact 2 Relationship,Contact 2 Mobile Phone,Contact 2 Email Address,Contact 2 Has Parental Responsibility\r\n" +
		mistest.UPNFor(901) + ",Ffion,Jones,Y2,2A,Mrs Bethan Jones,Mother,07400 000101,bethan@example.org,Yes," +
		"Mrs Glenys Jones,Childminder,07400 000102,glenys@example.org,No\r\n",
		"Contact 2 Has Parental Responsibility"},
	{"Bromcom", "UPN,Preferred Forename,Legal Surname,NC Year,Class," +
		"Contact1_Name,Contact1_Relationship,Contact1_Telephone,Contact1_Email,Contact1_PR," +
		"Contact2_Name,Contact2_Relationship,Contact2_Telephone,Contact2_Email,Contact2_PR\r\n" +
		mistest.UPNFor(901) + ",Ffion,Jones,2,2A,\"Jones, Bethan\",Mother,+447400000101,bethan@example.org,True," +
		"\"Jones, Glenys\",Neighbour,+447400000102,glenys@example.org,False\r\n",
		"Contact2_PR"},
}

// schoolParents lists the ids and contacts of every parent linked at the
// school.
func schoolParents(t *testing.T, s *importSchool) []content.ParentContact {
	t.Helper()
	var out []content.ParentContact
	err := s.h.store.EachParentOfSchool(context.Background(), s.sc.ID, func(pc content.ParentContact) error {
		out = append(out, pc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportLinksAndInvitesOnlyContactsWithPR: an emergency contact
// without parental responsibility is counted and noted by the dry run, and
// the commit neither links nor invites her; the invite goes to the parent
// with PR alone, through the real worker and provider clients. Uploading
// the file again changes nothing.
func TestImportLinksAndInvitesOnlyContactsWithPR(t *testing.T) {
	for _, f := range prFiles {
		t.Run(f.name, func(t *testing.T) {
			s := newImportSchool(t)
			h := s.h
			ctx := context.Background()
			w := newInviteWorker(t, h)

			resp, body := s.upload(t, []byte(f.file), "dry_run=true")
			wantStatus(t, resp, body, 200)
			plan := decode[importResultDTO](t, body)
			sum := plan.Summary
			if sum.ContactsWithoutPR != 1 || sum.ContactsWithoutPRByReason["no_parental_responsibility"] != 1 ||
				sum.Parents != 1 || sum.NewParents != 1 || sum.Invites != 1 || sum.InvitesBySMS != 1 || sum.InvitesByEmail != 1 {
				t.Errorf("dry run summary %+v: want 1 contact without PR, 1 parent, 1 invite", sum)
			}
			if len(plan.Warnings) != 0 {
				t.Errorf("warnings %+v for a file with PR columns", plan.Warnings)
			}
			note := slices.IndexFunc(plan.Problems, func(p importProblemDTO) bool { return p.Code == "no_parental_responsibility" })
			if note < 0 || plan.Problems[note].Row != 2 || plan.Problems[note].Column != f.prColumn ||
				plan.ProblemCounts["no_parental_responsibility"] != 1 {
				t.Errorf("no per-row note on row 2, %s: %+v", f.prColumn, plan.Problems)
			}
			if strings.Contains(string(body), "Glenys") || strings.Contains(string(body), "glenys") {
				t.Errorf("the dry run quotes the left-out contact: %s", body)
			}

			resp, body = s.upload(t, []byte(f.file), "dry_run=false")
			wantStatus(t, resp, body, 200)
			got := decode[importResultDTO](t, body)
			if got.Invited != 1 || got.Summary.ContactsWithoutPR != 1 {
				t.Fatalf("commit invited %d, %d without PR; want 1 and 1", got.Invited, got.Summary.ContactsWithoutPR)
			}
			parents := schoolParents(t, s)
			if len(parents) != 1 || parents[0].Phone != prMumMobile || parents[0].Email != prMumEmail {
				t.Fatalf("parents at the school %+v, want Bethan alone", parents)
			}
			kids, err := h.store.ChildrenOfSchool(ctx, s.sc.ID)
			if err != nil || len(kids) != 1 {
				t.Fatalf("%d children (%v)", len(kids), err)
			}
			if ls := kids[0].Parents; len(ls) != 1 || ls[0].ParentID != parents[0].ID {
				t.Errorf("the child links %+v, want Bethan (%s) alone", ls, parents[0].ID)
			}
			b, err := h.store.Broadcast(ctx, got.InviteBroadcastID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(b.Audience.ParentIDs, []string{parents[0].ID}) {
				t.Errorf("invite audience %v, want Bethan alone", b.Audience.ParentIDs)
			}
			for _, task := range h.queue.OfType(tasks.TypeExpandBroadcast) {
				w.run(t, task)
			}
			w.drain(t)
			if w.twilio.SentTo(prMumMobile) != 1 || w.email.SentTo(prMumEmail) != 1 {
				t.Errorf("Bethan got %d texts and %d emails, want 1 and 1", w.twilio.SentTo(prMumMobile), w.email.SentTo(prMumEmail))
			}
			if w.twilio.SentTo(prGranMobile) != 0 || w.email.SentTo(prGranEmail) != 0 || len(w.twilio.Accepted()) != 1 {
				t.Errorf("the contact without PR got %d texts and %d emails (%d texts in all)",
					w.twilio.SentTo(prGranMobile), w.email.SentTo(prGranEmail), len(w.twilio.Accepted()))
			}
			rows, err := h.store.ImportRows(ctx, got.ImportID, 0)
			if err != nil || len(rows) != 1 || !slices.Contains(rows[0].Problems, "no_parental_responsibility") {
				t.Errorf("row outcomes %+v (%v): want row 2 noted no_parental_responsibility", rows, err)
			}
			if batch, err := h.store.Import(ctx, got.ImportID); err != nil || batch.Counts["contacts_without_pr"] != 1 {
				t.Errorf("batch %+v (%v): want contacts_without_pr 1", batch, err)
			}

			// Again: the same batch, nobody invited, nothing linked.
			resp, body = s.upload(t, []byte(f.file), "dry_run=false")
			wantStatus(t, resp, body, 200)
			again := decode[importResultDTO](t, body)
			if again.ImportID != got.ImportID || again.Invited != 0 || again.Summary.UnchangedChildren != 1 ||
				again.Summary.UnchangedParents != 1 || again.Summary.NewParents != 0 || again.Summary.ContactsWithoutPR != 1 {
				t.Errorf("re-upload: %+v", again)
			}
			kids, _ = h.store.ChildrenOfSchool(ctx, s.sc.ID)
			if len(schoolParents(t, s)) != 1 || len(kids) != 1 || len(kids[0].Parents) != 1 {
				t.Errorf("re-upload left %d parents and links %+v", len(schoolParents(t, s)), kids[0].Parents)
			}
		})
	}
}

// noPRFile has contact columns and priorities but no PR column.
var noPRFile = []byte("UPN,Legal Surname,Legal Forename,Year,Reg Group," +
	"Contact 1 Name,Contact 1 Relationship,Contact 1 Mobile,Contact 1 Priority," +
	"Contact 2 Name,Contact 2 Relationship,Contact 2 Mobile,Contact 2 Priority\r\n" +
	mistest.UPNFor(902) + ",Jones,Ffion,Year 2,2A,Glenys Jones,Grandmother,07400 000102,2,Bethan Jones,Mother,07400 000101,1\r\n")

// TestImportWithoutPRColumn: the dry run warns that the file does not say
// who has PR and counts nobody as a parent; a commit is refused until the
// school chooses; each choice then links and invites whom it says.
func TestImportWithoutPRColumn(t *testing.T) {
	s := newImportSchool(t)
	ctx := context.Background()

	resp, body := s.upload(t, noPRFile, "dry_run=true")
	wantStatus(t, resp, body, 200)
	plan := decode[importResultDTO](t, body)
	if len(plan.Warnings) != 1 || plan.Warnings[0].Code != "pr_column_missing" || !strings.Contains(plan.Warnings[0].Message, "contact 1, contact 2") {
		t.Errorf("warnings %+v, want pr_column_missing naming contacts 1 and 2", plan.Warnings)
	}
	if plan.Summary.Invites != 0 || plan.Summary.Parents != 0 || plan.Summary.ContactsWithoutPRByReason["pr_column_missing"] != 2 {
		t.Errorf("dry run without a choice: %+v", plan.Summary)
	}

	resp, body = s.upload(t, noPRFile, "dry_run=false")
	wantStatus(t, resp, body, 422)
	if e := decode[errorBody](t, body); e.Error.Fields["pr_missing"] == "" {
		t.Errorf("422 without the pr_missing field: %s", body)
	}
	if kids, _ := s.h.store.ChildrenOfSchool(ctx, s.sc.ID); len(kids) != 0 || s.h.queue.Len() != 0 {
		t.Fatalf("a refused commit wrote %d children and queued %d tasks", len(kids), s.h.queue.Len())
	}

	resp, body = s.upload(t, noPRFile, "dry_run=true&pr_missing=priority_one_only")
	wantStatus(t, resp, body, 200)
	plan = decode[importResultDTO](t, body)
	if len(plan.Warnings) != 1 || !strings.Contains(plan.Warnings[0].Message, "priority_one_only") ||
		plan.Summary.Invites != 1 || plan.Summary.ContactsWithoutPRByReason["not_priority_one"] != 1 {
		t.Errorf("priority_one_only dry run: warnings %+v, summary %+v", plan.Warnings, plan.Summary)
	}

	resp, body = s.upload(t, noPRFile, "dry_run=false&pr_missing=priority_one_only")
	wantStatus(t, resp, body, 200)
	first := decode[importResultDTO](t, body)
	parents := schoolParents(t, s)
	if first.Invited != 1 || len(parents) != 1 || parents[0].Phone != prMumMobile {
		t.Fatalf("priority_one_only commit: invited %d, parents %+v; want Bethan (priority 1) alone", first.Invited, parents)
	}
	if batch, err := s.h.store.Import(ctx, first.ImportID); err != nil || batch.PRMissing != "priority_one_only" {
		t.Errorf("the batch does not record the choice: %+v (%v)", batch, err)
	}
	kids, _ := s.h.store.ChildrenOfSchool(ctx, s.sc.ID)
	if len(kids) != 1 || len(kids[0].Parents) != 1 || kids[0].Parents[0].ParentID != parents[0].ID {
		t.Errorf("links %+v, want Bethan alone", kids)
	}

	// Another choice is another batch: now the grandmother is invited too.
	resp, body = s.upload(t, noPRFile, "dry_run=false&pr_missing=treat_all_as_parents")
	wantStatus(t, resp, body, 200)
	all := decode[importResultDTO](t, body)
	if all.ImportID == first.ImportID || all.Invited != 1 || len(schoolParents(t, s)) != 2 {
		t.Errorf("treat_all_as_parents commit: batch %s (first %s), invited %d, %d parents",
			all.ImportID, first.ImportID, all.Invited, len(schoolParents(t, s)))
	}
}

// TestImportPROptions: relationships the school names have PR whatever
// the column says; bad options are refused by field.
func TestImportPROptions(t *testing.T) {
	s := newImportSchool(t)
	file := []byte(strings.ReplaceAll(prFiles[0].file, "Grandmother", "Special  Guardian"))
	for _, q := range []string{
		"pr_allowed_relationships=" + url.QueryEscape(`["special guardian"]`),
		"pr_allowed_relationships=" + url.QueryEscape("Foster Carer,SPECIAL GUARDIAN"),
	} {
		resp, body := s.upload(t, file, "dry_run=true&"+q)
		wantStatus(t, resp, body, 200)
		if got := decode[importResultDTO](t, body).Summary; got.Invites != 2 || got.ContactsWithoutPR != 0 {
			t.Errorf("%s: %d invites, %d without PR; want 2 and 0", q, got.Invites, got.ContactsWithoutPR)
		}
	}
	resp, body := s.upload(t, file, "dry_run=false&pr_allowed_relationships="+url.QueryEscape("Special Guardian, foster carer"))
	wantStatus(t, resp, body, 200)
	got := decode[importResultDTO](t, body)
	batch, err := s.h.store.Import(context.Background(), got.ImportID)
	if err != nil || got.Invited != 2 || !slices.Equal(batch.PRRelationships, []string{"foster carer", "special guardian"}) || batch.PRMissing != "" {
		t.Errorf("commit invited %d; batch records %q/%v (%v)", got.Invited, batch.PRMissing, batch.PRRelationships, err)
	}
	long := []byte("UPN,Surname,Forename,Year,Contact Name,Contact Mobile\r\n" + mistest.UPNFor(903) + ",Jones,Ffion,Y2,Bethan Jones,07400 000101\r\n")
	for _, c := range []struct {
		name  string
		body  []byte
		query string
		code  int
		field string
	}{
		{"unknown choice", noPRFile, "dry_run=true&pr_missing=everyone", 400, "pr_missing"},
		{"relationships not a list", noPRFile, "dry_run=true&pr_allowed_relationships=" + url.QueryEscape(`["carer"`), 400, "pr_allowed_relationships"},
		{"a blank relationship", noPRFile, "dry_run=true&pr_allowed_relationships=carer,,aunt", 400, "pr_allowed_relationships"},
		{"priority 1 of contacts without a priority", long, "dry_run=true&pr_missing=priority_one_only", 422, "pr_missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := s.upload(t, c.body, c.query)
			wantStatus(t, resp, body, c.code)
			if e := decode[errorBody](t, body); e.Error.Fields[c.field] == "" {
				t.Errorf("fields %v lack %s", e.Error.Fields, c.field)
			}
		})
	}
}

package api

import (
	"bytes"
	"context"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/content/misimport/mistest"
)

// TestImportSuppressedContacts: contacts on the suppression list are
// found however many contacts the file has (they are looked up in
// batches), and only their channel is dropped.
func TestImportSuppressedContacts(t *testing.T) {
	s := newImportSchool(t)
	ctx := context.Background()
	// Enough families for the contacts to span more than one batch.
	file, exp := generated(t, misimport.SuppressionLookupBatch*2/3, mistest.LayoutSIMS)
	imp, err := misimport.Parse(bytes.NewReader(file), misimport.Options{Region: "GB", DefaultLanguage: "en", Phones: mistest.UKPhones{}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(imp.Contacts()); n <= misimport.SuppressionLookupBatch {
		t.Fatalf("the file has %d contacts, want more than one batch of %d", n, misimport.SuppressionLookupBatch)
	}
	// The first parent's mobile and the last's email (in the last batch).
	var mobile, email string
	for _, p := range imp.Parents {
		if p.Mobile != "" && p.Email != "" {
			mobile = p.Mobile
			break
		}
	}
	for i := len(imp.Parents) - 1; i >= 0; i-- {
		if p := imp.Parents[i]; p.Mobile != "" && p.Email != "" && p.Mobile != mobile {
			email = p.Email
			break
		}
	}
	if mobile == "" || email == "" {
		t.Fatal("no parent with both a mobile and an email")
	}
	for _, c := range []struct{ channel, contact string }{{content.SuppressionSMS, mobile}, {content.SuppressionEmail, email}} {
		if err := s.h.store.Suppress(ctx, &content.Suppression{Key: content.SuppressionKey(s.h.deps.HashKey, c.channel, c.contact),
			Channel: c.channel, Reason: content.SuppressStop, At: s.h.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := s.upload(t, file, "dry_run=true")
	wantStatus(t, resp, body, 200)
	got := decode[importResultDTO](t, body)
	if got.Summary.SuppressedChannels != 2 || got.ProblemCounts[misimport.CodeSuppressed] != 2 || got.Summary.FullySuppressed != 0 {
		t.Errorf("suppressed channels %d, problems %d, fully suppressed %d; want 2, 2, 0",
			got.Summary.SuppressedChannels, got.ProblemCounts[misimport.CodeSuppressed], got.Summary.FullySuppressed)
	}
	if got.Summary.Invites != exp.Invites || got.Summary.InvitesBySMS != exp.InvitesBySMS-1 || got.Summary.InvitesByEmail != exp.InvitesByEmail-1 {
		t.Errorf("invites %d (sms %d, email %d), want %d (%d, %d)", got.Summary.Invites, got.Summary.InvitesBySMS,
			got.Summary.InvitesByEmail, exp.Invites, exp.InvitesBySMS-1, exp.InvitesByEmail-1)
	}
}

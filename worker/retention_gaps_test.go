package worker

import (
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// invitedParent adds a parent the school invited who has not joined,
// linked to a child of the school, whose invitation was last sent at sent.
func (w *retentionWorld) invitedParent(parentID, childID string, sent time.Time) {
	w.t.Helper()
	ctx := w.ctx
	must(w.t, w.store.CreateChild(ctx, &content.Child{ID: childID, SchoolID: "sch_r", FirstName: "Kid", LastName: "K", YearGroup: "Y2",
		Parents:    []content.ParentLink{{ParentID: parentID, State: content.LinkLinked, LinkedAt: w.start}},
		SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: w.start}))
	must(w.t, w.store.CreateParent(ctx, &content.Parent{ID: parentID, FirstName: "Ina", LastName: "Vited",
		Phone: "+447700900" + parentID[len(parentID)-3:], Language: "en", State: content.ParentInvited,
		Children: []content.ChildLink{{ChildID: childID, SchoolID: "sch_r", FirstName: "Kid", YearGroup: "Y2",
			State: content.LinkLinked, LinkedAt: w.start}}, CreatedAt: w.start}))
	w.invite(parentID, sent)
}

// invite records an invite or reminder send, as the pipeline does when it
// issues the parent's code.
func (w *retentionWorld) invite(parentID string, at time.Time) {
	w.t.Helper()
	must(w.t, w.store.PutInvitation(w.ctx, &content.Invitation{ID: content.InvitationID("sch_r", parentID), SchoolID: "sch_r",
		ParentID: parentID, CodeHash: "h_" + parentID + at.Format("0102"), IssuedAt: at, ExpiresAt: at.Add(content.InviteCodeTTL)}))
}

func (w *retentionWorld) sweepInvited() InvitedSweepResult {
	w.t.Helper()
	r, err := w.sweeps.SweepInvited(w.ctx)
	must(w.t, err)
	return r
}

func (w *retentionWorld) audits(action, parentID string) int64 {
	w.t.Helper()
	n, err := w.store.CountAudit(w.ctx, action, content.SubjectParent+":"+parentID)
	must(w.t, err)
	return n
}

// TestRetentionInvitedNeverJoined travels the invited clock on the real
// store: nothing at 11 months; the school told 30 days before 12 months,
// once however often the sweep runs; the parent erased at 12 months by the
// staged chain; a new invite restarts a parent's clock (and withdraws the
// notice); a parent who joined is never on it.
func TestRetentionInvitedNeverJoined(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	w.sweeps.Invited = w.store
	w.invitedParent("par_i01", "chd_i01", w.start)
	w.invitedParent("par_i02", "chd_i02", w.start)
	w.family("par_j03", "chd_j03") // joined (active), invited at the start too
	w.invite("par_j03", w.start)

	w.at(11, 0)
	if r := w.sweepInvited(); r.Scanned != 2 || r.Noticed+r.Erasing != 0 {
		t.Fatalf("+11 months: %+v, want both invited parents read and nothing done", r)
	}
	noticeAt := w.start.AddDate(0, 12, 0).Add(-content.InvitedNoticeBefore)
	w.clock.Set(noticeAt.Add(-time.Minute))
	if r := w.sweepInvited(); r.Noticed != 0 {
		t.Fatalf("a minute before the notice: %+v", r)
	}
	w.clock.Set(noticeAt)
	if r := w.sweepInvited(); r.Noticed != 2 {
		t.Fatalf("notice day: %+v, want both noticed", r)
	}
	if r := w.sweepInvited(); r.Noticed != 0 || r.Erasing != 0 { // the scheduler runs twice
		t.Fatalf("second run the same day: %+v", r)
	}
	if n := w.audits(AuditInviteNotice, "par_i01"); n != 1 {
		t.Fatalf("%d notices to the school about par_i01, want 1", n)
	}
	if p := w.parent("par_i01"); !p.InviteNoticeAt.Equal(noticeAt) || !p.InviteNoticeFor.Equal(w.start) {
		t.Fatalf("notice recorded at %v for %v", p.InviteNoticeAt, p.InviteNoticeFor)
	}

	// par_i02 is sent a reminder: the clock restarts from it.
	reminder := w.start.AddDate(0, 11, 20)
	w.clock.Set(reminder)
	w.invite("par_i02", reminder)
	if r := w.sweepInvited(); r.Cancelled != 1 || r.Noticed != 0 {
		t.Fatalf("after a new invite: %+v, want the notice withdrawn", r)
	}
	if p := w.parent("par_i02"); !p.InviteNoticeAt.IsZero() {
		t.Fatal("the withdrawn notice is still on the parent")
	}

	w.at(12, 0)
	if r := w.sweepInvited(); r.Erasing != 1 {
		t.Fatalf("+12 months: %+v, want par_i01 erasing", r)
	}
	if n := w.drain(); n == 0 {
		t.Fatal("no erasure stage ran")
	}
	if p := w.parent("par_i01"); p.State != content.ParentErased || p.Phone != "" || p.FirstName != "" {
		t.Fatalf("par_i01 after +12 months: %+v", p)
	}
	rec, err := w.store.Erasure(w.ctx, "parent:par_i01")
	must(t, err)
	if !rec.Complete() || rec.Reason != content.ErasureInviteExpired || len(rec.SchoolIDs) != 1 || rec.SchoolIDs[0] != "sch_r" {
		t.Fatalf("certificate %+v", rec)
	}
	if r := w.sweepInvited(); r.Erasing != 0 || r.Scanned != 1 {
		t.Fatalf("run again: %+v, want only par_i02 read and nothing done", r)
	}
	if p := w.parent("par_i02"); p.State != content.ParentInvited || p.FirstName == "" {
		t.Fatalf("par_i02 (reminded at +11m20d) touched at +12 months: %+v", p)
	}

	// par_i02's own clock: notice 30 days before reminder + 12 months.
	// (30 December + 12 months − 30 days is 30 November: exactly +11
	// months, November being 30 days long.)
	w.clock.Set(reminder.AddDate(0, 12, 0).Add(-content.InvitedNoticeBefore - time.Minute))
	if r := w.sweepInvited(); r.Noticed != 0 {
		t.Fatalf("a minute before the reminder's notice: %+v", r)
	}
	w.clock.Set(reminder.AddDate(0, 12, 0).Add(-content.InvitedNoticeBefore))
	if r := w.sweepInvited(); r.Noticed != 1 {
		t.Fatalf("reminder notice day: %+v", r)
	}
	w.clock.Set(reminder.AddDate(0, 12, 0))
	if r := w.sweepInvited(); r.Erasing != 1 {
		t.Fatalf("reminder +12 months: %+v", r)
	}
	w.drain()
	if p := w.parent("par_i02"); p.State != content.ParentErased {
		t.Fatalf("par_i02 not erased: %s", p.State)
	}
	if n := w.audits(AuditInviteNotice, "par_i02"); n != 2 {
		t.Fatalf("%d notices about par_i02, want 2 (one per invite)", n)
	}

	// The parent who joined was never on this clock.
	if p := w.parent("par_j03"); p.State != content.ParentActive || !p.InviteNoticeAt.IsZero() {
		t.Fatalf("joined parent touched: %+v", p)
	}
	if n := w.audits(AuditInviteNotice, "par_j03"); n != 0 {
		t.Fatal("the school was told about a parent who joined")
	}
}

// export makes a ready export (archive stored) at the world's clock.
func (w *retentionWorld) export(id, parentID, schoolID string) {
	w.t.Helper()
	now := w.clock.Now()
	_, _, err := w.store.StartExport(w.ctx, &content.Export{ID: id, ParentID: parentID, SchoolID: schoolID, CreatedAt: now})
	must(w.t, err)
	must(w.t, w.store.FinishExport(w.ctx, id, []byte("PK archive of "+id), now))
}

func (w *retentionWorld) archiveKept(id string) bool {
	w.t.Helper()
	_, err := w.store.ExportArchive(w.ctx, id)
	if err != nil && !content.IsCode(err, content.CodeNotFound) {
		w.t.Fatal(err)
	}
	return err == nil
}

// TestExportArchivesExpire: every archive (a parent's, a school's) is
// deleted once its 24-hour link has expired, by the daily sweep, which
// finds nothing more the second time. The record stays, reading expired.
func TestExportArchivesExpire(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	w.sweeps.Exports = w.store
	w.family("par_001", "chd_001")
	w.export("exp_p", "par_001", "")
	w.export("exp_s", "", "sch_r")
	w.clock.Set(w.start.Add(content.ExportLinkTTL - time.Minute))
	if n, err := w.sweeps.SweepExports(w.ctx); err != nil || n != 0 {
		t.Fatalf("before expiry: deleted %d (%v)", n, err)
	}
	if !w.archiveKept("exp_p") || !w.archiveKept("exp_s") {
		t.Fatal("an archive went before its link expired")
	}
	w.clock.Set(w.start.Add(content.ExportLinkTTL))
	if n, err := w.sweeps.SweepExports(w.ctx); err != nil || n != 2 {
		t.Fatalf("at expiry: deleted %d (%v), want 2", n, err)
	}
	if n, err := w.sweeps.SweepExports(w.ctx); err != nil || n != 0 {
		t.Fatalf("second run: deleted %d (%v), want 0", n, err)
	}
	for _, id := range []string{"exp_p", "exp_s"} {
		if w.archiveKept(id) {
			t.Fatalf("%s archive survives its link", id)
		}
		e, err := w.store.Export(w.ctx, id)
		must(t, err)
		if e.ExpiresAt.After(w.clock.Now()) {
			t.Fatalf("%s record does not read expired", id)
		}
	}
}

// TestErasureDeletesEveryArchiveHoldingTheParent: erasing a parent deletes
// their own export, the archive of a co-parent who shares a child, and
// the archives of the parent's school, at once (links not yet expired);
// an unrelated parent's and another school's archives stay.
func TestErasureDeletesEveryArchiveHoldingTheParent(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	ctx := w.ctx
	w.family("par_001", "chd_001")
	w.family("par_009", "chd_009")
	// par_002 shares chd_001 with par_001.
	must(t, w.store.CreateParent(ctx, &content.Parent{ID: "par_002", FirstName: "Co", LastName: "Parent", Language: "en",
		State: content.ParentActive, Children: []content.ChildLink{{ChildID: "chd_001", SchoolID: "sch_r", FirstName: "Kid",
			YearGroup: "Y2", State: content.LinkLinked, LinkedAt: w.start}}, LastActiveAt: w.start, CreatedAt: w.start}))
	k, err := w.store.Child(ctx, "chd_001")
	must(t, err)
	k.Parents = append(k.Parents, content.ParentLink{ParentID: "par_002", State: content.LinkLinked, LinkedAt: w.start})
	must(t, w.store.SetChildParentLinks(ctx, k.ID, k.Parents))
	must(t, w.store.CreateSchool(ctx, &content.School{ID: "sch_o", Name: "Other", Country: "GB", TimeZone: "Europe/London",
		Language: "en", Subscription: content.Subscription{State: content.SubscriptionActive}, CreatedAt: w.start}))

	w.export("exp_own", "par_001", "")
	w.export("exp_co", "par_002", "")
	w.export("exp_school", "", "sch_r")
	w.export("exp_other", "par_009", "")
	w.export("exp_otherschool", "", "sch_o")
	w.clock.Set(w.start.Add(time.Hour))
	must(t, StartErasure(ctx, w.store, w.queue, content.ErasureSubject{Kind: content.SubjectParent, ID: "par_001"},
		content.ErasureRequested, "par_001", []string{"sch_r"}, w.clock.Now()))
	w.drain()

	if _, err := w.store.Export(ctx, "exp_own"); !content.IsCode(err, content.CodeNotFound) {
		t.Fatalf("the parent's own export record survives (%v)", err)
	}
	for _, id := range []string{"exp_own", "exp_co", "exp_school"} {
		if w.archiveKept(id) {
			t.Errorf("archive %s holds the erased parent and survives", id)
		}
	}
	for _, id := range []string{"exp_co", "exp_school"} {
		e, err := w.store.Export(ctx, id)
		must(t, err)
		if e.ExpiresAt.After(w.clock.Now()) {
			t.Errorf("%s link still live after its archive was erased", id)
		}
	}
	for _, id := range []string{"exp_other", "exp_otherschool"} {
		if !w.archiveKept(id) {
			t.Errorf("unrelated archive %s was deleted", id)
		}
	}
	rec, err := w.store.Erasure(ctx, "parent:par_001")
	must(t, err)
	if rec.Counts["gridfs:exports"] != 3 {
		t.Fatalf("certificate counts %d archives, want 3", rec.Counts["gridfs:exports"])
	}
}

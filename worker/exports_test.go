package worker

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// exportFamily adds a parent and a child with canary names and contacts,
// a submission with a comment and one photo.
func (w *retentionWorld) exportFamily(parentID, childID, canary string, photo []byte) {
	w.t.Helper()
	ctx, now := w.ctx, w.start
	must(w.t, w.store.CreateChild(ctx, &content.Child{ID: childID, SchoolID: "sch_r", FirstName: canary + "Kid", LastName: canary + "Kidlast",
		YearGroup: "Y2", Parents: []content.ParentLink{{ParentID: parentID, State: content.LinkLinked, LinkedAt: now}},
		SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}))
	must(w.t, w.store.CreateParent(ctx, &content.Parent{ID: parentID, FirstName: canary + "First", LastName: canary + "Last",
		Phone: "+4477009" + parentID[len(parentID)-5:], Email: strings.ToLower(canary) + "@example.test", Language: "en",
		State: content.ParentActive, PasswordHash: "$argon2id$secret-hash-" + canary,
		Children: []content.ChildLink{{ChildID: childID, SchoolID: "sch_r", FirstName: canary + "Kid",
			YearGroup: "Y2", State: content.LinkLinked, LinkedAt: now}}, LastActiveAt: now, CreatedAt: now}))
	done, rating := true, 5
	comment := canary + " comment"
	sub := &content.Submission{ID: content.SubmissionID("asg_x", childID, parentID), SchoolID: "sch_r", AssignmentID: "asg_x",
		ChildID: childID, ParentID: parentID}
	_, err := w.store.PutSubmission(ctx, sub, content.SubmissionUpdate{Done: &done, Rating: &rating, Comment: &comment}, now)
	must(w.t, err)
	must(w.t, w.store.PutPhoto(ctx, sub, &content.Photo{ID: "pho_" + parentID, SubmissionID: sub.ID, SchoolID: "sch_r",
		ChildID: childID, ParentID: parentID, ContentType: "image/jpeg", SourceFormat: "jpeg", Width: 4, Height: 3, CreatedAt: now},
		photo, []byte("\xFF\xD8\xFFthumb-"+canary)))
}

// coParent adds a parent linked to an existing child (or, with state
// removed, once linked and since unlinked), with their own submission and
// photo of that child.
func (w *retentionWorld) coParent(parentID, childID, canary string, state content.LinkState) {
	w.t.Helper()
	ctx, now := w.ctx, w.start
	k, err := w.store.Child(ctx, childID)
	must(w.t, err)
	link := content.ParentLink{ParentID: parentID, State: state, LinkedAt: now}
	cl := content.ChildLink{ChildID: childID, SchoolID: k.SchoolID, FirstName: k.FirstName, YearGroup: k.YearGroup, State: state, LinkedAt: now}
	if state == content.LinkRemoved {
		link.RemovedAt, cl.RemovedAt = now.Add(time.Hour), now.Add(time.Hour)
	}
	k.Parents = append(k.Parents, link)
	must(w.t, w.store.UpdateChild(ctx, k))
	must(w.t, w.store.CreateParent(ctx, &content.Parent{ID: parentID, FirstName: canary + "First", LastName: canary + "Last",
		Email: strings.ToLower(canary) + "@example.test", Language: "en", State: content.ParentActive,
		Children: []content.ChildLink{cl}, LastActiveAt: now, CreatedAt: now}))
	done, rating := true, 3
	comment := canary + " comment"
	sub := &content.Submission{ID: content.SubmissionID("asg_x", childID, parentID), SchoolID: k.SchoolID, AssignmentID: "asg_x",
		ChildID: childID, ParentID: parentID}
	_, err = w.store.PutSubmission(ctx, sub, content.SubmissionUpdate{Done: &done, Rating: &rating, Comment: &comment}, now)
	must(w.t, err)
	must(w.t, w.store.PutPhoto(ctx, sub, &content.Photo{ID: "pho_" + parentID, SubmissionID: sub.ID, SchoolID: k.SchoolID,
		ChildID: childID, ParentID: parentID, ContentType: "image/jpeg", SourceFormat: "jpeg", Width: 4, Height: 3, CreatedAt: now},
		[]byte("\xFF\xD8\xFFphoto-of-"+canary), []byte("\xFF\xD8\xFFthumb-"+canary)))
}

// secondSchoolChild gives a parent a second child, at another school.
func (w *retentionWorld) secondSchoolChild(parentID, childID, canary string) {
	w.t.Helper()
	ctx, now := w.ctx, w.start
	must(w.t, w.store.CreateSchool(ctx, &content.School{ID: "sch_far", Name: "Faraway Academy", Country: "GB", TimeZone: "Europe/London",
		Language: "en", Subscription: content.Subscription{State: content.SubscriptionActive}, CreatedAt: now}))
	must(w.t, w.store.CreateChild(ctx, &content.Child{ID: childID, SchoolID: "sch_far", FirstName: canary + "Kid", LastName: canary + "Kidlast",
		UPN: "FARUPN" + canary, YearGroup: "Y5", PupilPremium: true,
		Parents:    []content.ParentLink{{ParentID: parentID, State: content.LinkLinked, LinkedAt: now}},
		SchoolLink: content.SchoolLink{State: content.LinkLinked}, CreatedAt: now}))
	p, err := w.store.Parent(ctx, parentID)
	must(w.t, err)
	p.Children = append(p.Children, content.ChildLink{ChildID: childID, SchoolID: "sch_far", FirstName: canary + "Kid", YearGroup: "Y5",
		State: content.LinkLinked, LinkedAt: now})
	must(w.t, w.store.UpdateParent(ctx, p))
}

// exportFiles builds export id with h and returns the archive's files.
func (w *retentionWorld) exportFiles(h *Exports, e *content.Export) map[string][]byte {
	w.t.Helper()
	task, err := tasks.NewBuildExport(e.ID)
	must(w.t, err)
	must(w.t, h.ProcessTask(w.ctx, asynq.NewTask(task.Type(), task.Payload())))
	archive, err := w.store.ExportArchive(w.ctx, e.ID)
	must(w.t, err)
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	must(w.t, err)
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		must(w.t, err)
		b, err := io.ReadAll(rc)
		must(w.t, err)
		rc.Close()
		files[f.Name] = b
	}
	return files
}

// F2: export completeness and isolation. Parent A has a co-parent (C) of
// their child, a parent (D) who was unlinked from that child, and a second
// child at another school; parent B is another family.
func TestParentExportCompletenessAndIsolation(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	photoA := []byte("\xFF\xD8\xFFphoto-bytes-of-ALPHACANARY")
	photoB := []byte("\xFF\xD8\xFFphoto-bytes-of-BRAVOCANARY")
	w.exportFamily("par_00001", "chd_00001", "Alphacanary", photoA)
	w.exportFamily("par_00002", "chd_00002", "Bravocanary", photoB)
	w.coParent("par_00003", "chd_00001", "Charliecanary", content.LinkLinked)
	w.coParent("par_00004", "chd_00001", "Deltacanary", content.LinkRemoved)
	w.secondSchoolChild("par_00001", "chd_00005", "Echocanary")
	h := &Exports{Store: w.store, Roster: w.store, Ledger: w.store, Tasks: w.queue, Clock: w.clock,
		Log: w.sweeps.Log, AppURL: "https://hometime.test"}

	e, created, err := w.store.StartExport(w.ctx, &content.Export{ID: "exp_a", ParentID: "par_00001", CreatedAt: w.clock.Now()})
	must(t, err)
	if !created {
		t.Fatal("first export not created")
	}
	again, created, err := w.store.StartExport(w.ctx, &content.Export{ID: "exp_a2", ParentID: "par_00001", CreatedAt: w.clock.Now()})
	must(t, err)
	if created || again.ID != e.ID {
		t.Fatalf("a second request made %s (created %v), want the queued %s", again.ID, created, e.ID)
	}
	task, err := tasks.NewBuildExport(e.ID)
	must(t, err)
	for i := 0; i < 2; i++ { // a rerun changes nothing
		must(t, h.ProcessTask(w.ctx, asynq.NewTask(task.Type(), task.Payload())))
	}
	got, err := w.store.Export(w.ctx, e.ID)
	must(t, err)
	if got.State != content.ExportReady || !got.ExpiresAt.Equal(w.clock.Now().Add(content.ExportLinkTTL)) {
		t.Fatalf("export after the task: %+v", got)
	}
	archive, err := w.store.ExportArchive(w.ctx, e.ID)
	must(t, err)

	// The whole zip (compressed) and every file (uncompressed) must carry
	// none of B's canaries.
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	must(t, err)
	var all bytes.Buffer
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		b, err := io.ReadAll(rc)
		must(t, err)
		rc.Close()
		files[f.Name] = b
		all.Write(b)
	}
	js := string(files["export.json"])
	for _, want := range []string{"AlphacanaryFirst", "AlphacanaryLast", "alphacanary@example.test", "+447700900001",
		"AlphacanaryKid", "AlphacanaryKidlast", "Alphacanary comment", "chd_00001", "pho_par_00001",
		"EchocanaryKid", "chd_00005", "Faraway Academy"} {
		if !strings.Contains(js, want) {
			t.Errorf("export.json lacks %q", want)
		}
	}
	if !bytes.Equal(files["photos/pho_par_00001.jpg"], photoA) {
		t.Errorf("A's photo bytes missing or wrong; files: %v", len(files))
	}
	for _, secret := range []string{"secret-hash", "passwordHash", "rt_", "ses_"} {
		if strings.Contains(js, secret) {
			t.Errorf("export.json carries %q", secret)
		}
	}
	for _, canary := range []string{"Bravocanary", "bravocanary", "BRAVOCANARY", "par_00002", "chd_00002", "+447700900002",
		// the co-parent's and the unlinked parent's words, photos and records
		"Charliecanary", "charliecanary", "par_00003", "pho_par_00003",
		"Deltacanary", "deltacanary", "par_00004", "pho_par_00004",
		// what parents never see of a child
		"FARUPNEchocanary", "upn", "pupil_premium", "pupilPremium"} {
		if bytes.Contains(all.Bytes(), []byte(canary)) || bytes.Contains(archive, []byte(canary)) {
			t.Errorf("A's export carries %q", canary)
		}
	}

	// The co-parent's export holds their own words and photo, not A's; the
	// unlinked parent's holds nothing of the child (nor their own words
	// about it, which name the child and carry the school's replies).
	for _, tc := range []struct {
		parentID   string
		want, deny []string
	}{
		{"par_00003", []string{"CharliecanaryFirst", "Charliecanary comment", "pho_par_00003", "AlphacanaryKid", "chd_00001"},
			[]string{"Alphacanary comment", "pho_par_00001", "AlphacanaryFirst", "par_00001", "Deltacanary", "par_00004",
				"EchocanaryKid", "chd_00005"}},
		{"par_00004", []string{"DeltacanaryFirst", "deltacanary@example.test"},
			[]string{"chd_00001", "AlphacanaryKid", "Alphacanary", "Charliecanary", "Deltacanary comment", "pho_par_00004",
				"Riverside Primary"}},
	} {
		other, _, err := w.store.StartExport(w.ctx, &content.Export{ID: "exp_" + tc.parentID, ParentID: tc.parentID, CreatedAt: w.clock.Now()})
		must(t, err)
		files := w.exportFiles(h, other)
		var everything bytes.Buffer
		for name, f := range files {
			everything.WriteString(name)
			everything.Write(f)
		}
		for _, want := range tc.want {
			if !strings.Contains(string(files["export.json"]), want) {
				t.Errorf("%s's export lacks %q", tc.parentID, want)
			}
		}
		for _, deny := range tc.deny {
			if strings.Contains(everything.String(), deny) {
				t.Errorf("%s's export carries %q", tc.parentID, deny)
			}
		}
	}
	if files := w.exportFiles(h, &content.Export{ID: "exp_par_00003"}); len(files["photos/pho_par_00003.jpg"]) == 0 {
		t.Error("the co-parent's export lacks their photo")
	}

	// The school's export holds its parents with their links here only:
	// nothing of A's child at the other school.
	se, _, err := w.store.StartExport(w.ctx, &content.Export{ID: "exp_school", SchoolID: "sch_r", CreatedAt: w.clock.Now()})
	must(t, err)
	sfiles := w.exportFiles(h, se)
	sjs := string(sfiles["export.json"])
	for _, want := range []string{"AlphacanaryFirst", "Charliecanary comment", "chd_00001"} {
		if !strings.Contains(sjs, want) {
			t.Errorf("the school's export lacks %q", want)
		}
	}
	for _, deny := range []string{"chd_00005", "EchocanaryKid", "FARUPNEchocanary", "sch_far", "Faraway"} {
		if strings.Contains(sjs, deny) {
			t.Errorf("the school's export carries the other school's %q", deny)
		}
	}

	// The parent is told once, through the pipeline, with IDs only queued.
	b, err := w.store.Broadcast(w.ctx, "brd_export_"+e.ID)
	must(t, err)
	if b.Template != "export_ready" || b.Category != "account" || len(b.Audience.ParentIDs) != 1 ||
		b.Audience.ParentIDs[0] != "par_00001" || !strings.HasPrefix(b.Params["link"], "https://hometime.test/") {
		t.Fatalf("broadcast: %+v", b)
	}
	for _, qt := range w.queue.Tasks() {
		if bytes.Contains(qt.Payload(), []byte("canary")) || bytes.Contains(qt.Payload(), []byte("@")) {
			t.Fatalf("task payload carries personal data: %s", qt.Payload())
		}
	}

	// The archive is a copy of everything about A: erasing A takes it too.
	for _, er := range w.store.Erasers(content.SubjectParent) {
		if er.Area() == "gridfs:exports" {
			if _, err := er.Erase(w.ctx, content.ErasureSubject{Kind: content.SubjectParent, ID: "par_00001"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.store.ExportArchive(w.ctx, e.ID); err == nil {
		t.Fatal("parent A's export archive survived their erasure")
	}
}

func TestSchoolExportHoldsTheSchoolWithoutSecrets(t *testing.T) {
	t.Parallel()
	w := newRetentionWorld(t)
	photoA := []byte("\xFF\xD8\xFFphoto-bytes-of-ALPHACANARY")
	w.exportFamily("par_00001", "chd_00001", "Alphacanary", photoA)
	w.exportFamily("par_00002", "chd_00002", "Bravocanary", []byte("\xFF\xD8\xFFphoto-bytes-of-BRAVOCANARY"))
	h := &Exports{Store: w.store, Roster: w.store, Ledger: w.store, Tasks: w.queue, Clock: w.clock,
		Log: w.sweeps.Log, AppURL: "https://hometime.test"}
	e, _, err := w.store.StartExport(w.ctx, &content.Export{ID: "exp_s", SchoolID: "sch_r", CreatedAt: w.clock.Now()})
	must(t, err)
	task, err := tasks.NewBuildExport(e.ID)
	must(t, err)
	must(t, h.ProcessTask(w.ctx, task))
	archive, err := w.store.ExportArchive(w.ctx, e.ID)
	must(t, err)
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	must(t, err)
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		b, err := io.ReadAll(rc)
		must(t, err)
		rc.Close()
		files[f.Name] = b
	}
	js := string(files["export.json"])
	for _, want := range []string{"Riverside Primary", "AlphacanaryFirst", "alphacanary@example.test", "BravocanaryKid", "Bravocanary comment"} {
		if !strings.Contains(js, want) {
			t.Errorf("school export.json lacks %q", want)
		}
	}
	if strings.Contains(js, "secret-hash") || strings.Contains(js, "passwordHash") {
		t.Error("school export carries password hashes")
	}
	if !bytes.Equal(files["photos/pho_par_00001.jpg"], photoA) {
		t.Error("school export lacks A's photo")
	}
	if _, err := w.store.Broadcast(w.ctx, "brd_export_"+e.ID); !content.IsCode(err, content.CodeNotFound) {
		t.Errorf("a school export messaged parents: %v", err)
	}
}

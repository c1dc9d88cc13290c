package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// readyExportOfA stores a ready export of parent A's with a small archive
// (the worker's build is tested in worker/exports_test.go).
func (w *world) readyExportOfA(t testing.TB) *content.Export {
	t.Helper()
	ctx := context.Background()
	e, _, err := w.h.store.StartExport(ctx, &content.Export{ID: content.NewID("exp"), ParentID: "par_a", CreatedAt: w.h.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.h.store.FinishExport(ctx, e.ID, []byte("PK\x05\x06"+string(make([]byte, 18))), w.h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e, err = w.h.store.Export(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func exportCell(suffix string) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, _ string) cell {
		return cell{path: "/v1/me/exports/" + w.readyExportOfA(t).ID + suffix}
	}
}

// readySchoolExport stores a ready export of school sch_1.
func (w *world) readySchoolExport(t testing.TB) *content.Export {
	t.Helper()
	ctx := context.Background()
	e, _, err := w.h.store.StartExport(ctx, &content.Export{ID: content.NewID("exp"), SchoolID: "sch_1", CreatedAt: w.h.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.h.store.FinishExport(ctx, e.ID, []byte("PK\x05\x06"+string(make([]byte, 18))), w.h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

func schoolExportCell(suffix string) func(*testing.T, *world, string) cell {
	return func(t *testing.T, w *world, _ string) cell {
		return cell{path: "/v1/schools/sch_1/exports/" + w.readySchoolExport(t).ID + suffix}
	}
}

func TestSchoolExportIsForItsAdminsOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	resp, body := h.do(http.MethodPost, "/v1/schools/sch_1/export", nil, w.tokens[actAdmin])
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("request: %d %s", resp.StatusCode, body)
	}
	e := w.readySchoolExport(t)
	resp, body = h.do(http.MethodGet, "/v1/schools/sch_1/exports/"+e.ID+"/download", nil, w.tokens[actAdmin])
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", resp.StatusCode, body)
	}
	// A parent's export is not the school's, and the school's is not a parent's.
	pe := w.readyExportOfA(t)
	if resp, _ := h.do(http.MethodGet, "/v1/schools/sch_1/exports/"+pe.ID, nil, w.tokens[actAdmin]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("admin read a parent's export: %d", resp.StatusCode)
	}
	if resp, _ := h.do(http.MethodGet, "/v1/me/exports/"+e.ID, nil, w.tokens[actParentA]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("parent read the school's export: %d", resp.StatusCode)
	}
	h.clock.Advance(content.ExportLinkTTL)
	tok := h.login(w.emailOf(actAdmin), fixturePassword).AccessToken
	if resp, _ := h.do(http.MethodGet, "/v1/schools/sch_1/exports/"+e.ID+"/download", nil, tok); resp.StatusCode != http.StatusGone {
		t.Fatalf("download after 24 h: %d", resp.StatusCode)
	}
}

func TestParentExportRequestAndDownload(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h

	resp, body := h.do(http.MethodPost, "/v1/me/export", nil, w.tokens[actParentA])
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("request export: %d %s", resp.StatusCode, body)
	}
	var first exportDTO
	if err := json.Unmarshal(body, &first); err != nil {
		t.Fatal(err)
	}
	if first.State != content.ExportQueued || first.DownloadURL != "" {
		t.Fatalf("new export: %+v", first)
	}
	// Asking again while it is queued returns the same export.
	_, body = h.do(http.MethodPost, "/v1/me/export", nil, w.tokens[actParentA])
	var second exportDTO
	if err := json.Unmarshal(body, &second); err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID {
		t.Fatalf("second request made %s, want %s", second.ID, first.ID)
	}
	queued := 0
	for _, qt := range h.queue.OfType(tasks.TypeBuildExport) {
		{
			queued++
			p, err := tasks.ParseBuildExport(qt.Payload())
			if err != nil || p.ExportID != first.ID {
				t.Fatalf("task payload %s", qt.Payload())
			}
		}
	}
	if queued == 0 {
		t.Fatal("no build task queued")
	}
	// Not ready: the download is a conflict.
	if resp, body := h.do(http.MethodGet, "/v1/me/exports/"+first.ID+"/download", nil, w.tokens[actParentA]); resp.StatusCode != http.StatusConflict {
		t.Fatalf("download before ready: %d %s", resp.StatusCode, body)
	}

	e := w.readyExportOfA(t)
	resp, body = h.do(http.MethodGet, "/v1/me/exports/"+e.ID, nil, w.tokens[actParentA])
	var got exportDTO
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("get export: %d %s", resp.StatusCode, body)
	}
	if got.State != content.ExportReady || got.DownloadURL != "/v1/me/exports/"+e.ID+"/download" {
		t.Fatalf("ready export: %+v", got)
	}
	resp, body = h.do(http.MethodGet, got.DownloadURL, nil, w.tokens[actParentA])
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Disposition") == "" || len(body) != 22 {
		t.Fatalf("download: %d %v %d bytes", resp.StatusCode, resp.Header, len(body))
	}
	// Other parents, staff: not found / forbidden, never the archive.
	for _, actor := range []string{actParentB, actParentOther} {
		for _, p := range []string{"/v1/me/exports/" + e.ID, got.DownloadURL} {
			if resp, _ := h.do(http.MethodGet, p, nil, w.tokens[actor]); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s GET %s: %d, want 404", actor, p, resp.StatusCode)
			}
		}
	}
	// 24 hours after it was ready the link is gone.
	h.clock.Advance(content.ExportLinkTTL - time.Second)
	tokA := h.login(w.emailOf(actParentA), fixturePassword).AccessToken // the morning's token has expired
	if resp, _ := h.do(http.MethodGet, got.DownloadURL, nil, tokA); resp.StatusCode != 200 {
		t.Fatalf("download just before expiry: %d", resp.StatusCode)
	}
	h.clock.Advance(time.Second)
	if resp, body := h.do(http.MethodGet, got.DownloadURL, nil, tokA); resp.StatusCode != http.StatusGone {
		t.Fatalf("download after 24 h: %d %s", resp.StatusCode, body)
	}
	_, body = h.do(http.MethodGet, "/v1/me/exports/"+e.ID, nil, tokA)
	got = exportDTO{}
	if err := json.Unmarshal(body, &got); err != nil || got.DownloadURL != "" {
		t.Fatalf("expired export still offers a link: %s", body)
	}
}

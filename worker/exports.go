package worker

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// ExportCreatedBy marks the broadcasts the export builder makes.
const ExportCreatedBy = "system:export"

// Exports builds a parent's export archive: export.json with the parent's
// view of their data (content.ParentExport: their record, what the app
// shows them of the children they are linked to, their own submissions,
// threads and photos), and their photos as files; or a school's
// (content.SchoolExport). The archive is stored, the record marked ready and the parent
// told through the messaging pipeline. A rerun finds the record ready and
// only makes sure the message is on its way (the broadcast id is derived
// from the export's).
type Exports struct {
	Store  content.Exports
	Roster content.Roster
	Ledger content.Ledger
	Tasks  tasks.Enqueuer
	Clock  content.Clock
	Log    *slog.Logger
	AppURL string
}

func (h *Exports) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseBuildExport(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	e, err := h.Store.Export(ctx, p.ExportID)
	if content.IsCode(err, content.CodeNotFound) {
		return fmt.Errorf("%w: no export record", asynq.SkipRetry)
	} else if err != nil {
		return err
	}
	if e.State == content.ExportQueued {
		archive, err := h.build(ctx, e)
		if err != nil {
			return fmt.Errorf("build export %s: %w", e.ID, err)
		}
		if err := h.Store.FinishExport(ctx, e.ID, archive, h.Clock.Now()); err != nil {
			return fmt.Errorf("finish export %s: %w", e.ID, err)
		}
	} else if e.State != content.ExportReady {
		return nil
	}
	return h.notify(ctx, e)
}

// build writes the zip of a parent's (or a school's) export.
func (h *Exports) build(ctx context.Context, e *content.Export) ([]byte, error) {
	var data any
	var photos []content.ExportPhoto
	now := h.Clock.Now()
	if e.SchoolID != "" {
		view, files, err := h.Store.SchoolExportData(ctx, e.SchoolID)
		if err != nil {
			return nil, fmt.Errorf("gather school export: %w", err)
		}
		data, photos = toSchoolExportJSON(view, now), files
	} else {
		view, files, err := h.Store.ParentExportData(ctx, e.ParentID)
		if err != nil {
			return nil, fmt.Errorf("gather parent export: %w", err)
		}
		data, photos = toParentExportJSON(view, now), files
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.Create("export.json")
	if err != nil {
		return nil, fmt.Errorf("zip export.json: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(data); err != nil {
		return nil, fmt.Errorf("encode export.json: %w", err)
	}
	for _, ph := range photos {
		f, err := zw.Create("photos/" + ph.ID + photoExt(ph.ContentType))
		if err != nil {
			return nil, fmt.Errorf("zip photo: %w", err)
		}
		if _, err := f.Write(ph.Data); err != nil {
			return nil, fmt.Errorf("zip photo: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("close zip: %w", err)
	}
	return buf.Bytes(), nil
}

func photoExt(ct string) string {
	switch ct {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	}
	return ""
}

// notify creates the export_ready broadcast for the parent (once: its id
// is the export's) and queues its expansion.
func (h *Exports) notify(ctx context.Context, e *content.Export) error {
	if e.ParentID == "" {
		return nil // a school's export: the admin reads its state in the dashboard
	}
	p, err := h.Roster.Parent(ctx, e.ParentID)
	if err != nil {
		return fmt.Errorf("read parent of export %s: %w", e.ID, err)
	}
	schoolID := ""
	for _, l := range p.Children {
		if l.SchoolID != "" {
			schoolID = l.SchoolID
			break
		}
	}
	if schoolID == "" {
		return nil // no school to send through; the app shows the export's state
	}
	id := "brd_export_" + e.ID
	b := &content.Broadcast{ID: id, SchoolID: schoolID, CreatedBy: ExportCreatedBy,
		Template: string(notify.TemplateExportReady), Category: "account",
		Params:   map[string]string{"link": strings.TrimRight(h.AppURL, "/") + "/exports/" + e.ID},
		Audience: content.Audience{ParentIDs: []string{e.ParentID}}, State: content.BroadcastExpanding, CreatedAt: h.Clock.Now()}
	if _, _, err := content.Publish(ctx, h.Ledger, tasks.Expander(h.Tasks), b, nil); err != nil {
		return fmt.Errorf("publish export broadcast: %w", err)
	}
	return nil
}

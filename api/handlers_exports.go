package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Data export: a parent asks for a copy of everything held about them and
// their children; a worker builds the archive; the parent downloads it
// with their own bearer token for ExportLinkTTL after it is ready. Only
// the owner sees an export: anyone else gets 404. Everything is audited.

type exportDTO struct {
	ID          string     `json:"id"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ReadyAt     *time.Time `json:"ready_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	DownloadURL string     `json:"download_url,omitempty"`
}

func (s *server) toExportDTO(e *content.Export) exportDTO {
	base := "/v1/me/exports/"
	if e.SchoolID != "" {
		base = "/v1/schools/" + e.SchoolID + "/exports/"
	}
	d := exportDTO{ID: e.ID, State: e.State, CreatedAt: e.CreatedAt.UTC(), ReadyAt: timePtr(e.ReadyAt),
		ExpiresAt: timePtr(e.ExpiresAt)}
	if e.State == content.ExportReady && s.Clock.Now().Before(e.ExpiresAt) {
		d.DownloadURL = base + e.ID + "/download"
	}
	return d
}

// requestExport queues an export of the caller's data; a parent with one
// already queued gets that one back.
func (s *server) requestExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		return s.startExport(c, &content.Export{ID: content.NewID("exp"), ParentID: p.ID(), CreatedAt: s.Clock.Now()},
			func() {
				s.audit(c, content.KindParent, p.ID(), "account.export_requested", "", content.SubjectParent+":"+p.ID())
			})
	}
}

// myExport finds the caller's export by id: another parent's is not found.
func (s *server) myExport(c *fiber.Ctx) (*content.Export, error) {
	id := principal(c).ID()
	return s.findExport(c, func(e *content.Export) bool { return e.ParentID == id })
}

func (s *server) getExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, err := s.myExport(c)
		if err != nil {
			return err
		}
		return c.JSON(s.toExportDTO(e))
	}
}

// requestSchoolExport queues an export of the whole school (school admins);
// one already queued is returned.
func (s *server) requestSchoolExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := s.schoolFor(c, adminOnly)
		if err != nil {
			return err
		}
		p := principal(c)
		return s.startExport(c, &content.Export{ID: content.NewID("exp"), SchoolID: sc.ID, CreatedAt: s.Clock.Now()},
			func() {
				s.audit(c, p.Kind, p.ID(), "school.export_requested", sc.ID, content.SubjectSchool+":"+sc.ID)
			})
	}
}

// schoolExport finds an export of the admin's school by id: another
// school's (or a parent's) is not found.
func (s *server) schoolExport(c *fiber.Ctx) (*content.Export, error) {
	sc, err := s.schoolFor(c, adminOnly)
	if err != nil {
		return nil, err
	}
	return s.findExport(c, func(e *content.Export) bool { return e.SchoolID != "" && e.SchoolID == sc.ID })
}

func (s *server) getSchoolExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, err := s.schoolExport(c)
		if err != nil {
			return err
		}
		return c.JSON(s.toExportDTO(e))
	}
}

func (s *server) downloadSchoolExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, err := s.schoolExport(c)
		if err != nil {
			return err
		}
		p := principal(c)
		return s.sendExport(c, e, func() {
			s.audit(c, p.Kind, p.ID(), "school.export_downloaded", e.SchoolID, content.SubjectSchool+":"+e.SchoolID)
		})
	}
}

// downloadExport streams the archive while it is ready and unexpired;
// afterwards it is gone (410).
func (s *server) downloadExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, err := s.myExport(c)
		if err != nil {
			return err
		}
		p := principal(c)
		return s.sendExport(c, e, func() {
			s.audit(c, content.KindParent, p.ID(), "account.export_downloaded", "", content.SubjectParent+":"+p.ID())
		})
	}
}

// startExport records the export (or finds the one already queued for its
// owner), queues its build, and audits a new one; it answers 202.
func (s *server) startExport(c *fiber.Ctx, want *content.Export, audit func()) error {
	ctx := c.UserContext()
	e, created, err := s.Exports.StartExport(ctx, want)
	if err != nil {
		return err
	}
	t, err := tasks.NewBuildExport(e.ID)
	if err != nil {
		return err
	}
	if err := tasks.Enqueue(ctx, s.Tasks, t); err != nil {
		return content.Wrap(content.CodeUnavailable, err, "the export could not be queued; ask again")
	}
	if created {
		audit()
	}
	return c.Status(fiber.StatusAccepted).JSON(s.toExportDTO(e))
}

// findExport reads the export named in the path; one owns does not accept
// is not found, so ids reveal nothing.
func (s *server) findExport(c *fiber.Ctx, owns func(*content.Export) bool) (*content.Export, error) {
	e, err := s.Exports.Export(c.UserContext(), c.Params("exportId"))
	if err != nil {
		return nil, err
	}
	if !owns(e) {
		return nil, content.Errorf(content.CodeNotFound, "export not found")
	}
	return e, nil
}

// sendExport streams a ready, unexpired archive; audited once sent.
func (s *server) sendExport(c *fiber.Ctx, e *content.Export, audit func()) error {
	if e.State != content.ExportReady {
		return content.Errorf(content.CodeConflict, "the export is not ready yet")
	}
	if !s.Clock.Now().Before(e.ExpiresAt) {
		return content.Errorf(content.CodeGone, "the export has expired; ask for a new one")
	}
	b, err := s.Exports.ExportArchive(c.UserContext(), e.ID)
	if err != nil {
		return err
	}
	audit()
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="hometime-export.zip"`)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}

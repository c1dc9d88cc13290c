package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the whole API surface. Every route here is in
// mobile-contract/openapi.yaml and in the authorization matrix test.
func (s *server) routes(app *fiber.App) {
	app.Use(recover.New())
	app.Use(s.requestID, s.observe, securityHeaders)

	app.Get("/healthz", s.healthz())
	app.Get("/readyz", s.readyz())
	if s.Metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{})))
	}

	v1 := app.Group("/v1")
	v1.Post("/auth/login", s.login())
	v1.Post("/auth/refresh", s.refresh())
	v1.Post("/auth/password-reset", s.requestPasswordReset())
	v1.Post("/auth/password-reset/confirm", s.confirmPasswordReset())
	v1.Post("/invites/redeem", s.redeemInvite())

	auth := v1.Group("", s.authenticate)
	auth.Post("/auth/logout", s.logout())
	auth.Get("/me", s.me())
	auth.Get("/children/:childId", parentOnly, s.myChild())

	staff := auth.Group("", staffOnly)
	staff.Get("/schools", s.mySchools())
	staff.Get("/trusts/:trustId/schools", s.trustSchools())
	staff.Post("/trusts/:trustId/schools", s.createSchool())
	staff.Get("/schools/:schoolId", s.getSchool())
	staff.Patch("/schools/:schoolId", s.patchSchool())
	staff.Get("/schools/:schoolId/staff", s.listStaff())
	staff.Post("/schools/:schoolId/staff", s.createStaff())
	staff.Put("/schools/:schoolId/staff/:staffId/roles", s.setStaffRoles())
	staff.Get("/schools/:schoolId/classes", s.listClasses())
	staff.Post("/schools/:schoolId/classes", s.createClass())
	staff.Get("/schools/:schoolId/classes/:classId", s.getClass())
	staff.Patch("/schools/:schoolId/classes/:classId", s.patchClass())
	staff.Delete("/schools/:schoolId/classes/:classId", s.deleteClass())
	staff.Get("/schools/:schoolId/classes/:classId/children", s.classChildren())
	staff.Get("/schools/:schoolId/children", s.listChildren())
	staff.Post("/schools/:schoolId/children", s.createChild())
	staff.Get("/schools/:schoolId/children/:childId", s.getChild())
	staff.Patch("/schools/:schoolId/children/:childId", s.patchChild())
	staff.Delete("/schools/:schoolId/children/:childId", s.removeChild())
	staff.Post("/schools/:schoolId/children/:childId/parents", s.addParent())
	staff.Delete("/schools/:schoolId/children/:childId/parents/:parentId", s.unlinkParent())
	staff.Get("/schools/:schoolId/parents/:parentId", s.getParent())
	staff.Post("/schools/:schoolId/parents/:parentId/invite-code", s.issueInviteCode())
}

func (s *server) healthz() fiber.Handler {
	return func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) }
}

// readyz pings the store and Redis; 503 names nothing internal.
func (s *server) readyz() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.Ready != nil {
			if err := s.Ready(c.UserContext()); err != nil {
				s.Log.Warn("not ready", "err", err)
				return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable"})
			}
		}
		return c.JSON(fiber.Map{"status": "ready"})
	}
}

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
	// Bodies: a compressed one is refused (415) on every route before any
	// of it is read; others are read under the route's limit (body.go).
	app.Use(closeUnreadBody, refuseEncodedBodies, s.readBody)

	app.Get("/healthz", s.healthz())
	app.Get("/readyz", s.readyz())
	app.Get("/metrics", s.metrics(adaptor.HTTPHandler(promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))))

	// Provider webhooks: public, authenticated by the provider's signature.
	app.Post("/webhooks/twilio/inbound", s.twilioInbound())
	app.Post(TwilioStatusPath, s.twilioStatus())
	app.Post(SendGridEventsPath, s.sendGridEvents())

	v1 := app.Group("/v1")
	v1.Post("/auth/login", s.login())
	v1.Post("/auth/refresh", s.refresh())
	v1.Post("/auth/password-reset", s.requestPasswordReset())
	v1.Post("/auth/password-reset/confirm", s.confirmPasswordReset())
	v1.Post("/invites/redeem", s.redeemInvite())
	// The staff web app's sign-in: the refresh token in a cookie
	// (handlers_webauth.go).
	v1.Post("/auth/web/login", s.webLogin())
	v1.Post("/auth/web/refresh", s.webRefresh())
	v1.Post("/auth/web/logout", s.webLogout())

	// Authentication is attached per route, not as group middleware, so an
	// unknown path is a 404 for everyone rather than a 401 or 403.
	signedIn := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{s.authenticate, h} }
	parent := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{s.authenticate, parentOnly, h} }
	staff := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{s.authenticate, staffOnly, h} }

	v1.Post("/auth/logout", signedIn(s.logout())...)
	v1.Get("/me", signedIn(s.me())...)
	v1.Get("/children/:childId", parent(s.myChild())...)
	v1.Get("/children/:childId/feed", s.feedAuthenticate, s.childFeed())
	v1.Post("/children/:childId/feed/:itemId/seen", parent(s.markFeedItemSeen())...)
	v1.Post("/me/devices", signedIn(s.registerDevice())...)
	v1.Delete("/me/devices/:deviceId", signedIn(s.removeDevice())...)
	v1.Get("/me/staff-settings", staff(s.getStaffSettings())...)
	v1.Put("/me/staff-settings", staff(s.putStaffSettings())...)
	v1.Get("/me/preferences", parent(s.getPreferences())...)
	v1.Put("/me/preferences", parent(s.putPreferences())...)
	v1.Post("/me/notifications/read", parent(s.markNotificationsRead())...)
	v1.Get("/me/inbox", parent(s.myInbox())...)
	v1.Get("/me/inbox/:itemId", parent(s.openInboxItem())...)
	v1.Post("/me/invites/claim", parent(s.claimInvite())...)
	v1.Get("/activities", signedIn(s.listActivities())...)
	v1.Get("/activities/:activityId", signedIn(s.getActivity())...)

	v1.Get("/schools", staff(s.mySchools())...)
	v1.Get("/trusts/:trustId/schools", staff(s.trustSchools())...)
	v1.Post("/trusts/:trustId/schools", staff(s.createSchool())...)
	v1.Get("/schools/:schoolId", staff(s.getSchool())...)
	v1.Patch("/schools/:schoolId", staff(s.patchSchool())...)
	v1.Get("/schools/:schoolId/staff", staff(s.listStaff())...)
	v1.Post("/schools/:schoolId/staff", staff(s.createStaff())...)
	v1.Put("/schools/:schoolId/staff/:staffId/roles", staff(s.setStaffRoles())...)
	v1.Get("/me/staff-invitations", staff(s.myStaffInvitations())...)
	v1.Post("/me/staff-invitations/:invitationId/accept", staff(s.acceptStaffInvitation())...)
	v1.Get("/schools/:schoolId/classes", staff(s.listClasses())...)
	v1.Post("/schools/:schoolId/classes", staff(s.createClass())...)
	v1.Get("/schools/:schoolId/classes/:classId", staff(s.getClass())...)
	v1.Patch("/schools/:schoolId/classes/:classId", staff(s.patchClass())...)
	v1.Delete("/schools/:schoolId/classes/:classId", staff(s.deleteClass())...)
	v1.Get("/schools/:schoolId/classes/:classId/children", staff(s.classChildren())...)
	v1.Get("/schools/:schoolId/classes/:classId/assignments", staff(s.listAssignments())...)
	v1.Post("/schools/:schoolId/classes/:classId/assignments", staff(s.createAssignment())...)
	v1.Patch("/schools/:schoolId/classes/:classId/assignments/:assignmentId", staff(s.patchAssignment())...)
	v1.Delete("/schools/:schoolId/classes/:classId/assignments/:assignmentId", staff(s.withdrawAssignment())...)
	v1.Post("/schools/:schoolId/activities", staff(s.createActivity())...)
	v1.Patch("/schools/:schoolId/activities/:activityId", staff(s.patchActivity())...)
	v1.Delete("/schools/:schoolId/activities/:activityId", staff(s.deleteActivity())...)
	v1.Get("/schools/:schoolId/children", staff(s.listChildren())...)
	v1.Post("/schools/:schoolId/children", staff(s.createChild())...)
	v1.Get("/schools/:schoolId/children/:childId", staff(s.getChild())...)
	v1.Patch("/schools/:schoolId/children/:childId", staff(s.patchChild())...)
	v1.Delete("/schools/:schoolId/children/:childId", staff(s.removeChild())...)
	v1.Post("/schools/:schoolId/children/:childId/parents", staff(s.addParent())...)
	v1.Delete("/schools/:schoolId/children/:childId/parents/:parentId", staff(s.unlinkParent())...)
	v1.Get("/schools/:schoolId/parents/:parentId", staff(s.getParent())...)
	v1.Post("/schools/:schoolId/parents/:parentId/invite-code", staff(s.issueInviteCode())...)
	v1.Post("/schools/:schoolId/broadcasts", staff(s.createBroadcast())...)
	v1.Get("/schools/:schoolId/broadcasts/:broadcastId", staff(s.getBroadcast())...)
	v1.Get("/schools/:schoolId/broadcasts/:broadcastId/recipients", staff(s.broadcastRecipients())...)
	v1.Post("/schools/:schoolId/announcements", staff(s.createAnnouncement())...)
	v1.Get("/schools/:schoolId/announcements", staff(s.listAnnouncements())...)
	v1.Post("/schools/:schoolId/announcements/preview", staff(s.previewAnnouncement())...)
	v1.Get("/schools/:schoolId/announcements/:announcementId", staff(s.getAnnouncement())...)
	v1.Post("/schools/:schoolId/announcements/:announcementId/cancel", staff(s.cancelAnnouncement())...)
	v1.Get("/schools/:schoolId/messages", staff(s.schoolMessages())...)
	v1.Post(attachmentUploadRoute, staff(s.uploadAttachment())...)
	v1.Get("/schools/:schoolId/announcements/:announcementId/stats", staff(s.announcementStats())...)
	v1.Get("/schools/:schoolId/sms-budget", staff(s.schoolSMSBudget())...)
	v1.Post(importRoute, staff(s.importRoster())...)
	v1.Post("/schools/:schoolId/invites/resend", staff(s.resendInvites())...)
	v1.Get("/schools/:schoolId/funnel", staff(s.schoolFunnel())...)
	v1.Get("/schools/:schoolId/funnel/families", staff(s.funnelFamilies())...)
	v1.Get("/schools/:schoolId/funnel/families.csv", staff(s.funnelFamiliesCSV())...)

	// Issue 5: submissions, photos, replies, awards, engagement.
	v1.Get("/children/:childId/assignments/:assignmentId/submission", parent(s.mySubmission())...)
	v1.Post("/children/:childId/assignments/:assignmentId/submission", parent(s.submitAssignment())...)
	v1.Post(photoUploadRoute, parent(s.uploadPhoto())...)
	v1.Post("/children/:childId/assignments/:assignmentId/submission/replies", parent(s.parentReply())...)
	v1.Get("/photos/:photoId", signedIn(s.photoURL())...)
	v1.Put("/photos/:photoId/consent", parent(s.setPhotoConsent())...)
	v1.Delete("/photos/:photoId", parent(s.deletePhoto())...)
	v1.Delete("/children/:childId/assignments/:assignmentId/submission/comment", parent(s.deleteMyComment())...)
	v1.Delete("/children/:childId/assignments/:assignmentId/submission/replies/:replyId", parent(s.deleteMyReply())...)
	v1.Post("/schools/:schoolId/moderation/hide", staff(s.hideContent())...)
	v1.Get("/media/:token", s.media())
	// An announcement's text, linked from its SMS: public, by signed token.
	app.Get("/a/:token", s.announcementPage())
	v1.Get("/schools/:schoolId/assignments/:assignmentId/submissions", staff(s.assignmentSubmissions())...)
	v1.Get("/schools/:schoolId/assignments/:assignmentId/submissions/:submissionId/replies", staff(s.submissionReplies())...)
	v1.Post("/schools/:schoolId/assignments/:assignmentId/submissions/:submissionId/replies", staff(s.replyToSubmission())...)
	v1.Post("/schools/:schoolId/children/:childId/awards", staff(s.giveAward())...)
	v1.Get("/schools/:schoolId/classes/:classId/engagement", staff(s.classEngagement())...)
	v1.Get("/schools/:schoolId/engagement", staff(s.schoolEngagement())...)
	v1.Get("/schools/:schoolId/engagement.csv", staff(s.schoolEngagementCSV())...)

	// Issue 6: data rights and retention.
	v1.Get("/me/retention", parent(s.myRetention())...)
	v1.Post("/me/close", parent(s.closeMyAccount())...)
	v1.Post("/me/erase", parent(s.eraseMe())...)
	v1.Post("/me/export", parent(s.requestExport())...)
	v1.Get("/me/exports/:exportId", parent(s.getExport())...)
	v1.Get("/me/exports/:exportId/download", parent(s.downloadExport())...)
	v1.Post("/schools/:schoolId/export", staff(s.requestSchoolExport())...)
	v1.Get("/schools/:schoolId/exports/:exportId", staff(s.getSchoolExport())...)
	v1.Get("/schools/:schoolId/exports/:exportId/download", staff(s.downloadSchoolExport())...)
	v1.Post("/schools/:schoolId/subscription/end", staff(s.endSubscription())...)
	v1.Post("/schools/:schoolId/subscription/reactivate", staff(s.reactivateSubscription())...)

	// Conversations between families and staff.
	v1.Post("/me/conversations", parent(s.startParentConversation())...)
	v1.Get("/me/conversations", parent(s.myConversations())...)
	v1.Get("/me/conversations/:conversationId", parent(s.getMyConversation())...)
	v1.Post("/me/conversations/:conversationId/messages", parent(s.postMyMessage())...)
	v1.Delete("/me/conversations/:conversationId/messages/:messageId", parent(s.deleteMyMessage())...)
	v1.Get("/schools/:schoolId/conversations", staff(s.schoolConversations())...)
	v1.Post("/schools/:schoolId/conversations", staff(s.startStaffConversation())...)
	v1.Get("/schools/:schoolId/conversations/:conversationId", staff(s.getSchoolConversation())...)
	v1.Post("/schools/:schoolId/conversations/:conversationId/messages", staff(s.postStaffMessage())...)

	// The staff web app (api/web): "/" and its versioned static files, for
	// GET and HEAD outside the API's paths. Mounted last, as the fallback:
	// it is static files, not API operations, so it is not in the contract;
	// any other path, /v1 ones included, still gets the JSON 404.
	// The operators' console (ops.go): its own sign-in, cookie and
	// policy, outside the app's contract.
	app.Use(OpsPath, s.ops)
	app.Use(s.Web.Handler)
}

func (s *server) healthz() fiber.Handler {
	return func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) }
}

// readyz pings the store and Redis; 503 names nothing internal.
func (s *server) readyz() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.Ready(c.UserContext()); err != nil {
			s.Log.Warn("not ready", "err", err)
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable"})
		}
		return c.JSON(fiber.Map{"status": "ready"})
	}
}

// Package api is Hometime's HTTP API: routes, handlers, authentication,
// JSON shapes and the one error mapper. It reaches the store through content
// interfaces and the worker only through queued tasks.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/api/web"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/misimport"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// Deps is everything the API needs; cmd/api builds it. Every interface,
// pointer, func and slice field is required (New names any that is
// missing) unless tagged optional.
type Deps struct {
	// Settings are the values configuration sets; none is a dependency.
	Settings `deps:"group"`

	Roster    content.Roster
	Identity  content.Identity
	Audit     content.Audit
	Tasks     tasks.Enqueuer
	Throttle  *Throttle
	Passwords *Passwords
	Tokens    *Tokens
	HashKey   []byte        // keys hashes of codes, tokens and throttle keys
	Clock     content.Clock `deps:"optional"` // default: the system clock
	Log       *slog.Logger
	Metrics   *Metrics
	// Ready pings every dependency (store, Redis) for /readyz.
	Ready func(ctx context.Context) error
	// Suppressions is the do-not-contact list (Twilio STOP/START).
	Suppressions content.Suppressions
	// Twilio checks and reads Twilio's webhooks; nil (no auth token
	// configured) makes the Twilio webhook routes answer 503.
	Twilio TwilioWebhooks `deps:"optional"`
	// SendGridEvents checks and reads SendGrid Event Webhook batches
	// (notify/sendgrid's EventWebhook); nil (no verification key
	// configured) makes that route answer 503.
	SendGridEvents notify.DeliveryWebhook `deps:"optional"`
	// Ledger takes delivery webhooks to the message they are about.
	Ledger content.Ledger
	// WebhookEvents deduplicates provider events that repeat.
	WebhookEvents content.WebhookEvents
	// Idempotency remembers Idempotency-Key answers (broadcasts).
	Idempotency content.IdempotencyKeys
	// Budgets reads schools' monthly SMS spend and refusals.
	Budgets content.Budgets
	// Imports stores roster import batches and applies their writes.
	Imports content.Imports
	// Phones reads phone numbers in imports (content/phone in the wiring;
	// mistest.UKPhones, the generator's numbering plan, in tests).
	Phones misimport.Phones
	// Catalog renders the invite template for an import's SMS estimate.
	Catalog *notify.Catalog

	// Library is the built-in activity library, loaded once at start.
	Library ActivityLibrary
	// Activities stores schools' own activities.
	Activities content.Activities
	// Assignments stores assignments; their release is a queued task.
	Assignments content.Assignments
	// ParentFeed reads children's feeds and marks items seen.
	ParentFeed content.Feed
	// Devices keeps parents' push tokens and notification preferences.
	Devices content.Devices
	// StaffSettings keeps staff members' push devices, working hours and
	// digest choice.
	StaffSettings content.StaffSettings
	// Moderation deletes what parents withdraw and hides what staff take
	// down.
	Moderation content.Moderation

	// Submissions stores submissions, reply threads, photos and awards.
	Submissions content.Submissions
	// AssignmentTargets finds the assignment a submission is for.
	AssignmentTargets AssignmentTargets
	// Feed takes completions, replies and awards into the parent feed.
	Feed FeedProgress
	// Engagement counts sign-ins, views, completions, ratings, photos and
	// comments, and reads the dashboards.
	Engagement content.Engagement
	// MediaKey signs the short-lived photo URLs (/v1/media/{token}).
	MediaKey []byte

	// Retention closes parents' accounts and records sign-ins against the
	// inactivity clock; Erasures records erasure requests.
	Retention content.Retention
	Erasures  content.Erasures
	// Exports records parents' export requests and keeps the archives.
	Exports content.Exports

	// Conversations stores threads between families and staff.
	Conversations content.Conversations
	// Inbox keeps parents' inboxes (items written by announcements and
	// conversations) and who read what.
	Inbox content.Inbox
	// Attachments keeps announcement attachments and their bytes.
	Attachments content.AttachmentFiles
	// Announcements reads an announcement's texts, attachments, audience
	// and broadcast for the inbox and the staff counts; without it an
	// opened item answers its title only and the counts are 404.
	Announcements AnnouncementReader `deps:"optional"`
	// AnnouncementStore stores staff-written announcements; their send is
	// a queued task.
	AnnouncementStore content.Announcements

	// Web is the staff web app served at "/" (default web.Default(), the
	// embedded files).
	Web *web.App `deps:"optional"`
	// Ops is the queue monitor (asynqmon) served at OpsQueuesPath to
	// platform operators only (ops.go); without it /ops answers 404.
	Ops http.Handler `deps:"optional"`
}

// Settings are the API's configured values: limits, addresses and prices.
// The zero value of each means its default where one is given.
type Settings struct {
	// Limits are the sign-in, redemption and reset throttles (default
	// DefaultLimits).
	Limits Limits
	// MetricsToken, when set, makes /metrics answer only requests carrying
	// "Authorization: Bearer <token>" (401 otherwise).
	MetricsToken string
	// MetricsHidden makes /metrics answer 404 unless MetricsToken is set:
	// in production the metrics are on a private listener, not the public
	// app.
	MetricsHidden bool
	// BodyLimit caps request bodies in bytes (default 1 MiB).
	BodyLimit int
	// ProxyHeader names the header in which trusted proxies pass on the
	// client's address (e.g. "X-Forwarded-For"); empty uses the socket
	// address. It is believed only from TrustedProxies (see clientip.go).
	ProxyHeader string
	// TrustedProxies are the proxies whose ProxyHeader is believed.
	TrustedProxies []netip.Prefix `deps:"optional"`
	// AppURL is the base of deep links printed on letters and sent in
	// invites (default https://hometime.app).
	AppURL string
	// PublicURL is this API's base URL as Twilio calls it (e.g.
	// https://api.hometime.app): signatures cover the full URL.
	PublicURL string
	// SMSPrice is what one SMS segment costs, for an import's SMS estimate.
	SMSPrice notify.SegmentPrice
	// PhotoSlots bounds how many photos are processed at once (default 2:
	// each 12 MP photo needs 50–70 MB while it is).
	PhotoSlots int
}

// server holds the dependencies the handlers close over.
type server struct {
	Deps
	photoSlots photoSlots
	// uploads counts each account's large uploads in flight (body.go).
	uploads uploadSlots
	// opsConsole is the queue monitor when Deps.Ops is set (ops.go).
	opsConsole *opsConsole
	// zones remembers schools' time zones for feed pages (school_zones.go).
	zones schoolZones
}

// New builds the Fiber app with every route, or says which dependencies
// d lacks.
func New(d Deps) (*fiber.App, error) {
	if err := content.RequireDeps("api", d); err != nil {
		return nil, err
	}
	if d.BodyLimit <= 0 {
		d.BodyLimit = 1 << 20
	}
	if d.Limits == (Limits{}) {
		d.Limits = DefaultLimits
	}
	if d.Limits.RedeemFailureAlert.Max <= 0 || d.Limits.RedeemFailureAlert.Window <= 0 {
		d.Limits.RedeemFailureAlert = DefaultLimits.RedeemFailureAlert
	}
	if d.AppURL == "" {
		d.AppURL = "https://hometime.app"
	}
	if d.Clock == nil {
		d.Clock = content.SystemClock{}
	}
	if d.Web == nil {
		d.Web = web.Default()
	}
	s := &server{Deps: d, photoSlots: newPhotoSlots(d.PhotoSlots)}
	if d.Ops != nil {
		oc, err := newOpsConsole(d.Ops)
		if err != nil {
			return nil, err
		}
		s.opsConsole = oc
	}
	d.Metrics.watchRedeemFailures(s.redeemFailureAlert)
	app := fiber.New(fiber.Config{
		AppName:               "hometime",
		BodyLimit:             d.BodyLimit,
		Immutable:             true, // values read from the context may outlive the handler
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		JSONEncoder:           jsonMarshal,
		JSONDecoder:           jsonUnmarshal,
		// Bodies are read by the app, under each route's limit and after
		// the upload routes have checked the caller (body.go); a multipart
		// form is never parsed by the server ahead of the handler.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		// No ProxyHeader: Fiber would believe it from anyone; the client's
		// address is worked out in clientip.go.
	})
	s.routes(app)
	return app, nil
}

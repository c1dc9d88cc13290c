package stack

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/content/activities"
	"github.com/hometime-edu/hometime/content/phone"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/notify/twilio"
)

// APIApp builds the HTTP app on this stack.
func (st *Stack) APIApp(log *slog.Logger, clock content.Clock) (*fiber.App, error) {
	pw, err := api.NewPasswords(api.DefaultArgon2, runtime.NumCPU()*2)
	if err != nil {
		return nil, err
	}
	if clock == nil {
		clock = content.SystemClock{}
	}
	tokens, err := api.NewTokens(st.Keys.JWT, clock)
	if err != nil {
		return nil, err
	}
	limits := api.DefaultLimits
	limits.LoginPerIP.Max = int64(st.Config.LoginFailuresPerIP)
	limits.AttemptsPerIP.Max = int64(st.Config.AuthCallsPerIP)
	limits.RedeemFailureAlert = api.Limit{Max: int64(st.Config.RedeemFailureAlert), Window: time.Minute}
	inspector := asynq.NewInspectorFromRedisClient(st.Redis)
	// No auth token (nil) makes the Twilio webhooks answer 503.
	var twilioHooks api.TwilioWebhooks
	if st.Config.TwilioAuthToken != "" {
		twilioHooks = twilio.NewWebhooks(st.Config.TwilioAuthToken)
	}
	// Likewise no SendGrid verification key makes its webhook answer 503.
	var sendGridEvents notify.DeliveryWebhook
	if st.Config.SendGridWebhookKey != "" {
		w, err := sendgrid.NewEventWebhook(st.Config.SendGridWebhookKey)
		if err != nil {
			return nil, fmt.Errorf("HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY: %w", err)
		}
		sendGridEvents = w
	}
	// The built-in activity library: parsed and validated once, at start.
	library, err := activities.Load(activities.Options{MediaBaseURL: st.Config.ActivityMediaBaseURL})
	if err != nil {
		return nil, err
	}
	// The queue monitor for platform operators (api/ops.go), on a Redis
	// connection of its own.
	mon := asynqmon.New(asynqmon.Options{RootPath: api.OpsQueuesPath, RedisConnOpt: st.RedisOpt})
	st.closers = append(st.closers, mon.Close)
	return api.New(api.Deps{
		Ops: mon,
		Settings: api.Settings{
			Limits: limits,
			// In production the public app serves /metrics only to the
			// token's bearer; HOMETIME_METRICS_ADDR is the private way.
			MetricsHidden:  st.Config.Production(),
			MetricsToken:   st.Config.MetricsToken,
			ProxyHeader:    st.Config.ProxyHeader,
			AppURL:         st.Config.AppURL,
			TrustedProxies: st.Config.TrustedProxies,
			PublicURL:      st.Config.PublicURL,
			SMSPrice:       notify.SegmentPrice(st.Config.SMSPricePence),
		},
		Roster:    st.Store,
		Identity:  st.Store,
		Audit:     st.Store,
		Tasks:     st.Queue,
		Throttle:  api.NewThrottle(st.Redis),
		Passwords: pw,
		Tokens:    tokens,
		HashKey:   st.Keys.Hash,
		Clock:     clock,
		Log:       log.With("component", "api"),
		Metrics:   api.NewMetricsOn(st.Registry, queueSizes(inspector)),
		Ready:     st.Ready,

		Suppressions: st.Store,
		Twilio:       twilioHooks,

		SendGridEvents:    sendGridEvents,
		Ledger:            st.Store,
		Budgets:           st.Store,
		WebhookEvents:     st.Store,
		Idempotency:       st.Store,
		Imports:           st.Store,
		Phones:            phone.New(nil),
		Catalog:           st.Catalog,
		Submissions:       st.Store,
		AssignmentTargets: api.AssignmentTargetsOf(st.Store),
		Feed:              st.Store,
		Engagement:        st.Store,
		MediaKey:          st.Keys.Media,
		Library:           library,
		Activities:        st.Store,
		Assignments:       st.Store,
		ParentFeed:        st.Store,
		Devices:           st.Store,
		StaffSettings:     st.Store,
		Moderation:        st.Store,
		Retention:         st.Store,
		Erasures:          st.Store,
		Exports:           st.Store,
		Inbox:             st.Store,
		Attachments:       st.Store,
		AnnouncementStore: st.Store,
		Announcements:     api.AnnouncementViewsOf(st.Store, st.Store),
	})
}

func queueSizes(in *asynq.Inspector) api.QueueSizes {
	return func(ctx context.Context) (map[string]api.QueueSize, error) {
		names, err := in.Queues()
		if err != nil {
			return nil, err
		}
		out := map[string]api.QueueSize{}
		deadline, _ := ctx.Deadline()
		for _, q := range names {
			if !deadline.IsZero() && time.Now().After(deadline) {
				break
			}
			info, err := in.GetQueueInfo(q)
			if err != nil {
				continue
			}
			out[q] = api.QueueSize{Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled,
				Retry: info.Retry, Archived: info.Archived}
		}
		return out, nil
	}
}

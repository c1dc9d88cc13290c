package content

import (
	"context"
	"time"
)

// WebhookEvents remembers which provider events have been applied, so an
// event delivered again — SendGrid repeats events, sometimes dozens of
// times — changes nothing the second time. Keys name the provider and its
// own event id ("sendgrid:<sg_event_id>", "twilio:inbound:<MessageSid>" for
// a STOP or START text); they are IDs, never contacts. Twilio's signature
// carries no time, so a signed STOP or START can be replayed at any age:
// a sweep of old keys must keep the "twilio:inbound:" ones.
type WebhookEvents interface {
	// FirstDelivery records key and reports whether this call recorded it:
	// true exactly once per key, however many deliveries race.
	FirstDelivery(ctx context.Context, key string, at time.Time) (bool, error)
	// ForgetDelivery undoes FirstDelivery when applying the event failed,
	// so the provider's retry applies it instead of being taken for a
	// repeat. Forgetting an unknown key is not an error.
	ForgetDelivery(ctx context.Context, key string) error
}

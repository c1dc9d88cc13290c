package mongostore

import (
	"context"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// colWebhookEvents holds one document per provider event already applied,
// keyed by the event's key: deduplication is an insert by _id, which both
// MongoDB and the embedded store answer without a scan. The time is kept
// so a retention sweep can drop keys long past any provider's retries.
const colWebhookEvents = "webhook_events"

var _ content.WebhookEvents = (*Store)(nil)

type webhookEventDoc struct {
	Key string    `bson:"_id"`
	At  time.Time `bson:"at"`
}

// FirstDelivery inserts the key; a duplicate key means an earlier delivery
// (or a concurrent one) recorded it first.
func (s *Store) FirstDelivery(ctx context.Context, key string, at time.Time) (bool, error) {
	if key == "" {
		return false, content.Errorf(content.CodeInvalid, "a webhook event needs a key")
	}
	err := s.insert(ctx, colWebhookEvents, webhookEventDoc{Key: key, At: at.UTC()}, "webhook event")
	switch {
	case err == nil:
		return true, nil
	case content.IsCode(err, content.CodeConflict):
		return false, nil
	}
	return false, err
}

func (s *Store) ForgetDelivery(ctx context.Context, key string) error {
	return s.deleteByID(ctx, colWebhookEvents, key, "webhook event")
}

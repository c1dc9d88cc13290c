package notify

import (
	"errors"
	"net/http"
	"time"
)

// Delivery webhooks: what a provider later says became of a message it
// accepted. Each provider's adapter checks and reads its own callbacks
// (notify/twilio's status callbacks, notify/sendgrid's Event Webhook) into
// DeliveryEvents, so the HTTP layer only receives the request and applies
// the events.

// DeliveryOutcome is what a callback proves became of a message.
type DeliveryOutcome string

const (
	// OutcomeNone: the callback proves nothing the sender does not know
	// already (queued, processed, deferred, opened, …).
	OutcomeNone      DeliveryOutcome = ""
	OutcomeSent      DeliveryOutcome = "sent"
	OutcomeDelivered DeliveryOutcome = "delivered"
	OutcomeFailed    DeliveryOutcome = "failed"
)

// OptOut is what a callback says about the address itself, whatever became
// of the message: that it must not be contacted again, and why.
type OptOut string

const (
	OptOutNone        OptOut = ""
	OptOutBounce      OptOut = "bounce"      // the address is dead
	OptOutUnsubscribe OptOut = "unsubscribe" // the recipient unsubscribed
	OptOutSpam        OptOut = "spam"        // the recipient reported spam
)

// DeliveryEvent is one thing a provider reports about one message.
type DeliveryEvent struct {
	// Index is the event's position in the request (0 for a callback that
	// carries one event). Malformed means the adapter could not read the
	// event; nothing else is then set. The events of one request keep the
	// order they arrived in.
	Index     int
	Malformed bool

	Provider string // "twilio", "sendgrid"
	// Kind is the provider's own name for what happened (Twilio's
	// MessageStatus, SendGrid's event): for logs, never personal data.
	Kind string
	// EventID is the provider's id of this event, on which repeats are
	// deduplicated; empty when applying the event twice changes nothing.
	EventID   string
	MessageID string // the provider's id of the message (Twilio's SID, SendGrid's X-Message-Id)
	Ref       string // our ledger entry ref, as the sender gave it to the provider; "" when none came back

	Outcome DeliveryOutcome
	// ErrorCode is the provider's reason for OutcomeFailed ("30006",
	// "bounce", "blocked", "dropped"), "" otherwise.
	ErrorCode string
	OptOut    OptOut
	// Address is the recipient's address, set only with OptOut, to key
	// the suppression. It is personal data: never log or store it.
	Address string
	// At is when the provider says the event happened; zero when it does
	// not say.
	At time.Time
}

// WebhookRequest is a provider's call to one of our webhooks, as received.
type WebhookRequest struct {
	// URL is the full public URL the provider called: our public base,
	// then the path and query exactly as they arrived (still escaped).
	URL    string
	Header http.Header
	Body   []byte
}

// Errors a webhook adapter wraps, so that the HTTP layer answers without
// knowing the provider's scheme.
var (
	// ErrWebhookUnsigned: the signature is missing or does not match (403).
	ErrWebhookUnsigned = errors.New("webhook: missing or bad signature")
	// ErrWebhookStale: the signature is genuine but the time it covers is
	// too far from ours, as a replay's would be (403).
	ErrWebhookStale = errors.New("webhook: the signature is not fresh")
	// ErrWebhookInvalid: signed, but not the request the provider documents (400).
	ErrWebhookInvalid = errors.New("webhook: unreadable request")
)

// DeliveryWebhook reads one provider's delivery callbacks.
type DeliveryWebhook interface {
	// DeliveryEvents checks that req comes from the provider (its
	// signature, and the signed time's freshness at now where the provider
	// signs one) and returns the events it reports. The error wraps
	// ErrWebhookUnsigned, ErrWebhookStale or ErrWebhookInvalid.
	DeliveryEvents(req WebhookRequest, now time.Time) ([]DeliveryEvent, error)
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// Delivery webhooks: what Twilio and SendGrid later say became of a message
// they accepted. Each names its ledger entry by the ref the sender gave the
// provider (content.EntryRef), so a webhook is one $max write by _id with
// no lookup, and — states only rising — late, repeated or out-of-order
// webhooks can never move a message backwards.

// Paths of the delivery webhooks. The wiring gives the SMS sender
// HOMETIME_PUBLIC_URL + TwilioStatusPath as its status callback.
const (
	TwilioStatusPath   = "/webhooks/twilio/status"
	SendGridEventsPath = "/webhooks/sendgrid/events"
)

// TwilioStatus is the part of a Twilio status callback the API acts on.
type TwilioStatus struct {
	MessageSID    string
	MessageStatus string // queued, sending, sent, delivered, undelivered, failed, …
	ErrorCode     int    // 0 when absent; 30003 unreachable, 30005 unknown, 30006 landline, …
}

// TwilioStatusParser reads a signed status-callback form. The wiring adapts
// notify/twilio's ParseStatusCallback, so the API never holds the SDK and
// the wire format is read in one place. An error means the form lacks
// MessageSid or MessageStatus, or has a malformed ErrorCode.
type TwilioStatusParser func(form url.Values) (TwilioStatus, error)

// SendGridSignatures checks the ECDSA signature SendGrid puts on an Event
// Webhook batch: over the timestamp header and the raw body. notify/sendgrid's
// EventVerifier satisfies it; the wiring builds it from the verification key.
type SendGridSignatures interface {
	Verify(body []byte, signature, timestamp string) error
}

// SendGrid's Event Webhook signature headers.
const (
	sendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// twilioStatusState is the state a Twilio MessageStatus proves. Statuses
// before "sent" (queued, accepted, scheduled, sending) prove nothing the
// ledger does not hold already: an entry is sent once Twilio accepted it.
func twilioStatusState(status string) (content.MessageState, bool) {
	switch status {
	case "sent":
		return content.StateSent, true
	case "delivered", "read":
		return content.StateDelivered, true
	case "undelivered", "failed":
		return content.StateFailed, true
	}
	return "", false
}

// twilioStatus records a Twilio status callback on the message's ledger
// entry. A failure keeps Twilio's ErrorCode: 30003, 30005 and 30006 say the
// number is unreachable, unknown or a landline, which the pipeline uses to
// mark the contact invalid.
//
// Every signed callback is answered 204, even one naming no entry: Twilio
// would retry a failure, and a ref that is missing or unknown now never
// becomes known. Only the store failing answers 5xx.
func (s *server) twilioStatus() fiber.Handler {
	return func(c *fiber.Ctx) error {
		form, err := s.twilioSignedForm(c)
		if err != nil {
			return err
		}
		cb, err := s.ParseTwilioStatus(form)
		if err != nil {
			return content.Wrap(content.CodeInvalid, err, "the status callback needs MessageSid, MessageStatus and a numeric ErrorCode if any")
		}
		state, ok := twilioStatusState(cb.MessageStatus)
		if !ok {
			return c.SendStatus(fiber.StatusNoContent)
		}
		log := s.Log.With("request_id", requestID(c), "message_sid", cb.MessageSID)
		ref := c.Query("ref")
		pageID, index, err := content.ParseEntryRef(ref)
		if err != nil {
			log.Warn("twilio status: the callback names no ledger entry; ignored")
			return c.SendStatus(fiber.StatusNoContent)
		}
		var errorCode string
		if state == content.StateFailed && cb.ErrorCode != 0 {
			errorCode = strconv.Itoa(cb.ErrorCode)
		}
		err = s.Ledger.RaiseEntryState(c.UserContext(), pageID, index, state, errorCode, s.Clock.Now())
		if err == nil {
			s.Metrics.callback("twilio", state)
		}
		if content.IsCode(err, content.CodeNotFound) {
			log.Warn("twilio status: no such ledger page; ignored", "ref", ref)
			return c.SendStatus(fiber.StatusNoContent)
		}
		if err != nil {
			return fmt.Errorf("twilio status for %s: %w", ref, err)
		}
		log.Debug("twilio status recorded", "ref", ref, "status", cb.MessageStatus, "error_code", errorCode)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// sendGridEvent is the part of one Event Webhook event the API reads. It is
// decoded here, one event at a time, rather than by notify/sendgrid's
// ParseEvents, which refuses a whole batch for one bad event and drops the
// dropped event's reason.
type sendGridEvent struct {
	Event     string          `json:"event"`
	SGEventID string          `json:"sg_event_id"`
	Email     string          `json:"email"`  // keys a suppression; never logged or stored
	Ref       json.RawMessage `json:"ref"`    // our custom_args ref; anything but a string is ignored
	Type      string          `json:"type"`   // bounce: "bounce" (the address is dead) or "blocked" (refused for now)
	Reason    string          `json:"reason"` // dropped: why; bounce reasons may quote the address, so never kept
}

// ref is the event's ledger entry reference, or "" when it has none.
func (e *sendGridEvent) ref() string {
	var r string
	if json.Unmarshal(e.Ref, &r) != nil {
		return ""
	}
	return r
}

// sendGridEffect is what one event changes: its entry's state, its
// address's suppressions, both or neither.
type sendGridEffect struct {
	state     content.MessageState      // "" leaves the entry alone
	errorCode string                    // kept with a failure: bounce, blocked or dropped
	suppress  content.SuppressionReason // "" suppresses nothing
}

// droppedSuppressions are the reasons SendGrid gives for dropping an email
// because of the address's own history, and what each means for us.
var droppedSuppressions = map[string]content.SuppressionReason{
	"bounced address":        content.SuppressBounce,
	"unsubscribed address":   content.SuppressUnsubscribe,
	"spam reporting address": content.SuppressSpam,
}

// sendGridEffectOf maps an event to its effect. processed, deferred, open,
// click and anything unknown change nothing; group_resubscribe lifts
// nothing, because only a STOP-style suppression is ever lifted (START).
func sendGridEffectOf(e *sendGridEvent) sendGridEffect {
	switch e.Event {
	case "delivered":
		return sendGridEffect{state: content.StateDelivered}
	case "bounce":
		if e.Type == "blocked" {
			// A block is the receiving server refusing for now (reputation,
			// content, rate): this email failed, the address is not dead.
			return sendGridEffect{state: content.StateFailed, errorCode: "blocked"}
		}
		return sendGridEffect{state: content.StateFailed, errorCode: "bounce", suppress: content.SuppressBounce}
	case "dropped":
		return sendGridEffect{state: content.StateFailed, errorCode: "dropped",
			suppress: droppedSuppressions[strings.ToLower(strings.TrimSpace(e.Reason))]}
	case "spamreport":
		return sendGridEffect{suppress: content.SuppressSpam}
	case "unsubscribe", "group_unsubscribe":
		return sendGridEffect{suppress: content.SuppressUnsubscribe}
	}
	return sendGridEffect{}
}

// sendGridFreshness is how far a batch's signed timestamp may be from our
// clock, either way. The signature covers the timestamp, so a batch
// captured on the wire can be replayed only within this window, and there
// its events are already deduplicated on sg_event_id. This takes each of
// SendGrid's delivery attempts (it retries for up to 24 hours) to be
// signed when it is made, as the timestamp header suggests; SendGrid does
// not document it. A retry carrying a stale timestamp would be refused.
const sendGridFreshness = 10 * time.Minute

// sendGridFresh reports whether ts, the Unix seconds of a verified batch's
// timestamp header, is within sendGridFreshness of now.
func sendGridFresh(ts string, now time.Time) bool {
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(secs, 0))
	return d <= sendGridFreshness && d >= -sendGridFreshness
}

// sendGridTally counts what became of a batch's events, for one log line.
type sendGridTally struct {
	applied, repeats, unchanged, malformed int
}

// sendGridEvents applies a signed Event Webhook batch. Events are
// deduplicated on sg_event_id before they change anything: SendGrid repeats
// events, sometimes dozens of times, and each repeat is answered but
// skipped. A malformed event is skipped (its index is logged) and the rest
// of the batch is still applied. If the store fails, the event being
// applied is forgotten and the batch answered 5xx; SendGrid retries the
// whole batch, whose events already applied are then skipped as repeats.
//
// Addresses are only ever hashed into suppression keys; nothing here logs
// or stores an email address.
func (s *server) sendGridEvents() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.SendGridSignatures == nil {
			return content.Errorf(content.CodeUnavailable, "SendGrid webhooks are not configured")
		}
		body := c.Request().Body()
		ts := c.Get(sendGridTimestampHeader)
		if err := s.SendGridSignatures.Verify(body, c.Get(sendGridSignatureHeader), ts); err != nil {
			return content.Errorf(content.CodeForbidden, "the request is not signed by SendGrid")
		}
		if !sendGridFresh(ts, s.Clock.Now()) {
			return content.Errorf(content.CodeForbidden, "the batch's signature is not fresh")
		}
		var batch []json.RawMessage
		if err := json.Unmarshal(body, &batch); err != nil {
			return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
				Fields: map[string]string{"body": "must be a JSON array of events"}, Err: err}
		}
		log := s.Log.With("request_id", requestID(c))
		ctx, at := c.UserContext(), s.Clock.Now()
		var tally sendGridTally
		for i, raw := range batch {
			if err := s.applySendGridEvent(ctx, log, i, raw, at, &tally); err != nil {
				log.Warn("sendgrid events: stopped; SendGrid will retry the batch", "events", len(batch), "at_index", i,
					"applied", tally.applied, "repeats", tally.repeats)
				return err
			}
		}
		log.Info("sendgrid events", "events", len(batch), "applied", tally.applied, "repeats", tally.repeats,
			"unchanged", tally.unchanged, "malformed", tally.malformed)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// applySendGridEvent applies the batch's event i. It returns an error only
// when the store failed, after forgetting the event so a retry applies it.
func (s *server) applySendGridEvent(ctx context.Context, log *slog.Logger, i int, raw json.RawMessage, at time.Time, tally *sendGridTally) error {
	var e sendGridEvent
	if err := json.Unmarshal(raw, &e); err != nil || e.Event == "" || e.SGEventID == "" {
		log.Warn("sendgrid events: malformed event skipped", "index", i)
		tally.malformed++
		return nil
	}
	eff := sendGridEffectOf(&e)
	ref := e.ref()
	pageID, index, refErr := content.ParseEntryRef(ref)
	if eff.state != "" && refErr != nil {
		// Without a ref the event is not about a ledger message (or not
		// ours: the webhook covers the whole SendGrid account).
		if ref != "" {
			log.Warn("sendgrid events: unreadable ref; state not recorded", "index", i, "event", e.Event)
		}
		eff.state = ""
	}
	if eff.state == "" && eff.suppress == "" {
		tally.unchanged++
		return nil
	}
	key := "sendgrid:" + e.SGEventID
	first, err := s.WebhookEvents.FirstDelivery(ctx, key, at)
	if err == nil && !first {
		tally.repeats++
		return nil
	}
	if err == nil {
		err = s.applySendGridEffect(ctx, log, i, &e, eff, pageID, index, at)
	}
	if err != nil {
		// The key may have been recorded even if FirstDelivery failed (a
		// timeout after the write); forgetting it is harmless either way,
		// since every write an event makes is idempotent. The request's
		// context may be what failed, so forget on one of our own.
		if ferr := s.WebhookEvents.ForgetDelivery(context.WithoutCancel(ctx), key); ferr != nil {
			log.Error("sendgrid events: could not forget a failed event; a retry will skip it", "index", i, "err", ferr)
		}
		return fmt.Errorf("sendgrid event %d (%s): %w", i, e.Event, err)
	}
	tally.applied++
	return nil
}

func (s *server) applySendGridEffect(ctx context.Context, log *slog.Logger, i int, e *sendGridEvent, eff sendGridEffect,
	pageID string, index int, at time.Time) error {
	if eff.state != "" {
		err := s.Ledger.RaiseEntryState(ctx, pageID, index, eff.state, eff.errorCode, at)
		if err == nil {
			s.Metrics.callback("sendgrid", eff.state)
		}
		switch {
		case content.IsCode(err, content.CodeNotFound):
			log.Warn("sendgrid events: no such ledger page; state not recorded", "index", i, "ref", content.EntryRef(pageID, index))
		case err != nil:
			return fmt.Errorf("record %s: %w", eff.state, err)
		}
	}
	if eff.suppress != "" {
		key, err := content.SuppressionKeyOf(s.HashKey, content.SuppressionEmail, e.Email)
		if err != nil {
			log.Warn("sendgrid events: no usable address; not suppressed", "index", i, "event", e.Event)
			return nil
		}
		if err := s.Suppressions.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionEmail,
			Reason: eff.suppress, At: at}); err != nil {
			return fmt.Errorf("suppress for %s: %w", eff.suppress, err)
		}
	}
	return nil
}

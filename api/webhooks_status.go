package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
)

// Delivery webhooks: what Twilio and SendGrid later say became of a message
// they accepted. Each provider's adapter checks its callbacks' signatures
// and reads them into notify.DeliveryEvents; the handlers here apply the
// events. An event names its ledger entry by the ref the sender gave the
// provider (content.EntryRef), so applying it is one $max write by _id
// with no lookup, and — states only rising — late, repeated or
// out-of-order webhooks can never move a message backwards.

// Paths of the delivery webhooks. The wiring gives the SMS sender
// HOMETIME_PUBLIC_URL + TwilioStatusPath as its status callback.
const (
	TwilioStatusPath   = "/webhooks/twilio/status"
	SendGridEventsPath = "/webhooks/sendgrid/events"
)

// TwilioWebhooks checks and reads Twilio's webhooks: notify/twilio's
// Webhooks satisfies it; the wiring in */cmd/* builds it from the account's
// auth token, so the API never holds the Twilio SDK.
type TwilioWebhooks interface {
	// DeliveryEvents reads a signed status callback.
	notify.DeliveryWebhook
	// SignedForm returns the form of a request Twilio signed (inbound texts).
	SignedForm(req notify.WebhookRequest) (url.Values, error)
}

// webhookRequest is the request as the provider sent it, for its adapter
// to check and read. Providers sign the URL they were told to call — our
// public base plus the path and query string as they arrived, still
// escaped (a status callback's ref rides in the query). The path and query
// are taken from the parsed request line, so a request naming the whole
// URL (absolute form) is checked like one naming the path.
func (s *server) webhookRequest(c *fiber.Ctx) notify.WebhookRequest {
	uri := c.Request().URI()
	target := strings.TrimRight(s.PublicURL, "/") + string(uri.PathOriginal())
	if q := uri.QueryString(); len(q) > 0 {
		target += "?" + string(q)
	}
	h := http.Header{}
	c.Request().Header.VisitAll(func(k, v []byte) { h.Add(string(k), string(v)) })
	return notify.WebhookRequest{URL: target, Header: h, Body: c.Request().Body()}
}

// webhookError answers a request its adapter refused: 403 for a signature
// that is missing, wrong or stale, 400 (with invalid's message) for a
// signed request that is not what the provider documents.
func webhookError(err error, provider string, invalid *content.Error) error {
	switch {
	case errors.Is(err, notify.ErrWebhookStale):
		return content.Errorf(content.CodeForbidden, "the request's signature is not fresh")
	case errors.Is(err, notify.ErrWebhookInvalid):
		invalid.Err = err
		return invalid
	}
	return content.Errorf(content.CodeForbidden, "the request is not signed by %s", provider)
}

// outcomeState is the ledger state a delivery outcome proves.
func outcomeState(o notify.DeliveryOutcome) content.MessageState {
	switch o {
	case notify.OutcomeSent:
		return content.StateSent
	case notify.OutcomeDelivered:
		return content.StateDelivered
	case notify.OutcomeFailed:
		return content.StateFailed
	}
	return ""
}

// optOutReason is the suppression an opt-out asks for.
func optOutReason(o notify.OptOut) content.SuppressionReason {
	switch o {
	case notify.OptOutBounce:
		return content.SuppressBounce
	case notify.OptOutUnsubscribe:
		return content.SuppressUnsubscribe
	case notify.OptOutSpam:
		return content.SuppressSpam
	}
	return ""
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
		if s.Twilio == nil || s.PublicURL == "" {
			return errTwilioUnconfigured
		}
		events, err := s.Twilio.DeliveryEvents(s.webhookRequest(c), s.Clock.Now())
		if err != nil {
			return webhookError(err, "Twilio", &content.Error{Code: content.CodeInvalid,
				Message: "the status callback needs MessageSid, MessageStatus and a numeric ErrorCode if any"})
		}
		for _, e := range events {
			if err := s.applyTwilioStatus(c, &e); err != nil {
				return err
			}
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// applyTwilioStatus raises the entry a status event names. A status that
// proves nothing, a ref naming no entry and a page that does not exist are
// skipped (the last two logged); it errs only when the store failed.
func (s *server) applyTwilioStatus(c *fiber.Ctx, e *notify.DeliveryEvent) error {
	state := outcomeState(e.Outcome)
	if state == "" {
		return nil
	}
	log := s.Log.With("request_id", requestID(c), "message_sid", e.MessageID)
	pageID, index, err := content.ParseEntryRef(e.Ref)
	if err != nil {
		log.Warn("twilio status: the callback names no ledger entry; ignored")
		return nil
	}
	found, err := s.raiseDelivery(c.UserContext(), e, state, pageID, index, s.Clock.Now())
	if err != nil {
		return fmt.Errorf("twilio status for %s: %w", e.Ref, err)
	}
	if !found {
		log.Warn("twilio status: no such ledger page; ignored", "ref", e.Ref)
		return nil
	}
	log.Debug("twilio status recorded", "ref", e.Ref, "status", e.Kind, "error_code", e.ErrorCode)
	return nil
}

// raiseDelivery raises the ledger entry an event is about to state. It
// reports false when the entry's page does not exist (erased, or never
// ours); an error only when the store failed.
func (s *server) raiseDelivery(ctx context.Context, e *notify.DeliveryEvent, state content.MessageState,
	pageID string, index int, at time.Time) (bool, error) {
	err := s.Ledger.RaiseEntryState(ctx, pageID, index, state, e.ErrorCode, at)
	switch {
	case content.IsCode(err, content.CodeNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	s.Metrics.callback(e.Provider, state)
	return true, nil
}

// sendGridTally counts what became of a batch's events, for one log line.
type sendGridTally struct {
	applied, repeats, unchanged, malformed int
}

// sendGridEvents applies a signed Event Webhook batch (notify/sendgrid
// checks its signature and freshness and reads its events). Events are
// deduplicated on sg_event_id before they change anything: SendGrid
// repeats events, sometimes dozens of times, and each repeat is answered
// but skipped. A malformed event is skipped (its index is logged) and the
// rest of the batch is still applied. If the store fails, the event being
// applied is forgotten and the batch answered 5xx; SendGrid retries the
// whole batch, whose events already applied are then skipped as repeats.
//
// Addresses are only ever hashed into suppression keys; nothing here logs
// or stores an email address.
func (s *server) sendGridEvents() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.SendGridEvents == nil {
			return content.Errorf(content.CodeUnavailable, "SendGrid webhooks are not configured")
		}
		events, err := s.SendGridEvents.DeliveryEvents(s.webhookRequest(c), s.Clock.Now())
		if err != nil {
			return webhookError(err, "SendGrid", &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
				Fields: map[string]string{"body": "must be a JSON array of events"}})
		}
		log := s.Log.With("request_id", requestID(c))
		ctx, at := c.UserContext(), s.Clock.Now()
		var tally sendGridTally
		for i := range events {
			if err := s.applySendGridEvent(ctx, log, &events[i], at, &tally); err != nil {
				log.Warn("sendgrid events: stopped; SendGrid will retry the batch", "events", len(events), "at_index", i,
					"applied", tally.applied, "repeats", tally.repeats)
				return err
			}
		}
		log.Info("sendgrid events", "events", len(events), "applied", tally.applied, "repeats", tally.repeats,
			"unchanged", tally.unchanged, "malformed", tally.malformed)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// applySendGridEvent applies one event of a batch. It returns an error
// only when the store failed, after forgetting the event so a retry
// applies it.
func (s *server) applySendGridEvent(ctx context.Context, log *slog.Logger, e *notify.DeliveryEvent, at time.Time, tally *sendGridTally) error {
	if e.Malformed {
		log.Warn("sendgrid events: malformed event skipped", "index", e.Index)
		tally.malformed++
		return nil
	}
	state := outcomeState(e.Outcome)
	pageID, index, refErr := content.ParseEntryRef(e.Ref)
	if state != "" && refErr != nil {
		// Without a ref the event is not about a ledger message (or not
		// ours: the webhook covers the whole SendGrid account).
		if e.Ref != "" {
			log.Warn("sendgrid events: unreadable ref; state not recorded", "index", e.Index, "event", e.Kind)
		}
		state = ""
	}
	if state == "" && e.OptOut == notify.OptOutNone {
		tally.unchanged++
		return nil
	}
	key := e.Provider + ":" + e.EventID
	first, err := s.WebhookEvents.FirstDelivery(ctx, key, at)
	if err == nil && !first {
		tally.repeats++
		return nil
	}
	if err == nil {
		err = s.applySendGridEffect(ctx, log, e, state, pageID, index, at)
	}
	if err != nil {
		// The key may have been recorded even if FirstDelivery failed (a
		// timeout after the write); forgetting it is harmless either way,
		// since every write an event makes is idempotent. The request's
		// context may be what failed, so forget on one of our own.
		if ferr := s.WebhookEvents.ForgetDelivery(context.WithoutCancel(ctx), key); ferr != nil {
			log.Error("sendgrid events: could not forget a failed event; a retry will skip it", "index", e.Index, "err", ferr)
		}
		return fmt.Errorf("sendgrid event %d (%s): %w", e.Index, e.Kind, err)
	}
	tally.applied++
	return nil
}

func (s *server) applySendGridEffect(ctx context.Context, log *slog.Logger, e *notify.DeliveryEvent, state content.MessageState,
	pageID string, index int, at time.Time) error {
	if state != "" {
		found, err := s.raiseDelivery(ctx, e, state, pageID, index, at)
		if err != nil {
			return fmt.Errorf("record %s: %w", state, err)
		}
		if !found {
			log.Warn("sendgrid events: no such ledger page; state not recorded", "index", e.Index, "ref", content.EntryRef(pageID, index))
		}
	}
	reason := optOutReason(e.OptOut)
	if reason == "" {
		return nil
	}
	key, err := content.SuppressionKeyOf(s.HashKey, content.SuppressionEmail, e.Address)
	if err != nil {
		log.Warn("sendgrid events: no usable address; not suppressed", "index", e.Index, "event", e.Kind)
		return nil
	}
	if err := s.Suppressions.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionEmail,
		Reason: reason, At: at}); err != nil {
		return fmt.Errorf("suppress for %s: %w", reason, err)
	}
	return nil
}

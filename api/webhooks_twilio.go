package api

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

// twilioInbound answers a text a parent sent to one of our numbers. Only
// the keywords matter: STOP and its synonyms add a suppression, START and
// its synonyms lift a stop, HELP gets a reply; any other text from a known
// parent lands in a conversation with their child's class staff
// (inboundToConversation), and from an unknown number is only counted.
//
// Replies: HELP gets our own message. STOP and START get an empty
// <Response/>: on long codes and toll-free numbers Twilio itself sends the
// confirmation the carriers require and blocks or unblocks the number, and
// a reply of ours to a number that has just sent STOP would be refused
// (21610) anyway. Twilio's Advanced Opt-Out fields are honoured: a signed
// OptOutType of STOP, START or HELP classifies the text as Twilio did,
// which also covers custom keywords configured at Twilio.
//
// Nothing from the text is logged; a keyword keeps only the keyed hash of
// the sender, a parent's text is kept in their conversation.
func (s *server) twilioInbound() fiber.Handler {
	return func(c *fiber.Ctx) error {
		form, err := s.twilioSignedForm(c)
		if err != nil {
			return err
		}
		from := form.Get("From")
		if from == "" {
			return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
				Fields: map[string]string{"From": "required"}}
		}
		kw := inboundKeyword(form)
		log := s.Log.With("request_id", requestID(c), "message_sid", form.Get("MessageSid"), "keyword", string(kw))
		ctx := c.UserContext()
		switch kw {
		case content.SMSKeywordOptOut, content.SMSKeywordOptIn:
			key, err := content.SuppressionKeyOf(s.HashKey, content.SuppressionSMS, from)
			if err != nil {
				// A short code or alphanumeric sender: nothing we text.
				log.Warn("twilio inbound: sender is not an E.164 number; keyword ignored")
				return twiml(c, "")
			}
			sid := form.Get("MessageSid")
			if sid == "" {
				return &content.Error{Code: content.CodeInvalid, Message: "the request has invalid fields",
					Fields: map[string]string{"MessageSid": "required"}}
			}
			if err := s.applyOptKeyword(ctx, log, kw, key, sid); err != nil {
				return err
			}
			return twiml(c, "")
		case content.SMSKeywordHelp:
			log.Info("twilio inbound: help")
			return twiml(c, "Hometime: messages from your child's school. Reply STOP to stop these texts, "+
				"START to get them again. More at "+s.AppURL)
		}
		if err := s.inboundToConversation(ctx, log, form); err != nil {
			return err
		}
		return twiml(c, "")
	}
}

// applyOptKeyword applies one STOP or START text, once: the text's
// MessageSid is recorded first (WebhookEvents), and a text already applied
// changes nothing. Twilio's signature covers no time, so without this a
// STOP redelivered (or replayed) after a later START would suppress again,
// and a START replayed after a later STOP would lift it. If applying fails
// the record is forgotten, so Twilio's retry applies the text.
func (s *server) applyOptKeyword(ctx context.Context, log *slog.Logger, kw content.SMSKeyword, key, sid string) error {
	event := "twilio:inbound:" + sid
	first, err := s.WebhookEvents.FirstDelivery(ctx, event, s.Clock.Now())
	if err == nil && !first {
		log.Info("twilio inbound: repeated text; already applied")
		return nil
	}
	if err == nil {
		if kw == content.SMSKeywordOptOut {
			err = s.Suppressions.Suppress(ctx, &content.Suppression{Key: key, Channel: content.SuppressionSMS,
				Reason: content.SuppressStop, At: s.Clock.Now()})
			if err == nil {
				log.Info("twilio inbound: sender suppressed")
			}
		} else {
			var lifted bool
			lifted, err = s.Suppressions.Unsuppress(ctx, key)
			if err == nil {
				log.Info("twilio inbound: opt-in", "stop_lifted", lifted)
			}
		}
	}
	if err != nil {
		// As for SendGrid's events: the record may exist even if
		// FirstDelivery failed, and forgetting it is harmless since
		// Suppress and Unsuppress are idempotent.
		if ferr := s.WebhookEvents.ForgetDelivery(context.WithoutCancel(ctx), event); ferr != nil {
			log.Error("twilio inbound: could not forget a failed text; a retry will skip it", "err", ferr)
		}
		return fmt.Errorf("twilio inbound %s: %w", kw, err)
	}
	return nil
}

// errTwilioUnconfigured answers a Twilio webhook this deployment cannot
// check or act on.
var errTwilioUnconfigured = content.Errorf(content.CodeUnavailable, "Twilio webhooks are not configured")

// twilioSignedForm returns the form of a request Twilio signed, for every
// Twilio webhook: CodeUnavailable when no auth token or public URL is
// configured, CodeForbidden when X-Twilio-Signature is missing or does not
// match (notify/twilio checks it over the URL webhookRequest rebuilds).
func (s *server) twilioSignedForm(c *fiber.Ctx) (url.Values, error) {
	if s.Twilio == nil || s.PublicURL == "" {
		return nil, errTwilioUnconfigured
	}
	form, err := s.Twilio.SignedForm(s.webhookRequest(c))
	if err != nil {
		return nil, content.Errorf(content.CodeForbidden, "the request is not signed by Twilio")
	}
	return form, nil
}

// inboundKeyword prefers Twilio's own classification (Advanced Opt-Out
// sends OptOutType) and falls back to the body.
func inboundKeyword(form url.Values) content.SMSKeyword {
	switch form.Get("OptOutType") {
	case "STOP":
		return content.SMSKeywordOptOut
	case "START":
		return content.SMSKeywordOptIn
	case "HELP":
		return content.SMSKeywordHelp
	}
	return content.ClassifySMS(form.Get("Body"))
}

// twiml answers with TwiML: one reply message, or none for an empty text.
func twiml(c *fiber.Ctx, message string) error {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if message == "" {
		b.WriteString("<Response/>")
	} else {
		b.WriteString("<Response><Message>")
		_ = xml.EscapeText(&b, []byte(message)) // writes to a buffer: cannot fail
		b.WriteString("</Message></Response>")
	}
	c.Set(fiber.HeaderContentType, "text/xml; charset=utf-8")
	return c.Send(b.Bytes())
}

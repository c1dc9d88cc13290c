package sendgrid

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/hometime-edu/hometime/notify"
)

// Event Webhook signature headers.
const (
	SignatureHeader = eventwebhook.VerificationHTTPHeader // X-Twilio-Email-Event-Webhook-Signature
	TimestampHeader = eventwebhook.TimestampHTTPHeader    // X-Twilio-Email-Event-Webhook-Timestamp
)

// ErrBadSignature means an event batch is unsigned or its signature does
// not match; answer 403. It wraps notify.ErrWebhookUnsigned.
var ErrBadSignature = fmt.Errorf("sendgrid event webhook: %w", notify.ErrWebhookUnsigned)

// EventWebhook checks and reads SendGrid's Event Webhook batches, which
// SendGrid signs with ECDSA over the timestamp header and the raw body.
type EventWebhook struct {
	key *ecdsa.PublicKey
}

var _ notify.DeliveryWebhook = (*EventWebhook)(nil)

// NewEventWebhook parses the verification key from SendGrid's Signed Event
// Webhook settings: base64 of a DER (PKIX) ECDSA public key, or the same in
// a PEM "PUBLIC KEY" block.
func NewEventWebhook(publicKey string) (*EventWebhook, error) {
	publicKey = strings.TrimSpace(publicKey)
	var der []byte
	if block, _ := pem.Decode([]byte(publicKey)); block != nil {
		der = block.Bytes
	} else {
		b, err := base64.StdEncoding.DecodeString(publicKey)
		if err != nil {
			return nil, fmt.Errorf("sendgrid event webhook key: not base64 or PEM: %w", err)
		}
		der = b
	}
	// Parsed here rather than with eventwebhook.ConvertPublicKeyBase64ToECDSA,
	// which panics on a non-ECDSA key.
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid event webhook key: %w", err)
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("sendgrid event webhook key: %T is not an ECDSA key", pub)
	}
	return &EventWebhook{key: key}, nil
}

// Verify checks signature and timestamp (the two headers) against the raw
// request body, exactly as received. It returns ErrBadSignature on failure.
func (v *EventWebhook) Verify(body []byte, signature, timestamp string) error {
	if signature == "" || timestamp == "" {
		return ErrBadSignature
	}
	ok, err := eventwebhook.VerifySignature(v.key, body, signature, timestamp)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}

// Freshness is how far a batch's signed timestamp may be from our clock,
// either way. The signature covers the timestamp, so a batch captured on
// the wire can be replayed only within this window, and there its events
// are deduplicated on sg_event_id. This takes each of SendGrid's delivery
// attempts (it retries for up to 24 hours) to be signed when it is made,
// as the timestamp header suggests; SendGrid does not document it. A retry
// carrying a stale timestamp would be refused.
const Freshness = 10 * time.Minute

// fresh reports whether ts, the Unix seconds of a verified batch's
// timestamp header, is within Freshness of now.
func fresh(ts string, now time.Time) bool {
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(secs, 0))
	return d <= Freshness && d >= -Freshness
}

// DeliveryEvents checks a batch's signature and its freshness at now, then
// reads its events one by one: an event that is not an object, or lacks
// event or sg_event_id, is returned Malformed and the rest are still read.
// Each event's EventID is its sg_event_id (SendGrid repeats events,
// sometimes dozens of times), its Ref our custom_args "ref" (anything but a
// string is ignored) and its MessageID the X-Message-Id of the request that
// sent the email.
func (v *EventWebhook) DeliveryEvents(req notify.WebhookRequest, now time.Time) ([]notify.DeliveryEvent, error) {
	ts := req.Header.Get(TimestampHeader)
	if err := v.Verify(req.Body, req.Header.Get(SignatureHeader), ts); err != nil {
		return nil, err
	}
	if !fresh(ts, now) {
		return nil, fmt.Errorf("sendgrid event webhook: %w", notify.ErrWebhookStale)
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(req.Body, &batch); err != nil {
		return nil, fmt.Errorf("sendgrid events: not a JSON array of events: %w", notify.ErrWebhookInvalid)
	}
	out := make([]notify.DeliveryEvent, len(batch))
	for i, raw := range batch {
		out[i] = readEvent(i, raw)
	}
	return out, nil
}

// wireEvent is the part of one Event Webhook event we read.
type wireEvent struct {
	Event       string          `json:"event"`
	SGEventID   string          `json:"sg_event_id"`
	SGMessageID json.RawMessage `json:"sg_message_id"` // read leniently, as timestamp and ref are
	Email       string          `json:"email"`         // keys a suppression; never logged or stored
	Timestamp   json.RawMessage `json:"timestamp"`     // Unix seconds; an unreadable one is left out
	Ref         json.RawMessage `json:"ref"`           // our custom_args ref; anything but a string is ignored
	Type        string          `json:"type"`          // bounce: "bounce" (the address is dead) or "blocked" (refused for now)
	Reason      string          `json:"reason"`        // dropped: why; bounce reasons may quote the address, so never kept
}

func readEvent(i int, raw json.RawMessage) notify.DeliveryEvent {
	var w wireEvent
	if err := json.Unmarshal(raw, &w); err != nil || w.Event == "" || w.SGEventID == "" {
		return notify.DeliveryEvent{Index: i, Malformed: true}
	}
	e := notify.DeliveryEvent{Index: i, Provider: "sendgrid", Kind: w.Event, EventID: w.SGEventID}
	var sgMessageID string
	_ = json.Unmarshal(w.SGMessageID, &sgMessageID)
	e.MessageID, _, _ = strings.Cut(sgMessageID, ".")
	_ = json.Unmarshal(w.Ref, &e.Ref)
	var secs json.Number
	if json.Unmarshal(w.Timestamp, &secs) == nil {
		if f, err := secs.Float64(); err == nil {
			e.At = time.Unix(int64(f), 0).UTC()
		}
	}
	effectOf(&e, &w)
	if e.OptOut != notify.OptOutNone {
		e.Address = w.Email
	}
	return e
}

// droppedOptOuts are the reasons SendGrid gives for dropping an email
// because of the address's own history, and what each means for us.
var droppedOptOuts = map[string]notify.OptOut{
	"bounced address":        notify.OptOutBounce,
	"unsubscribed address":   notify.OptOutUnsubscribe,
	"spam reporting address": notify.OptOutSpam,
}

// effectOf sets what an event proves. processed, deferred, open, click and
// anything unknown prove nothing; group_resubscribe lifts nothing, because
// only a STOP-style suppression is ever lifted (START).
func effectOf(e *notify.DeliveryEvent, w *wireEvent) {
	switch w.Event {
	case "delivered":
		e.Outcome = notify.OutcomeDelivered
	case "bounce":
		e.Outcome = notify.OutcomeFailed
		if w.Type == "blocked" {
			// A block is the receiving server refusing for now (reputation,
			// content, rate): this email failed, the address is not dead.
			e.ErrorCode = "blocked"
			return
		}
		e.ErrorCode, e.OptOut = "bounce", notify.OptOutBounce
	case "dropped":
		e.Outcome, e.ErrorCode = notify.OutcomeFailed, "dropped"
		e.OptOut = droppedOptOuts[strings.ToLower(strings.TrimSpace(w.Reason))]
	case "spamreport":
		e.OptOut = notify.OptOutSpam
	case "unsubscribe", "group_unsubscribe":
		e.OptOut = notify.OptOutUnsubscribe
	}
}

package sendgrid

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
)

// Event Webhook signature headers.
const (
	SignatureHeader = eventwebhook.VerificationHTTPHeader // X-Twilio-Email-Event-Webhook-Signature
	TimestampHeader = eventwebhook.TimestampHTTPHeader    // X-Twilio-Email-Event-Webhook-Timestamp
)

// ErrBadSignature means an event batch is unsigned or its signature does
// not match; answer 403.
var ErrBadSignature = errors.New("sendgrid event webhook: missing or bad signature")

// EventVerifier checks the ECDSA signature SendGrid puts on Event Webhook
// batches. Replays of a validly signed batch are not refused here: events
// are deduplicated on sg_event_id, which makes a replay harmless.
type EventVerifier struct {
	key *ecdsa.PublicKey
}

// NewEventVerifier parses the verification key from SendGrid's Signed Event
// Webhook settings: base64 of a DER (PKIX) ECDSA public key, or the same in
// a PEM "PUBLIC KEY" block.
func NewEventVerifier(publicKey string) (*EventVerifier, error) {
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
	return &EventVerifier{key: key}, nil
}

// Verify checks signature and timestamp (the two headers) against the raw
// request body, exactly as received. It returns ErrBadSignature on failure.
func (v *EventVerifier) Verify(body []byte, signature, timestamp string) error {
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

// Event is one Event Webhook event.
type Event struct {
	Email       string // needed to suppress on unsubscribe/spamreport; never log it
	Timestamp   time.Time
	Event       string // processed, dropped, delivered, deferred, bounce, open, click, spamreport, unsubscribe, group_unsubscribe, group_resubscribe
	SGEventID   string // deduplicate on this: events repeat
	SGMessageID string
	Ref         string // our custom_args "ref", delivered at the top level
	Type        string // for bounce: "bounce" or "blocked"
}

// MessageID is the X-Message-Id of the request that sent the email: the
// part of sg_message_id before the first dot.
func (e Event) MessageID() string {
	id, _, _ := strings.Cut(e.SGMessageID, ".")
	return id
}

type wireEvent struct {
	Email       string          `json:"email"`
	Timestamp   json.Number     `json:"timestamp"`
	Event       string          `json:"event"`
	SGEventID   string          `json:"sg_event_id"`
	SGMessageID string          `json:"sg_message_id"`
	Ref         json.RawMessage `json:"ref"`
	Type        string          `json:"type"`
}

// ParseEvents parses a (verified) Event Webhook body: a JSON array of
// events. Each event needs event and sg_event_id; anything else missing is
// left empty. A ref that is not a string is ignored.
func ParseEvents(body []byte) ([]Event, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw []wireEvent
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("sendgrid events: %w", err)
	}
	out := make([]Event, 0, len(raw))
	for i, w := range raw {
		if w.Event == "" || w.SGEventID == "" {
			return nil, fmt.Errorf("sendgrid events: event %d lacks event or sg_event_id", i)
		}
		e := Event{
			Email:       w.Email,
			Event:       w.Event,
			SGEventID:   w.SGEventID,
			SGMessageID: w.SGMessageID,
			Type:        w.Type,
		}
		if w.Timestamp != "" {
			secs, err := w.Timestamp.Float64()
			if err != nil {
				return nil, fmt.Errorf("sendgrid events: event %d timestamp: %w", i, err)
			}
			e.Timestamp = time.Unix(int64(secs), 0).UTC()
		}
		var ref string
		if len(w.Ref) > 0 && json.Unmarshal(w.Ref, &ref) == nil {
			e.Ref = ref
		}
		out = append(out, e)
	}
	return out, nil
}

// Package notify holds message values, the per-channel sender interfaces,
// the delivery events providers' webhooks report, templates, SMS segment
// counting and quiet hours. It imports only the standard library; one
// sub-package per provider implements the senders and reads its webhooks.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Channel is how a message reaches a person.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
	ChannelPush  Channel = "push"
)

// Channels lists every channel.
func Channels() []Channel { return []Channel{ChannelSMS, ChannelEmail, ChannelPush} }

// The most messages one provider call may carry: SendGrid takes up to 1,000
// personalizations in a request, FCM up to 500 messages in one SendEach.
const (
	MaxEmailBatch = 1000 // SendGrid personalizations per request
	MaxPushBatch  = 500  // FCM SendEach messages per call
)

// SMS is one text message to one number.
type SMS struct {
	Ref  string // ledger entry id; IDs only, safe to log
	To   string // E.164
	From string // sender number or messaging service; empty = adapter default
	Body string
}

// Email is one email to one address.
type Email struct {
	Ref      string // ledger entry id; travels to the provider as custom_args
	To       string
	Subject  string
	Text     string
	HTML     string
	Category string // template name, e.g. "password_reset"; no personal data
}

// Push is one push notification to one device token.
type Push struct {
	Ref   string
	Token string
	Title string
	Body  string
	Data  map[string]string // IDs only
}

// ErrorKind sorts provider errors by what the pipeline must do about them.
type ErrorKind string

const (
	// KindRecipientInvalid: invalid or landline number, unregistered token:
	// mark the contact or token invalid, do not retry.
	KindRecipientInvalid ErrorKind = "recipient_invalid"
	// KindSuppressed: the recipient opted out at the provider (Twilio 21610).
	KindSuppressed ErrorKind = "suppressed"
	// KindRateLimited: never processed; retry after RetryAfter.
	KindRateLimited ErrorKind = "rate_limited"
	// KindTransient: not accepted; safe to retry.
	KindTransient ErrorKind = "transient"
	// KindAmbiguous: the request may have been accepted (timeout after send):
	// the message becomes unknown and is never blindly resent.
	KindAmbiguous ErrorKind = "ambiguous"
	// KindPermanent: rejected for a reason retrying will not fix.
	KindPermanent ErrorKind = "permanent"
)

// SendError is a classified provider failure.
type SendError struct {
	Kind       ErrorKind
	Code       string        // provider error code, e.g. "21610", "UNREGISTERED"
	RetryAfter time.Duration // for KindRateLimited, when known
	Err        error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("%s (%s): %v", e.Kind, e.Code, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// KindOf returns the kind of a send error, or "" if err is nil or unclassified.
func KindOf(err error) ErrorKind {
	var se *SendError
	if errors.As(err, &se) {
		return se.Kind
	}
	return ""
}

// Result is the outcome of one message in a send call.
type Result struct {
	Ref        string
	ProviderID string // Twilio SID, SendGrid message id, FCM message name
	Segments   int    // SMS only
	Err        error  // nil when the provider accepted the message; else usually *SendError
}

// SMSSender sends one SMS per call (Twilio has no batch endpoint).
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) Result
}

// EmailSender sends up to MaxEmailBatch emails; it returns one Result per
// email, in order. A non-nil error means the whole call failed the same way
// for every email and is also set on each Result.
type EmailSender interface {
	SendEmails(ctx context.Context, emails []Email) ([]Result, error)
}

// PushSender sends up to MaxPushBatch pushes; results as for EmailSender.
type PushSender interface {
	SendPushes(ctx context.Context, pushes []Push) ([]Result, error)
}

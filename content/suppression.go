package content

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// Suppression channels: the kind of contact a suppression is about. Each has
// its own key space, so an email and a phone number can never collide.
const (
	SuppressionSMS   = "sms"
	SuppressionEmail = "email"
)

// SuppressionReason says why a contact must not be messaged.
type SuppressionReason string

const (
	SuppressStop        SuppressionReason = "stop"        // replied STOP (or another opt-out keyword) to a text
	SuppressUnsubscribe SuppressionReason = "unsubscribe" // unsubscribed from email
	SuppressBounce      SuppressionReason = "bounce"      // the address or number does not take messages
	SuppressSpam        SuppressionReason = "spam"        // reported a message as spam
	SuppressErasure     SuppressionReason = "erasure"     // the person's data was erased
	SuppressManual      SuppressionReason = "manual"      // an operator suppressed it
)

// Valid reports whether r is one of the reasons above.
func (r SuppressionReason) Valid() bool {
	switch r {
	case SuppressStop, SuppressUnsubscribe, SuppressBounce, SuppressSpam, SuppressErasure, SuppressManual:
		return true
	}
	return false
}

// Suppression is a contact that asked, or must, not be messaged again. Only
// the keyed hash of the normalised contact is kept (Key), never the contact:
// the list is permanent and outlives erasure, so it must not be a copy of
// anyone's phone number or email.
type Suppression struct {
	Key     string // SuppressionKey of the normalised contact
	Channel string // SuppressionSMS | SuppressionEmail
	Reason  SuppressionReason
	At      time.Time
}

// Suppressions is the permanent list checked at send time. Every call is a
// lookup or a single-document write by Key.
type Suppressions interface {
	// Suppress records s. It is idempotent: suppressing again for a reason
	// already held keeps the first time, and a contact suppressed for
	// several reasons stays suppressed until every one is gone. Suppressing
	// again after Unsuppress lifted the suppression starts afresh.
	Suppress(ctx context.Context, s *Suppression) error
	// Unsuppress is what a START reply does: it lifts only a SuppressStop
	// reason and reports whether there was one. A text can only undo what a
	// text did — a bounce, spam report, erasure or operator's suppression
	// stays, because START from a number proves nothing about those (the
	// number may have been recycled to someone else, or the person asked to
	// be forgotten through another door).
	Unsuppress(ctx context.Context, key string) (bool, error)
	// IsSuppressed reports whether key must not be messaged.
	IsSuppressed(ctx context.Context, key string) (bool, error)
	// SuppressedAmong returns the keys of keys that are suppressed (a batch
	// of recipients, a bulk-invite dry run).
	SuppressedAmong(ctx context.Context, keys []string) (map[string]bool, error)
	// Check is for a batch of sends about to go: its answers take in every
	// suppression recorded before Check returned, and most keys are
	// answered without a lookup of their own.
	Check(ctx context.Context) (SuppressionCheck, error)
	// Suppression returns the active suppression for key — its earliest
	// reason still held — or CodeNotFound.
	Suppression(ctx context.Context, key string) (*Suppression, error)
}

// SuppressionCheck answers IsSuppressed for one batch of sends
// (Suppressions.Check). Take one per batch, just before it is sent: a
// suppression recorded after the check was made may be missed.
type SuppressionCheck interface {
	IsSuppressed(ctx context.Context, key string) (bool, error)
}

// NormalizeContact returns the form of a contact that is hashed into a
// suppression key: an SMS contact must already be E.164 (what Twilio sends
// and what the roster stores, "+447700900123"); an email is trimmed and
// lower-cased. Anything else is CodeInvalid: guessing at a malformed
// contact could suppress, or fail to suppress, the wrong person.
func NormalizeContact(channel, contact string) (string, error) {
	contact = strings.TrimSpace(contact)
	switch channel {
	case SuppressionSMS:
		if !isE164(contact) {
			return "", Errorf(CodeInvalid, "not an E.164 phone number")
		}
		return contact, nil
	case SuppressionEmail:
		e := strings.ToLower(contact)
		if !isPlainEmail(e) {
			return "", Errorf(CodeInvalid, "not an email address")
		}
		return e, nil
	}
	return "", Errorf(CodeInvalid, "unknown suppression channel %q", channel)
}

// isE164 reports whether s is "+" then 7 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isPlainEmail is a shape check, not a validator: one "@" between a local
// part and a dotted domain, no spaces or control characters.
func isPlainEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(s) > 254 || strings.Contains(domain, "@") ||
		!strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// SuppressionKey is the stored key of a normalised contact: a keyed hash
// with its own purpose prefix, so it can never equal a hash kept for
// another use (invite codes, tokens, throttle keys).
func SuppressionKey(hashKey []byte, channel, normalized string) string {
	return KeyedHash(hashKey, "suppress:"+channel+":"+normalized)
}

// SuppressionKeyOf normalises contact and returns its key.
func SuppressionKeyOf(hashKey []byte, channel, contact string) (string, error) {
	n, err := NormalizeContact(channel, contact)
	if err != nil {
		return "", err
	}
	return SuppressionKey(hashKey, channel, n), nil
}

// SMSKeyword is what an inbound text asks for.
type SMSKeyword string

const (
	SMSKeywordNone   SMSKeyword = ""        // an ordinary reply
	SMSKeywordOptOut SMSKeyword = "opt_out" // stop texting me
	SMSKeywordOptIn  SMSKeyword = "opt_in"  // start again
	SMSKeywordHelp   SMSKeyword = "help"    // who are you, how do I stop
)

// smsKeywords are Twilio's default keywords. Twilio acts on them itself
// (blocking or unblocking the sender), so matching its list exactly keeps
// the suppression list and Twilio's block list in step.
var smsKeywords = map[string]SMSKeyword{
	"STOP": SMSKeywordOptOut, "UNSUBSCRIBE": SMSKeywordOptOut, "END": SMSKeywordOptOut, "QUIT": SMSKeywordOptOut,
	"STOPALL": SMSKeywordOptOut, "REVOKE": SMSKeywordOptOut, "OPTOUT": SMSKeywordOptOut, "CANCEL": SMSKeywordOptOut,
	"START": SMSKeywordOptIn, "YES": SMSKeywordOptIn, "UNSTOP": SMSKeywordOptIn,
	"HELP": SMSKeywordHelp, "INFO": SMSKeywordHelp,
}

// ClassifySMS reads an inbound text the way Twilio does: the whole body,
// trimmed, case-insensitive, must be a keyword. "stop please" is an
// ordinary reply — as it is to Twilio, which would go on delivering to
// that number.
func ClassifySMS(body string) SMSKeyword {
	return smsKeywords[asciiUpper(strings.TrimSpace(body))]
}

// asciiUpper upper-cases ASCII letters only: Unicode case mapping would
// turn "ſtop" or "quıt" into keywords that Twilio does not act on.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

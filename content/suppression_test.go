package content

import (
	"strings"
	"testing"
)

func TestNormalizeContact(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, channel, in, want string // want "" = refused
	}{
		{"E.164 mobile", SuppressionSMS, "+447700900123", "+447700900123"},
		{"surrounding space trimmed", SuppressionSMS, " +447700900123\n", "+447700900123"},
		{"US number", SuppressionSMS, "+14155550100", "+14155550100"},
		{"shortest E.164", SuppressionSMS, "+6834002", "+6834002"},
		{"15 digits", SuppressionSMS, "+123456789012345", "+123456789012345"},
		{"16 digits", SuppressionSMS, "+1234567890123456", ""},
		{"national format", SuppressionSMS, "07700 900123", ""},
		{"spaces inside", SuppressionSMS, "+44 7700 900123", ""},
		{"no plus", SuppressionSMS, "447700900123", ""},
		{"leading zero country code", SuppressionSMS, "+07700900123", ""},
		{"WhatsApp address", SuppressionSMS, "whatsapp:+447700900123", ""},
		{"short code", SuppressionSMS, "88022", ""},
		{"empty phone", SuppressionSMS, "", ""},
		{"email lower-cased and trimmed", SuppressionEmail, "  Sam.Parent@Example.COM ", "sam.parent@example.com"},
		{"plus addressing kept", SuppressionEmail, "sam+school@example.com", "sam+school@example.com"},
		{"no at", SuppressionEmail, "sam.example.com", ""},
		{"two ats", SuppressionEmail, "sam@home@example.com", ""},
		{"no domain dot", SuppressionEmail, "sam@localhost", ""},
		{"space inside", SuppressionEmail, "sam parent@example.com", ""},
		{"empty local part", SuppressionEmail, "@example.com", ""},
		{"phone as email", SuppressionEmail, "+447700900123", ""},
		{"email as phone", SuppressionSMS, "sam@example.com", ""},
		{"unknown channel", "push", "+447700900123", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NormalizeContact(c.channel, c.in)
			switch {
			case c.want == "" && err == nil:
				t.Errorf("NormalizeContact(%q, %q) = %q, want refusal", c.channel, c.in, got)
			case c.want == "" && !IsCode(err, CodeInvalid):
				t.Errorf("NormalizeContact(%q, %q): error %v, want CodeInvalid", c.channel, c.in, err)
			case c.want != "" && (err != nil || got != c.want):
				t.Errorf("NormalizeContact(%q, %q) = %q, %v; want %q", c.channel, c.in, got, err, c.want)
			}
		})
	}
}

func TestSuppressionKey(t *testing.T) {
	t.Parallel()
	key := []byte("k1")
	phone := SuppressionKey(key, SuppressionSMS, "+447700900123")
	cases := []struct {
		name  string
		other string
		same  bool
	}{
		{"deterministic", SuppressionKey(key, SuppressionSMS, "+447700900123"), true},
		{"depends on the hash key", SuppressionKey([]byte("k2"), SuppressionSMS, "+447700900123"), false},
		{"depends on the channel", SuppressionKey(key, SuppressionEmail, "+447700900123"), false},
		{"depends on the contact", SuppressionKey(key, SuppressionSMS, "+447700900124"), false},
		{"purpose-prefixed: not the bare keyed hash", KeyedHash(key, "+447700900123"), false},
		{"the same as keying the raw contact", mustKey(SuppressionKeyOf(key, SuppressionSMS, " +447700900123 ")), true},
	}
	for _, c := range cases {
		if (c.other == phone) != c.same {
			t.Errorf("%s: %q vs %q, want same=%v", c.name, c.other, phone, c.same)
		}
	}
	if len(phone) != 64 || strings.Contains(phone, "7700900123") {
		t.Errorf("key %q is not an opaque 256-bit hex hash", phone)
	}
	if a, b := mustKey(SuppressionKeyOf(key, SuppressionEmail, "Sam@Example.com")), mustKey(SuppressionKeyOf(key, SuppressionEmail, "sam@example.com")); a != b {
		t.Errorf("email case changes the key: %q vs %q", a, b)
	}
	if _, err := SuppressionKeyOf(key, SuppressionSMS, "07700 900123"); !IsCode(err, CodeInvalid) {
		t.Errorf("SuppressionKeyOf a national number: %v, want CodeInvalid", err)
	}
}

func mustKey(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestClassifySMS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body string
		want SMSKeyword
	}{
		{"STOP", SMSKeywordOptOut},
		{"stop ", SMSKeywordOptOut},
		{"Stop", SMSKeywordOptOut},
		{"\tsToP\n", SMSKeywordOptOut},
		{"STOPALL", SMSKeywordOptOut},
		{"unsubscribe", SMSKeywordOptOut},
		{"End", SMSKeywordOptOut},
		{"quit", SMSKeywordOptOut},
		{"revoke", SMSKeywordOptOut},
		{"OPTOUT", SMSKeywordOptOut},
		{"cancel", SMSKeywordOptOut},
		{"START", SMSKeywordOptIn},
		{" yes", SMSKeywordOptIn},
		{"Unstop", SMSKeywordOptIn},
		{"HELP", SMSKeywordHelp},
		{"info", SMSKeywordHelp},
		{"stop please", SMSKeywordNone},
		{"please stop", SMSKeywordNone},
		{"STOP.", SMSKeywordNone},
		{"S T O P", SMSKeywordNone},
		{"OPT OUT", SMSKeywordNone},
		{"yes please", SMSKeywordNone},
		{"Thanks, Ms Jones!", SMSKeywordNone},
		{"ſtop", SMSKeywordNone}, // Unicode case mapping would make this STOP; Twilio does not
		{"quıt", SMSKeywordNone},
		{"", SMSKeywordNone},
		{"   ", SMSKeywordNone},
	}
	for _, c := range cases {
		if got := ClassifySMS(c.body); got != c.want {
			t.Errorf("ClassifySMS(%q) = %q, want %q", c.body, got, c.want)
		}
	}
}

func TestSuppressionReasonValid(t *testing.T) {
	t.Parallel()
	for _, r := range []SuppressionReason{SuppressStop, SuppressUnsubscribe, SuppressBounce, SuppressSpam, SuppressErasure, SuppressManual} {
		if !r.Valid() {
			t.Errorf("%q not valid", r)
		}
	}
	for _, r := range []SuppressionReason{"", "STOP", "start", "complaint"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}

// Package twilio sends SMS through Twilio Programmable Messaging with the
// official twilio-go SDK, validates Twilio's webhook signatures and reads
// its status callbacks into notify.DeliveryEvents.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hometime-edu/hometime/notify"
)

// messagingServiceSID tells a messaging service from a sender, which may be
// an alphanumeric sender ID such as "MGSchool".
var messagingServiceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)

// DefaultTimeout bounds one create-message request when Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// Config configures a Sender.
type Config struct {
	AccountSID string // "AC…"
	AuthToken  string
	// From is the default sender number; MessagingServiceSID, when set, is
	// used instead (Twilio then picks the sender). An SMS's own From wins over
	// both; a From that is a messaging service SID ("MG" + 32 hex digits)
	// is sent as MessagingServiceSid.
	From                string
	MessagingServiceSID string
	StatusCallback      string // URL Twilio posts delivery status to
	// BaseURL replaces scheme, host and path prefix of every API call
	// (HOMETIME_TWILIO_BASE_URL): an edge/region host such as
	// https://api.dublin.ie1.twilio.com, or a local fake. Empty: api.twilio.com.
	BaseURL string
	Timeout time.Duration // per request; DefaultTimeout when 0
	// ValidityPeriod drops a message Twilio could not send in time (whole
	// seconds, 1 s to 36,000 s); 0 leaves Twilio's default.
	ValidityPeriod time.Duration
	// Transport carries the HTTP calls; nil uses notify.ProviderTransport,
	// owned by the Sender.
	Transport http.RoundTripper
	Now       func() time.Time // for Retry-After dates; time.Now when nil
}

// Sender is a notify.SMSSender backed by twilio-go. It is safe for
// concurrent use: each send builds its own SDK client over a shared
// connection pool, because the SDK neither takes a context nor exposes the
// response of a failed call.
type Sender struct {
	cfg  Config
	base *url.URL
	rt   http.RoundTripper
	now  func() time.Time
}

var _ notify.SMSSender = (*Sender)(nil)

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, errors.New("twilio: account SID and auth token are required")
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		return nil, errors.New("twilio: a default From number or MessagingServiceSID is required")
	}
	if cfg.ValidityPeriod < 0 || cfg.ValidityPeriod > 36000*time.Second {
		return nil, fmt.Errorf("twilio: validity period %s outside 1s..10h", cfg.ValidityPeriod)
	}
	s := &Sender{cfg: cfg, rt: cfg.Transport, now: cfg.Now}
	if cfg.BaseURL != "" {
		u, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("twilio: base URL %q must be absolute", cfg.BaseURL)
		}
		s.base = u
	}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = DefaultTimeout
	}
	if s.rt == nil {
		s.rt = notify.ProviderTransport()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// SendSMS creates one message. On success the Result carries the message
// SID and Twilio's segment count; on failure a *notify.SendError whose text
// never contains the number or the body.
func (s *Sender) SendSMS(ctx context.Context, m notify.SMS) notify.Result {
	res := notify.Result{Ref: m.Ref}
	if m.To == "" {
		res.Err = &notify.SendError{Kind: notify.KindRecipientInvalid, Code: "no_recipient",
			Err: fmt.Errorf("twilio send %s: empty To", m.Ref)}
		return res
	}
	if err := ctx.Err(); err != nil {
		res.Err = &notify.SendError{Kind: notify.KindTransient, Code: "canceled",
			Err: fmt.Errorf("twilio send %s: not sent: %w", m.Ref, err)}
		return res
	}

	params := &openapi.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetBody(m.Body)
	switch {
	case messagingServiceSID.MatchString(m.From):
		params.SetMessagingServiceSid(m.From)
	case m.From != "":
		params.SetFrom(m.From)
	case s.cfg.MessagingServiceSID != "":
		params.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	default:
		params.SetFrom(s.cfg.From)
	}
	if s.cfg.StatusCallback != "" {
		params.SetStatusCallback(callbackFor(s.cfg.StatusCallback, m.Ref))
	}
	if s.cfg.ValidityPeriod > 0 {
		params.SetValidityPeriod(int(s.cfg.ValidityPeriod / time.Second))
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	call := &callTransport{ctx: ctx, base: s.base, next: s.rt}
	msg, err := s.messagesAPI(call).CreateMessage(params)
	if err != nil {
		se := s.classify(call, err)
		se.Err = fmt.Errorf("twilio send %s: %w", m.Ref, se.Err)
		res.Err = se
		return res
	}
	if msg.Sid != nil {
		res.ProviderID = *msg.Sid
	}
	if msg.NumSegments != nil {
		// num_segments is a string on the wire; a missing or odd value must
		// not turn an accepted message into a failure.
		res.Segments, _ = strconv.Atoi(*msg.NumSegments)
	}
	return res
}

// messagesAPI builds the SDK's Api v2010 service for one call — the same
// service twilio.NewRestClientWithParams exposes as RestClient.Api, without
// building and linking the SDK's sixty other services. Edge and region are
// cleared so that the SDK's TWILIO_EDGE/TWILIO_REGION environment lookups
// cannot redirect traffic behind the configuration's back.
func (s *Sender) messagesAPI(call *callTransport) *openapi.ApiService {
	c := &client.Client{
		Credentials: client.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken),
		HTTPClient: &http.Client{
			Transport: call,
			// Like the SDK's default client: never follow a redirect with a POST.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(s.cfg.AccountSID)
	h := client.NewRequestHandler(c)
	h.Edge, h.Region = "", ""
	return openapi.NewApiService(h)
}

// callbackFor adds the message's ref to the status-callback URL, so a
// callback names its ledger entry without a lookup. Twilio signs the full
// URL, so the ref cannot be forged; refs are IDs, never personal data.
func callbackFor(base, ref string) string {
	if ref == "" {
		return base
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "ref=" + url.QueryEscape(ref)
}

// Package sendgrid sends email through the SendGrid v3 Mail Send API with
// the official sendgrid-go SDK, and verifies SendGrid's signed Event
// Webhook and reads it into notify.DeliveryEvents.
package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/mail"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sendgrid/rest"
	sendgridsdk "github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/internal/providerkit"
)

// SendGrid API hosts. HostEU keeps mail data in the EU (UK data residency);
// it needs an EU-pinned subuser's API key.
const (
	HostGlobal = "https://api.sendgrid.com"
	HostEU     = "https://api.eu.sendgrid.com"
)

// DefaultTimeout bounds one mail-send request (up to 1,000 recipients) when
// Config.Timeout is 0.
const DefaultTimeout = 30 * time.Second

const mailSendPath = "/v3/mail/send"

// Config configures a Sender.
type Config struct {
	APIKey string
	// Host is the API root (HOMETIME_SENDGRID_BASE_URL): HostGlobal when
	// empty, HostEU for EU data residency, or a local fake.
	Host     string
	From     string // verified sender address
	FromName string
	ReplyTo  string        // optional
	Timeout  time.Duration // per request; DefaultTimeout when 0
	// Transport carries the HTTP calls; nil uses notify.ProviderTransport,
	// owned by the Sender.
	Transport http.RoundTripper
	Now       func() time.Time // for rate-limit reset times; time.Now when nil
}

// Sender is a notify.EmailSender backed by sendgrid-go. It is safe for
// concurrent use.
//
// It builds requests with sendgrid.GetRequest and the SDK's mail types, but
// sends them through its own rest.Client rather than a *sendgrid.Client:
// sendgrid.Client.Send always goes through the package-level
// sendgrid.DefaultClient (no timeout), and setting a timeout there would be
// a racy global mutation. A rest.Client over our own http.Client is the
// SDK's own HTTP layer, safe for concurrent use, with per-request deadlines.
type Sender struct {
	cfg  Config
	host string
	http *rest.Client
	now  func() time.Time
}

var _ notify.EmailSender = (*Sender)(nil)

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sendgrid: API key is required")
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("sendgrid: From address: %w", err)
	}
	host := strings.TrimSuffix(cfg.Host, "/")
	if host == "" {
		host = HostGlobal
	}
	if u, err := url.Parse(host); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("sendgrid: host %q must be an absolute URL", cfg.Host)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	rt := cfg.Transport
	if rt == nil {
		rt = notify.ProviderTransport()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Sender{
		cfg:  cfg,
		host: host,
		http: &rest.Client{HTTPClient: &http.Client{
			Transport:     rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}},
		now: now,
	}, nil
}

// SendEmails sends any number of emails in as few requests as SendGrid
// allows, and returns one Result per email, in order.
//
// Emails that share Subject, Text, HTML and Category go in one request with
// one personalization each (to, custom_args {"ref": Ref}), up to
// notify.MaxEmailBatch per request; emails with different content go in
// separate requests, because content is per request in SGMailV3 (per-email
// content would need substitutions or dynamic templates — a later change).
// An address appears at most once per request, as SendGrid requires; a
// repeat goes in the next request. Requests are sent one after another.
//
// Addresses and content are checked before sending, because SendGrid
// rejects a whole request for one bad personalization. The ProviderID of
// each accepted email is the request's X-Message-Id, which prefixes the
// sg_message_id of its events; events are matched by ref.
//
// The returned error is non-nil only when every email failed with the same
// error (typically the single request failed); it is then also on each Result.
func (s *Sender) SendEmails(ctx context.Context, emails []notify.Email) ([]notify.Result, error) {
	results := make([]notify.Result, len(emails))
	var valid []int
	for i, e := range emails {
		results[i].Ref = e.Ref
		if err := checkEmail(e); err != nil {
			results[i].Err = err
			continue
		}
		valid = append(valid, i)
	}

	batches := packBatches(emails, valid)
	for n, b := range batches {
		msgID, err := s.post(ctx, s.buildMail(emails, b))
		if err != nil {
			err.Err = fmt.Errorf("sendgrid request %d of %d (%d emails): %w", n+1, len(batches), len(b), err.Err)
		}
		for _, i := range b {
			if err != nil {
				results[i].Err = err
				continue
			}
			results[i].ProviderID = msgID
		}
	}
	return results, commonError(results)
}

func checkEmail(e notify.Email) error {
	addr, err := mail.ParseAddress(e.To)
	if err != nil || addr.Address != strings.TrimSpace(e.To) {
		return &notify.SendError{Kind: notify.KindRecipientInvalid, Code: "invalid_address",
			Err: fmt.Errorf("sendgrid email %s: recipient is not a bare email address", e.Ref)}
	}
	if e.Subject == "" || (e.Text == "" && e.HTML == "") {
		return &notify.SendError{Kind: notify.KindPermanent, Code: "invalid_content",
			Err: fmt.Errorf("sendgrid email %s: subject and a text or HTML body are required", e.Ref)}
	}
	return nil
}

type contentKey struct{ subject, text, html, category string }

// packBatches groups the valid emails by content and splits each group into
// requests of at most MaxEmailBatch distinct addresses. Order is stable:
// groups by first appearance, emails in input order.
func packBatches(emails []notify.Email, valid []int) [][]int {
	var order []contentKey
	groups := map[contentKey][]int{}
	for _, i := range valid {
		e := emails[i]
		k := contentKey{e.Subject, e.Text, e.HTML, e.Category}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var out [][]int
	for _, k := range order {
		var batches [][]int
		var seen []map[string]bool
		for _, i := range groups[k] {
			addr := strings.ToLower(strings.TrimSpace(emails[i].To))
			placed := false
			for b := range batches {
				if len(batches[b]) < notify.MaxEmailBatch && !seen[b][addr] {
					batches[b] = append(batches[b], i)
					seen[b][addr] = true
					placed = true
					break
				}
			}
			if !placed {
				batches = append(batches, []int{i})
				seen = append(seen, map[string]bool{addr: true})
			}
		}
		out = append(out, batches...)
	}
	return out
}

func (s *Sender) buildMail(emails []notify.Email, batch []int) *sgmail.SGMailV3 {
	first := emails[batch[0]]
	m := sgmail.NewV3Mail()
	m.SetFrom(sgmail.NewEmail(s.cfg.FromName, s.cfg.From))
	if s.cfg.ReplyTo != "" {
		m.SetReplyTo(sgmail.NewEmail("", s.cfg.ReplyTo))
	}
	m.Subject = first.Subject
	// SendGrid requires text/plain before text/html.
	if first.Text != "" {
		m.AddContent(sgmail.NewContent("text/plain", first.Text))
	}
	if first.HTML != "" {
		m.AddContent(sgmail.NewContent("text/html", first.HTML))
	}
	if first.Category != "" {
		m.AddCategories(first.Category)
	}
	for _, i := range batch {
		p := sgmail.NewPersonalization()
		p.AddTos(sgmail.NewEmail("", strings.TrimSpace(emails[i].To)))
		if emails[i].Ref != "" {
			p.SetCustomArg("ref", emails[i].Ref)
		}
		m.AddPersonalizations(p)
	}
	return m
}

// post sends one mail-send request and returns the X-Message-Id or a
// classified error shared by every email in the request.
func (s *Sender) post(ctx context.Context, m *sgmail.SGMailV3) (string, *notify.SendError) {
	if err := ctx.Err(); err != nil {
		return "", &notify.SendError{Kind: notify.KindTransient, Code: "canceled", Err: fmt.Errorf("not sent: %w", err)}
	}
	body, err := json.Marshal(m)
	if err != nil {
		return "", &notify.SendError{Kind: notify.KindPermanent, Code: "encode", Err: fmt.Errorf("encode mail: %w", err)}
	}
	req := sendgridsdk.GetRequest(s.cfg.APIKey, mailSendPath, s.host)
	req.Method = rest.Post
	req.Body = body

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	resp, err := s.http.SendWithContext(ctx, req)
	switch {
	case resp != nil && resp.StatusCode >= 200 && resp.StatusCode < 300:
		// Accepted; a body read error after a 2xx changes nothing.
		return http.Header(resp.Headers).Get("X-Message-Id"), nil
	case resp != nil:
		return "", s.statusError(resp)
	case wrote.Load():
		return "", &notify.SendError{Kind: notify.KindAmbiguous, Code: providerkit.NetworkCode(err),
			Err: fmt.Errorf("request written, no answer: %w", err)}
	default:
		return "", &notify.SendError{Kind: notify.KindTransient, Code: providerkit.NetworkCode(err),
			Err: fmt.Errorf("request not sent: %w", err)}
	}
}

// commonError returns the error every result carries when they all carry
// the very same one.
func commonError(results []notify.Result) error {
	if len(results) == 0 {
		return nil
	}
	first := results[0].Err
	if first == nil {
		return nil
	}
	for _, r := range results[1:] {
		if r.Err != first {
			return nil
		}
	}
	return first
}

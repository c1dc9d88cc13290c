// Package fcm sends push notifications through Firebase Cloud Messaging
// (HTTP v1) with the official Firebase Admin SDK, firebase.google.com/go/v4.
package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/hometime-edu/hometime/notify"
)

// DefaultTimeout bounds one HTTP attempt for one message when
// Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// MaxPayload is FCM's limit on a message's payload (notification and
// data), in bytes. Larger pushes are refused before sending.
const MaxPayload = 4096

// scopes are what sending needs; the SDK's default list asks for far more.
var scopes = []string{
	"https://www.googleapis.com/auth/firebase.messaging",
	"https://www.googleapis.com/auth/cloud-platform",
}

// Config configures a Sender.
type Config struct {
	// ProjectID is the Firebase project; read from CredentialsFile when empty.
	ProjectID string
	// CredentialsFile is a service-account JSON file. Empty: Application
	// Default Credentials, unless WithoutAuth.
	CredentialsFile string
	// WithoutAuth sends no credentials: for local fakes and tests only.
	WithoutAuth bool
	// Endpoint replaces https://fcm.googleapis.com/v1 (HOMETIME_FCM_ENDPOINT),
	// e.g. a local fake's URL. The API's version path is added when the
	// value lacks it: "http://host:9000", "http://host:9000/" and
	// "http://host:9000/v1" all mean the same base.
	Endpoint string
	Timeout  time.Duration // per message attempt; DefaultTimeout when 0
	// Transport carries the HTTP calls; nil uses notify.ProviderTransport,
	// owned by the Sender.
	Transport http.RoundTripper
	Now       func() time.Time // for Retry-After dates; time.Now when nil
}

// batchSender is the part of *messaging.Client the Sender uses.
type batchSender interface {
	SendEach(ctx context.Context, messages []*messaging.Message) (*messaging.BatchResponse, error)
}

// Sender is a notify.PushSender backed by the Firebase Admin SDK. It is
// safe for concurrent use.
type Sender struct {
	client batchSender
	now    func() time.Time
}

var _ notify.PushSender = (*Sender)(nil)

// New builds the Firebase messaging client. The HTTP stack under it is
// ours: see guardTransport for why.
func New(ctx context.Context, cfg Config) (*Sender, error) {
	projectID := cfg.ProjectID
	if projectID == "" && cfg.CredentialsFile != "" {
		id, err := projectFromCredentials(cfg.CredentialsFile)
		if err != nil {
			return nil, err
		}
		projectID = id
	}
	if projectID == "" {
		return nil, errors.New("fcm: project ID is required")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	base := cfg.Transport
	if base == nil {
		base = notify.ProviderTransport()
	}

	authOpts := []option.ClientOption{option.WithScopes(scopes...)}
	switch {
	case cfg.WithoutAuth:
		authOpts = append(authOpts, option.WithoutAuthentication())
	case cfg.CredentialsFile != "":
		authOpts = append(authOpts, option.WithCredentialsFile(cfg.CredentialsFile))
	}
	rt, err := htransport.NewTransport(ctx, &guardTransport{next: base, timeout: timeout}, authOpts...)
	if err != nil {
		return nil, fmt.Errorf("fcm: credentials: %w", err)
	}

	opts := []option.ClientOption{option.WithHTTPClient(&http.Client{Transport: rt})}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(EndpointBase(cfg.Endpoint)))
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("fcm: app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: messaging client: %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Sender{client: client, now: now}, nil
}

// EndpointBase is the FCM v1 base URL for a configured endpoint, given with
// or without the version path: trailing slashes go, and "/v1" is added
// when the value does not end in it. The SDK joins "projects/…" to it.
func EndpointBase(endpoint string) string {
	base := strings.TrimRight(strings.TrimSpace(endpoint), "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	return base
}

func projectFromCredentials(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("fcm: read credentials: %w", err)
	}
	var f struct {
		ProjectID string `json:"project_id"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return "", fmt.Errorf("fcm: parse credentials: %w", err)
	}
	return f.ProjectID, nil
}

// SendPushes sends any number of pushes, notify.MaxPushBatch per SendEach
// call (the SDK makes one HTTP request per message inside), and returns one
// Result per push, in order. Pushes without a token or over MaxPayload are
// refused before sending: one invalid message fails a whole SendEach call.
//
// The returned error is non-nil only when every push failed with the same
// error; it is then also on each Result.
func (s *Sender) SendPushes(ctx context.Context, pushes []notify.Push) ([]notify.Result, error) {
	results := make([]notify.Result, len(pushes))
	var idx []int
	var msgs []*messaging.Message
	for i, p := range pushes {
		results[i].Ref = p.Ref
		m, err := buildMessage(p)
		if err != nil {
			results[i].Err = err
			continue
		}
		idx = append(idx, i)
		msgs = append(msgs, m)
	}

	for start := 0; start < len(msgs); start += notify.MaxPushBatch {
		end := min(start+notify.MaxPushBatch, len(msgs))
		s.sendBatch(ctx, msgs[start:end], idx[start:end], results)
	}
	return results, commonError(results)
}

func (s *Sender) sendBatch(ctx context.Context, msgs []*messaging.Message, idx []int, results []notify.Result) {
	fail := func(se *notify.SendError) {
		for _, i := range idx {
			results[i].Err = se
		}
	}
	if err := ctx.Err(); err != nil {
		fail(&notify.SendError{Kind: notify.KindTransient, Code: "canceled", Err: fmt.Errorf("fcm batch not sent: %w", err)})
		return
	}
	br, err := s.client.SendEach(ctx, msgs)
	if err != nil {
		// SendEach fails as a whole only on messages it will not send.
		fail(&notify.SendError{Kind: notify.KindPermanent, Code: "invalid_batch", Err: fmt.Errorf("fcm batch refused: %w", err)})
		return
	}
	if len(br.Responses) != len(msgs) {
		fail(&notify.SendError{Kind: notify.KindAmbiguous, Code: "bad_batch_response",
			Err: fmt.Errorf("fcm batch: %d responses for %d messages", len(br.Responses), len(msgs))})
		return
	}
	for j, r := range br.Responses {
		i := idx[j]
		if r.Success {
			results[i].ProviderID = r.MessageID
			continue
		}
		se := s.classify(r.Error)
		se.Err = fmt.Errorf("fcm push %s: %w", results[i].Ref, se.Err)
		results[i].Err = se
	}
}

func buildMessage(p notify.Push) (*messaging.Message, error) {
	if p.Token == "" {
		return nil, &notify.SendError{Kind: notify.KindRecipientInvalid, Code: "no_token",
			Err: fmt.Errorf("fcm push %s: empty device token", p.Ref)}
	}
	if n := PayloadSize(p); n > MaxPayload {
		return nil, &notify.SendError{Kind: notify.KindPermanent, Code: "payload_too_large",
			Err: fmt.Errorf("fcm push %s: payload %d bytes exceeds %d", p.Ref, n, MaxPayload)}
	}
	return &messaging.Message{
		Token:        p.Token,
		Notification: &messaging.Notification{Title: p.Title, Body: p.Body},
		Data:         maps.Clone(p.Data),
	}, nil
}

// PayloadSize measures a push the way it is checked against MaxPayload:
// the JSON of its notification and data, without the token.
func PayloadSize(p notify.Push) int {
	b, _ := json.Marshal(map[string]any{
		"notification": map[string]string{"title": p.Title, "body": p.Body},
		"data":         p.Data,
	})
	return len(b)
}

// commonError returns the error every result carries when they all carry
// the very same one.
func commonError(results []notify.Result) error {
	if len(results) == 0 || results[0].Err == nil {
		return nil
	}
	for _, r := range results[1:] {
		if r.Err != results[0].Err {
			return nil
		}
	}
	return results[0].Err
}

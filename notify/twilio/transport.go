package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
)

// errSecondAttempt stops anything below the SDK from sending the same POST
// twice: creating a message is not idempotent.
var errSecondAttempt = errors.New("refusing to repeat a non-idempotent create-message request")

// callTransport carries exactly one SDK request. It gives the request the
// caller's context (the SDK builds requests with context.Background), points
// it at the configured base URL, notes whether the request was fully written
// (which decides transient versus ambiguous when no answer comes) and keeps
// the response status and headers, which the SDK drops on errors.
type callTransport struct {
	ctx  context.Context
	base *url.URL
	next http.RoundTripper

	used   atomic.Bool
	wrote  atomic.Bool
	status int         // set synchronously inside RoundTrip
	header http.Header // idem
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.used.Swap(true) {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errSecondAttempt
	}
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				t.wrote.Store(true)
			}
		},
	}
	out := req.Clone(httptrace.WithClientTrace(t.ctx, trace))
	if t.base != nil {
		out.URL.Scheme = t.base.Scheme
		out.URL.Host = t.base.Host
		out.URL.Path = t.base.Path + out.URL.Path
		out.URL.RawPath = ""
		out.Host = ""
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	t.status, t.header = resp.StatusCode, resp.Header
	return resp, nil
}

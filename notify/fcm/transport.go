package fcm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/hometime-edu/hometime/notify/internal/providerkit"
)

// ambiguousHeader marks the answer guardTransport makes up when a request
// was written but no answer came back.
const ambiguousHeader = "X-Hometime-Ambiguous"

// guardTransport sits under the Firebase SDK (and under the auth layer). The
// SDK retries every network error, and it cannot tell a connection that
// failed before the request left from one that failed after: a retry of the
// latter may deliver the push twice. So:
//
//   - each attempt gets its own deadline (Timeout);
//   - an error before the request was fully written passes through, and the
//     SDK may retry it safely;
//   - an error after it was written (timeout, reset, caller cancel) becomes
//     a made-up 504 marked with ambiguousHeader, which the SDK does not
//     retry and classify turns into notify.KindAmbiguous;
//   - the body is read here, under the deadline, so that a failure while
//     reading it is handled the same way instead of being retried.
type guardTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		if wrote.Load() {
			return ambiguousResponse(req, err), nil
		}
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return ambiguousResponse(req, err), nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func ambiguousResponse(req *http.Request, cause error) *http.Response {
	code := providerkit.NetworkCode(cause)
	msg, _ := json.Marshal("request written, no answer: " + cause.Error())
	body := []byte(`{"error":{"code":504,"status":"DEADLINE_EXCEEDED","message":` + string(msg) + `}}`)
	return &http.Response{
		Status:        "504 Gateway Timeout",
		StatusCode:    http.StatusGatewayTimeout,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, ambiguousHeader: {code}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

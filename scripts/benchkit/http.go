package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Request is one HTTP request to send. Header is only read, never changed,
// so one map may be shared by many requests. Compression is off unless the
// request asks for it with an Accept-Encoding header.
type Request struct {
	Method string // GET when empty
	URL    string
	Header http.Header
	Body   []byte
}

// RequestFunc builds the request that worker (one connection) sends as its
// seq-th; workers call it concurrently. Taking the worker lets a benchmark
// give each connection its own user and token; seq lets it rotate ids.
type RequestFunc func(worker int, seq int64) Request

// httpOp sends requests with one http.Client per worker, each on a Transport
// limited to one connection, so a worker really owns one keep-alive
// connection and Dials shows whether the server kept them open.
type httpOp struct {
	next    RequestFunc
	clients []*http.Client
	dials   atomic.Int64
}

func newHTTPOp(workers int, next RequestFunc) *httpOp {
	h := &httpOp{next: next, clients: make([]*http.Client, workers)}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	for i := range h.clients {
		tr := &http.Transport{
			Proxy: nil, // benchmarks target the server directly, whatever the environment says
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				h.dials.Add(1)
				return dialer.DialContext(ctx, network, addr)
			},
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			// Transparent gzip would add client CPU to every measurement and
			// hide what the server was asked to do.
			DisableCompression: true,
		}
		h.clients[i] = &http.Client{
			Transport: tr,
			// A redirect is an answer worth counting, not something to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return h
}

func (h *httpOp) do(ctx context.Context, worker int, seq int64) error {
	r := h.next(worker, seq)
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body) // sets ContentLength and GetBody for retries
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if r.Header != nil {
		req.Header = r.Header
	}
	resp, err := h.clients[worker].Do(req)
	if err != nil {
		return err // already names method and URL
	}
	// Reading to the end is what lets the connection be reused.
	_, readErr := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Code: resp.StatusCode}
	}
	if readErr != nil {
		return fmt.Errorf("read %s %s response: %w", method, req.URL.Path, readErr)
	}
	return nil
}

func (h *httpOp) close() {
	for _, c := range h.clients {
		c.CloseIdleConnections()
	}
}

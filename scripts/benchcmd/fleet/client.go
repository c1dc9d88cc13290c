package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// balancer is the load generator's view of the API fleet, as a load
// balancer in front of it would behave: each request goes to the API its
// sequence number picks, and a request that could not even be delivered
// (the connection was refused: the process is down) is sent to the other
// API instead. A request that was delivered and then lost its answer is
// not retried — the balancer cannot know whether it took effect — and
// counts as an error of the API it was sent to.
type balancer struct {
	bases   []string
	clients []*http.Client
	// per API: requests answered, errors (transport or 5xx), reroutes away
	answered []atomic.Int64
	errs     []atomic.Int64
	rerouted []atomic.Int64
	mu       sync.Mutex
	firstErr []error
}

func newBalancer(bases []string, conns int) *balancer {
	b := &balancer{bases: bases, answered: make([]atomic.Int64, len(bases)), errs: make([]atomic.Int64, len(bases)),
		rerouted: make([]atomic.Int64, len(bases)), firstErr: make([]error, len(bases))}
	for range bases {
		b.clients = append(b.clients, &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	}
	return b
}

type call struct {
	method, path, token, ctype string
	body                       []byte
	want                       int
}

// do sends c to API pick (and to the other on a refused connection) and
// returns the body of an answer with the wanted status.
func (b *balancer) do(ctx context.Context, pick int, c call) ([]byte, error) {
	for try := 0; try < len(b.bases); try++ {
		i := (pick + try) % len(b.bases)
		out, err := b.send(ctx, i, c)
		if err != nil && refused(err) {
			b.rerouted[i].Add(1)
			continue
		}
		var se *statusErr
		if err != nil && (!errors.As(err, &se) || se.code >= 500) {
			b.errs[i].Add(1)
			b.mu.Lock()
			if b.firstErr[i] == nil {
				b.firstErr[i] = fmt.Errorf("%s %s: %w", c.method, c.path, err)
			}
			b.mu.Unlock()
		} else if err == nil {
			b.answered[i].Add(1)
		}
		return out, err
	}
	return nil, errors.New("every API refused the connection")
}

type statusErr struct {
	code int
	body string
}

func (e *statusErr) Error() string { return fmt.Sprintf("status %d: %.200s", e.code, e.body) }

func (b *balancer) send(ctx context.Context, i int, c call) ([]byte, error) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, b.bases[i]+c.path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.body != nil {
		ct := c.ctype
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := b.clients[i].Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	want := c.want
	if want == 0 {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		return out, &statusErr{code: resp.StatusCode, body: string(out)}
	}
	return out, nil
}

// refused reports a request that never reached a server: the dial failed.
func refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

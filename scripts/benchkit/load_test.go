package benchkit_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
)

// countingServer answers 204 after delay (503 on /fail) and counts the
// requests it saw; it checks that each carries the token of the connection
// that sent it, which is what RequestFunc's worker argument is for.
func countingServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer w"+r.URL.Query().Get("w") {
			http.Error(w, "wrong token", http.StatusUnauthorized)
			return
		}
		time.Sleep(delay)
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// tokenPerWorker sends every fifth request of each worker to /fail when
// failEvery5 is set.
func tokenPerWorker(base string, failEvery5 bool) benchkit.RequestFunc {
	return func(worker int, seq int64) benchkit.Request {
		path := "/ok"
		if failEvery5 && seq%5 == 0 {
			path = "/fail"
		}
		return benchkit.Request{
			Method: http.MethodPost,
			URL:    fmt.Sprintf("%s%s?w=%d", base, path, worker),
			Header: http.Header{"Authorization": {"Bearer w" + strconv.Itoa(worker)}},
			Body:   []byte(`{"n":1}`),
		}
	}
}

func assertOrdered(t *testing.T, l benchkit.Latency) {
	t.Helper()
	if l.N == 0 || l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Errorf("percentiles not ordered: %+v", l)
	}
}

func TestClosedHTTP(t *testing.T) {
	ctx := context.Background()

	t.Run("count mode sends exactly Count requests on one connection per worker", func(t *testing.T) {
		srv, hits := countingServer(t, 0)
		res, err := benchkit.Closed{Workers: 4, Count: 400}.RunHTTP(ctx, tokenPerWorker(srv.URL, false))
		if err != nil {
			t.Fatal(err)
		}
		if res.Count != 400 || res.OK != 400 || res.Failed() != 0 || hits.Load() != 400 {
			t.Errorf("count=%d ok=%d failed=%d server saw %d, want 400/400/0/400 (%v)", res.Count, res.OK, res.Failed(), hits.Load(), res)
		}
		if res.Dials != 4 {
			t.Errorf("dials = %d, want 4: connections were not kept alive", res.Dials)
		}
		if res.Latency.N != 400 || res.Rate <= 0 {
			t.Errorf("latency n=%d rate=%f", res.Latency.N, res.Rate)
		}
		assertOrdered(t, res.Latency)
	})

	t.Run("non-2xx counted by status, not as successes", func(t *testing.T) {
		srv, _ := countingServer(t, 0)
		res, err := benchkit.Closed{Workers: 2, Count: 100}.RunHTTP(ctx, tokenPerWorker(srv.URL, true))
		if err != nil {
			t.Fatal(err)
		}
		failed := res.Status[http.StatusServiceUnavailable]
		if failed < 18 || failed > 22 || res.OK+failed != 100 || res.Errors != 0 || len(res.Status) != 1 {
			t.Errorf("ok=%d status=%v errors=%d, want about 20 × 503 and the rest ok", res.OK, res.Status, res.Errors)
		}
		if int64(res.Latency.N) != res.OK {
			t.Errorf("latency sample %d, want only the %d successes", res.Latency.N, res.OK)
		}
	})

	t.Run("transport errors counted with a sample", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		res, err := benchkit.Closed{Workers: 2, Count: 10, Timeout: time.Second}.RunHTTP(ctx, tokenPerWorker("http://"+addr, false))
		if err != nil {
			t.Fatal(err)
		}
		if res.Errors != 10 || res.OK != 0 || res.FirstErr == nil || res.Rate != 0 {
			t.Errorf("errors=%d ok=%d first=%v rate=%f, want 10 errors", res.Errors, res.OK, res.FirstErr, res.Rate)
		}
	})

	t.Run("20ms handler: p50 at least 20ms, warm-up excluded, rate within capacity", func(t *testing.T) {
		srv, hits := countingServer(t, 20*time.Millisecond)
		res, err := benchkit.Closed{Workers: 4, Duration: 200 * time.Millisecond, Warmup: 60 * time.Millisecond}.
			RunHTTP(ctx, tokenPerWorker(srv.URL, false))
		if err != nil {
			t.Fatal(err)
		}
		if res.Latency.P50 < 20*time.Millisecond {
			t.Errorf("p50 = %s, want ≥ 20ms", res.Latency.P50)
		}
		assertOrdered(t, res.Latency)
		if hits.Load() <= res.Count+4 {
			t.Errorf("server saw %d, measured %d: warm-up requests were counted", hits.Load(), res.Count)
		}
		// 4 connections × 1/20ms is the most this server can do.
		if res.Rate > 4/0.020*1.05 || res.Rate < 4/0.020*0.5 {
			t.Errorf("rate = %.0f/s, want ≤ 200/s and not far below", res.Rate)
		}
		if res.Failed() != 0 {
			t.Errorf("failures: %v", res)
		}
	})

	t.Run("bad config refused", func(t *testing.T) {
		for _, c := range []benchkit.Closed{{Workers: 0, Count: 1}, {Workers: 1}, {Workers: 1, Count: 1, Duration: time.Second}} {
			if _, err := c.RunHTTP(ctx, tokenPerWorker("http://x", false)); err == nil {
				t.Errorf("%+v accepted", c)
			}
		}
	})
}

func TestOpenHTTP(t *testing.T) {
	ctx := context.Background()

	t.Run("fast handler: rate achieved", func(t *testing.T) {
		srv, hits := countingServer(t, 0)
		load := benchkit.Open{Rate: 1000, Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond, MaxInFlight: 16}
		res, err := load.RunHTTP(ctx, tokenPerWorker(srv.URL, false))
		if err != nil {
			t.Fatal(err)
		}
		if res.Count != 400 || res.OK != 400 || hits.Load() != 500 {
			t.Errorf("count=%d ok=%d server saw %d, want 400/400/500 (%v)", res.Count, res.OK, hits.Load(), res)
		}
		if math.Abs(res.Rate-1000)/1000 > 0.10 {
			t.Errorf("achieved %.0f/s, want 1000/s ± 10%%", res.Rate)
		}
		if res.Dials > 16 {
			t.Errorf("dials = %d, want ≤ MaxInFlight 16", res.Dials)
		}
		assertOrdered(t, res.Latency)
	})

	t.Run("20ms handler: p50 at least 20ms at the asked rate", func(t *testing.T) {
		srv, _ := countingServer(t, 20*time.Millisecond)
		load := benchkit.Open{Rate: 100, Duration: 300 * time.Millisecond, MaxInFlight: 8}
		res, err := load.RunHTTP(ctx, tokenPerWorker(srv.URL, false))
		if err != nil {
			t.Fatal(err)
		}
		if res.Latency.P50 < 20*time.Millisecond {
			t.Errorf("p50 = %s, want ≥ 20ms", res.Latency.P50)
		}
		assertOrdered(t, res.Latency)
		if res.OK != 30 || math.Abs(res.Rate-100)/100 > 0.15 {
			t.Errorf("ok=%d rate=%.0f/s, want 30 at 100/s ± 15%%", res.OK, res.Rate)
		}
	})
}

// sleepOp stands for a server that handles one request at a time in 20ms.
func sleepOp(ctx context.Context, _ int, _ int64) error {
	select {
	case <-time.After(20 * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestOpenNoCoordinatedOmission(t *testing.T) {
	ctx := context.Background()

	t.Run("queueing delay is part of the latency", func(t *testing.T) {
		// 100/s offered to something that does 50/s: the k-th request waits
		// about 10ms·k before it is even sent. A generator that timed from the
		// send would report 20ms throughout.
		res, err := benchkit.Open{Rate: 100, Duration: 200 * time.Millisecond, MaxInFlight: 1, Timeout: time.Second}.Run(ctx, sleepOp)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK != 20 || res.Latency.P50 < 60*time.Millisecond || res.Latency.Max < 150*time.Millisecond {
			t.Errorf("ok=%d p50=%s max=%s, want 20 with p50 ≥ 60ms and max ≥ 150ms", res.OK, res.Latency.P50, res.Latency.Max)
		}
		if res.Rate > 55 {
			t.Errorf("achieved %.0f/s, but the op only does 50/s", res.Rate)
		}
	})

	t.Run("backlog abandoned after Timeout counts as missed", func(t *testing.T) {
		res, err := benchkit.Open{Rate: 100, Duration: 200 * time.Millisecond, MaxInFlight: 1, Timeout: 60 * time.Millisecond}.Run(ctx, sleepOp)
		if err != nil {
			t.Fatal(err)
		}
		if res.Missed == 0 || res.Count != 20 || res.OK+res.Failed() != 20 {
			t.Errorf("count=%d ok=%d missed=%d failed=%d, want some missed out of 20", res.Count, res.OK, res.Missed, res.Failed())
		}
	})
}

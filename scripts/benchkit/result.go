// Package benchkit is the shared toolkit of the benchmarks in scripts/bench:
// closed-loop and open-loop load generators (generic, HTTP and a document
// store reference), process resource readings and a Report that prints the
// headline figures last, one per line, as "name value unit".
//
// Every load figure describes successful operations only; failures are
// counted separately so a benchmark can refuse to report a run that failed
// instead of publishing the speed of fast error responses.
package benchkit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Op performs one operation on behalf of worker (0 ≤ worker < workers);
// seq counts that worker's operations from 0. It returns nil on success, a
// *StatusError for a well-formed refusal (an HTTP non-2xx response) and any
// other error for a failure without a status. ctx carries the per-operation
// timeout.
type Op func(ctx context.Context, worker int, seq int64) error

// StatusError reports an operation that got an answer, but not a success.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("status %d", e.Code) }

// Result is what one load run measured after its warm-up.
type Result struct {
	Count    int64         // operations started in the measured window (open loop: scheduled in it)
	OK       int64         // of which succeeded
	Errors   int64         // of which failed without a status (transport, timeout, not found)
	Status   map[int]int64 // of which were refused, by status code
	Missed   int64         // open loop only: scheduled in the window but never sent (backlog abandoned)
	FirstErr error         // one failure, to say why a run failed
	Dials    int64         // HTTP only: connections opened, warm-up included
	Elapsed  time.Duration // measured window, stretched to the last measured completion
	Rate     float64       // OK per second of Elapsed
	Latency  Latency       // of the OK operations
}

// Failed counts every measured operation that did not succeed or never ran.
func (r Result) Failed() int64 {
	n := r.Errors + r.Missed
	for _, c := range r.Status {
		n += c
	}
	return n
}

// String is a one-line summary for progress logs (the headline goes through Report).
func (r Result) String() string {
	s := fmt.Sprintf("%.0f/s ok=%d failed=%d in %s; p50=%sms p90=%sms p99=%sms max=%sms",
		r.Rate, r.OK, r.Failed(), r.Elapsed.Round(time.Millisecond),
		fmtMillis(r.Latency.P50), fmtMillis(r.Latency.P90), fmtMillis(r.Latency.P99), fmtMillis(r.Latency.Max))
	if len(r.Status) > 0 {
		s += fmt.Sprintf(" status=%v", r.Status)
	}
	if r.FirstErr != nil {
		s += fmt.Sprintf(" first error: %v", r.FirstErr)
	}
	return s
}

// Latency summarises a sample of durations.
type Latency struct {
	N                        int
	Mean, P50, P90, P99, Max time.Duration
}

// Percentiles sorts samples in place and summarises them with nearest-rank
// percentiles: exact, and cheap enough up to a few million samples.
func Percentiles(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	return Latency{
		N:    len(samples),
		Mean: sum / time.Duration(len(samples)),
		P50:  rank(samples, 50),
		P90:  rank(samples, 90),
		P99:  rank(samples, 99),
		Max:  samples[len(samples)-1],
	}
}

// rank is the nearest-rank percentile p of sorted samples.
func rank(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted) + 99) / 100 // ceil(p/100 · n)
	return sorted[max(i-1, 0)]
}

// tally is one worker's private record, merged once the run ends so that
// recording never contends.
type tally struct {
	lat      []time.Duration
	count    int64
	errors   int64
	status   map[int]int64
	firstErr error
	lastDone time.Time
}

func (t *tally) add(latency time.Duration, done time.Time, err error) {
	t.count++
	if done.After(t.lastDone) {
		t.lastDone = done
	}
	if err == nil {
		t.lat = append(t.lat, latency)
		return
	}
	if t.firstErr == nil {
		t.firstErr = err
	}
	var se *StatusError
	if errors.As(err, &se) {
		if t.status == nil {
			t.status = make(map[int]int64)
		}
		t.status[se.Code]++
		return
	}
	t.errors++
}

// merge combines the workers' tallies. The window runs from measureFrom for at
// least minWindow and stretches to the last measured completion, so slow
// operations that finish after the nominal end are not credited to a window
// they did not fit in.
func merge(tallies []tally, measureFrom time.Time, minWindow time.Duration) Result {
	var r Result
	var all []time.Duration
	n := 0
	for i := range tallies {
		n += len(tallies[i].lat)
	}
	all = make([]time.Duration, 0, n)
	last := measureFrom.Add(minWindow)
	for i := range tallies {
		t := &tallies[i]
		r.Count += t.count
		r.Errors += t.errors
		all = append(all, t.lat...)
		for code, c := range t.status {
			if r.Status == nil {
				r.Status = make(map[int]int64)
			}
			r.Status[code] += c
		}
		if r.FirstErr == nil {
			r.FirstErr = t.firstErr
		}
		if t.lastDone.After(last) {
			last = t.lastDone
		}
	}
	r.OK = int64(len(all))
	r.Latency = Percentiles(all)
	r.Elapsed = last.Sub(measureFrom)
	if r.Elapsed > 0 {
		r.Rate = float64(r.OK) / r.Elapsed.Seconds()
	}
	return r
}

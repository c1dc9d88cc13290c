package benchkit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
)

func TestPercentiles(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[len(hundred)-1-i] = ms(i + 1) // reversed: Percentiles must sort
	}
	tests := []struct {
		name    string
		samples []time.Duration
		want    benchkit.Latency
	}{
		{"empty", nil, benchkit.Latency{}},
		{"one", []time.Duration{ms(7)}, benchkit.Latency{N: 1, Mean: ms(7), P50: ms(7), P90: ms(7), P99: ms(7), Max: ms(7)}},
		{"1..100ms", hundred, benchkit.Latency{N: 100, Mean: 50*time.Millisecond + 500*time.Microsecond, P50: ms(50), P90: ms(90), P99: ms(99), Max: ms(100)}},
		{"1..10ms", []time.Duration{ms(3), ms(1), ms(2), ms(10), ms(4), ms(5), ms(9), ms(6), ms(7), ms(8)},
			benchkit.Latency{N: 10, Mean: 5*time.Millisecond + 500*time.Microsecond, P50: ms(5), P90: ms(9), P99: ms(10), Max: ms(10)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := benchkit.Percentiles(tc.samples); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReport(t *testing.T) {
	var rep benchkit.Report
	rep.Load("api_me", benchkit.Result{
		Rate:    1834.4,
		Status:  map[int]int64{503: 2},
		Errors:  1,
		Latency: benchkit.Latency{P50: 1234 * time.Microsecond, P90: 2 * time.Millisecond, P99: 20*time.Millisecond + 5*time.Microsecond, Max: 150 * time.Millisecond},
	}, "req/s")
	rep.Usage("server", benchkit.Usage{PeakRSS: 52 << 20, User: 1500 * time.Millisecond, System: 250 * time.Millisecond})
	rep.Count("seeded docs", 50000, "docs")
	rep.Value("ratio", 1.23456, 2, "")
	var out strings.Builder
	if err := rep.Print(&out); err != nil {
		t.Fatal(err)
	}
	want := `api_me_rps 1834 req/s
api_me_p50 1.23 ms
api_me_p90 2.00 ms
api_me_p99 20.00 ms
api_me_max 150.00 ms
api_me_failed 3 count
server_peak_rss 52.0 MiB
server_cpu 1.75 s
seeded_docs 50000 docs
ratio 1.23 -
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

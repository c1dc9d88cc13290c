package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/scripts/benchkit/benchapi"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

type benchOptions struct {
	conns       int
	duration    time.Duration
	warmup      time.Duration
	families    int
	classes     int
	assignments int
	rate        float64
	limit       int
	profile     string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o benchOptions
	fs := flag.NewFlagSet("bench-feed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.IntVar(&o.conns, "conns", 64, "connections (and store goroutines) of the closed-loop phases; parents signed in")
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "measured time per load phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each load phase")
	fs.IntVar(&o.families, "families", 1000, "families, one child each")
	fs.IntVar(&o.classes, "classes", 30, "classes the children are spread over")
	fs.IntVar(&o.assignments, "assignments", 3000, "assignments over the year, spread over the classes")
	fs.Float64Var(&o.rate, "rate", 100, "requests per second of the open-loop phase")
	fs.IntVar(&o.limit, "limit", 20, "items per feed page")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the closed-loop feed phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.conns < 1 || o.families < o.conns || o.classes < 1 || o.assignments < o.classes {
		return fmt.Errorf("need -conns ≥ 1, -families ≥ conns, -classes ≥ 1 and -assignments ≥ classes")
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stdout, "# "+format+"\n", a...) }

	srv, err := benchapi.Start(ctx, "feed", getenv)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			progress("shutdown: %v", err)
		}
	}()
	progress("API on %s, store %s, redis %s", srv.BaseURL, srv.StoreKind, srv.RedisKind)

	began := time.Now()
	fams, items, err := seed(ctx, srv.Stack.Store, school{families: o.families, classes: o.classes, assignments: o.assignments}, progress)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	progress("seeded %d feed items for %d children in %s", items, len(fams), time.Since(began).Round(time.Millisecond))

	// One parent per connection, each reading their own child's feed.
	signed := fams[:o.conns]
	tokens, err := srv.SignIn(ctx, emailsOf(signed), benchPassword, 4)
	if err != nil {
		return err
	}
	headers := make([]http.Header, len(tokens))
	urls := make([]string, len(tokens))
	for i, t := range tokens {
		headers[i] = http.Header{"Authorization": {"Bearer " + t}}
		urls[i] = fmt.Sprintf("%s/v1/children/%s/feed?limit=%d", srv.BaseURL, signed[i].childID, o.limit)
	}
	if err := checkFeed(ctx, urls[0], headers[0], o.limit); err != nil {
		return err
	}

	closed := benchkit.Closed{Workers: o.conns, Duration: o.duration, Warmup: o.warmup}
	stopProfile, err := benchkit.StartCPUProfile(o.profile)
	if err != nil {
		return err
	}
	feed, err := measure(progress, "GET /v1/children/{id}/feed", func() (benchkit.Result, error) {
		return closed.RunHTTP(ctx, func(worker int, _ int64) benchkit.Request {
			return benchkit.Request{URL: urls[worker%len(urls)], Header: headers[worker%len(headers)]}
		})
	})
	stopProfile()
	if err != nil {
		return err
	}

	ids := make([]string, len(fams))
	for i, f := range fams {
		ids[i] = f.parentID
	}
	store, err := measure(progress, "store FindOne by _id", func() (benchkit.Result, error) {
		return findByID(ctx, closed, srv.Stack.MongoClient().Database(srv.Stack.Config.Database).Collection("parents"), ids)
	})
	if err != nil {
		return err
	}

	var next atomic.Int64
	open := benchkit.Open{Rate: o.rate, Duration: o.duration, Warmup: o.warmup, MaxInFlight: o.conns}
	paced, err := measure(progress, fmt.Sprintf("GET feed at %.0f req/s (open loop)", o.rate), func() (benchkit.Result, error) {
		return open.RunHTTP(ctx, func(int, int64) benchkit.Request {
			i := int(next.Add(1)-1) % len(urls)
			return benchkit.Request{URL: urls[i], Header: headers[i]}
		})
	})
	if err != nil {
		return err
	}

	var rep benchkit.Report
	rep.Millis("feed_p50_ms", feed.Latency.P50)
	rep.Millis("store_get_by_id_p50_ms", store.Latency.P50)
	rep.Millis("store_get_by_id_p99_ms", store.Latency.P99)
	rep.Millis("feed_p50_at_100rps_ms", paced.Latency.P50)
	rep.Rate("feed_rps", feed.Rate, "req/s")
	rep.Rate("store_get_by_id_rps", store.Rate, "ops/s")
	rep.Value("feed_vs_store_pct", 100*feed.Rate/store.Rate, 1, "%")
	rep.Millis("feed_p99_ms", feed.Latency.P99)
	rep.Millis("feed_p99_at_100rps_ms", paced.Latency.P99)
	return rep.Print(stdout)
}

// measure runs one phase, says how busy the machine was, and refuses a run
// with any failure: the speed of errors is not worth publishing.
func measure(progress func(string, ...any), name string, load func() (benchkit.Result, error)) (benchkit.Result, error) {
	before, err := benchkit.SelfUsage()
	if err != nil {
		return benchkit.Result{}, err
	}
	busy := machineBusy()
	began := time.Now()
	res, err := load()
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	after, err := benchkit.SelfUsage()
	if err != nil {
		return res, err
	}
	wall := time.Since(began).Seconds()
	cpu := (after.CPU() - before.CPU()).Seconds()
	others := "unknown"
	if b, a := busy, machineBusy(); b >= 0 && a >= 0 {
		others = fmt.Sprintf("%.2f", max((a-b).Seconds()-cpu, 0)/wall)
	}
	progress("%s: %v; cores used: this process %.2f, others %s (of %d)", name, res, cpu/wall, others, runtime.NumCPU())
	if res.Failed() > 0 || res.OK == 0 {
		return res, fmt.Errorf("%s: %d of %d operations failed, first: %v", name, res.Failed(), res.Count, res.FirstErr)
	}
	return res, nil
}

// machineBusy is the CPU time every process has used since boot, or -1.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	for i, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return -1
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / 100
}

// findByID is the reference: FindOne({_id}) by string id on the stack's own
// driver client (the one the API reads through), Raw, no decoding.
func findByID(ctx context.Context, load benchkit.Closed, coll *mongo.Collection, ids []string) (benchkit.Result, error) {
	n := int64(len(ids))
	workers := int64(max(load.Workers, 1))
	return load.Run(ctx, func(ctx context.Context, worker int, seq int64) error {
		id := ids[(int64(worker)*n/workers+seq)%n]
		if _, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw(); err != nil {
			return fmt.Errorf("find %s by id: %w", id, err)
		}
		return nil
	})
}

// checkFeed makes sure the feed answers a full page, newest first, before
// it is timed, so a benchmark of 404s or empty pages is caught here.
func checkFeed(ctx context.Context, url string, h http.Header, limit int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header = h.Clone()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("check feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("check feed: status %d", resp.StatusCode)
	}
	var page struct {
		Items []struct {
			At    time.Time `json:"at"`
			State string    `json:"state"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return fmt.Errorf("check feed: %w", err)
	}
	if len(page.Items) != limit || page.NextCursor == "" || page.Items[0].State != "seen" || page.Items[0].At.Before(page.Items[1].At) {
		return fmt.Errorf("check feed: %d items (want %d), cursor %q, first state %q", len(page.Items), limit, page.NextCursor, page.Items[0].State)
	}
	return nil
}

func emailsOf(fams []family) []string {
	out := make([]string, len(fams))
	for i, f := range fams {
		out[i] = f.email
	}
	return out
}

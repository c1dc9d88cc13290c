package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium, headless, against the real
// program in dev mode (run --demo: embedded store, the worker in-process,
// the outbox), the same stack the README's run command starts. Screenshots
// go to $HOMETIME_SCREENSHOTS, else .hometime/screenshots at the
// repository's root. Every screen visited is checked with axe-core.

// chromiumPath finds the browser: $HOMETIME_CHROMIUM, else Chromium or
// Chrome on the PATH.
func chromiumPath() string {
	if p := os.Getenv("HOMETIME_CHROMIUM"); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

var missingOnce sync.Once

// needBrowser skips (fails under CI=true) when there is no Chromium.
func needBrowser(t *testing.T) string {
	t.Helper()
	p := chromiumPath()
	if p != "" {
		return p
	}
	msg := "no Chromium found (install Debian's chromium: apt-get install chromium, or set HOMETIME_CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: the browser tests need a browser: %s", msg)
	}
	missingOnce.Do(func() {
		fmt.Fprintf(os.Stderr, "\n%s\n!!! BROWSER TESTS SKIPPED: %s\n%s\n\n", strings.Repeat("!", 78), msg, strings.Repeat("!", 78))
	})
	t.Skip("BROWSER TESTS SKIPPED: " + msg)
	return ""
}

// demoStack runs the program with --demo on a free port and returns its
// base URL and data dir; it stops when the test ends.
func demoStack(t *testing.T) (base, dir string) {
	t.Helper()
	dir = t.TempDir()
	addr := freeAddr(t)
	env := map[string]string{"HOMETIME_DATA_DIR": dir, "HOMETIME_HTTP_ADDR": addr, "HOMETIME_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--demo"}, func(k string) string { return env[k] }, out) }()
	base = "http://" + addr
	waitFor(t, "healthz", serving(t, base, done, out))
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not shut down")
		}
	})
	return base, dir
}

// browserTimeZone is the browsers' own time zone.
const browserTimeZone = "Pacific/Auckland"

// browser is one headless Chromium tab on a fresh profile.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	axe   string
	// axeCounts: per screen, violations by impact.
	axeCounts map[string]map[string]int
	// consoleErrors are JavaScript errors and CSP violations the page
	// reported.
	mu            sync.Mutex
	consoleErrors []string
	// expected: failed loads a test provokes on purpose (an API field
	// error), by the request's method-less path.
	expected []string
}

// expectFailedLoad lets a failed request to path (a 4xx the test provokes)
// pass without failing the test.
func (b *browser) expectFailedLoad(path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = append(b.expected, path)
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := needBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-GB"),
		// A browser far from the demo school's Europe/London: the app
		// must show the school's times, not the browser's.
		chromedp.Env("TZ=" + browserTimeZone),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, base: base, axeCounts: map[string]map[string]int{}}
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	// Uncaught exceptions, console errors and the browser's own errors (a
	// CSP refusal is one) fail the test when it ends.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// The app's first call tries to restore a session from the
			// refresh cookie; without one the answer is 401, which the
			// browser logs as a failed load. That one is expected.
			if m.Source == "network" && strings.Contains(m.URL, "/v1/auth/web/refresh") {
				continue
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				if m.Source == "network" && slices.ContainsFunc(b.expected, func(p string) bool { return strings.HasSuffix(m.URL, p) }) {
					b.mu.Unlock()
					continue
				}
				b.consoleErrors = append(b.consoleErrors, m.String()+" ("+m.URL+")")
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.consoleErrors {
			t.Errorf("browser console: %s", e)
		}
	})
	b.shots = os.Getenv("HOMETIME_SCREENSHOTS")
	if b.shots == "" {
		b.shots = filepath.Join("..", "..", "..", ".hometime", "screenshots") // the repository root
	}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core (scripts/web-vendor fetches it): %v", err)
	}
	b.axe = string(src)
	return b
}

// do runs actions with a deadline, failing the test on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// unsafeName is what a screenshot's file name may not hold.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9]+`)

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	b.shot("failed-" + strings.Trim(unsafeName.ReplaceAllString(what, "-"), "-"))
	body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	b.t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
}

// waitText waits until the element matching sel contains text.
func (b *browser) waitText(sel, text string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, text)
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.fail(fmt.Sprintf("wait for %q in %s", text, sel), err)
	}
}

// waitJS waits until the expression is true.
func (b *browser) waitJS(js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.fail("wait for "+firstLine(js), err)
	}
}

// evalJS evaluates a JavaScript expression, awaiting a promise.
func evalJS[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("evaluate "+firstLine(js), err)
	}
	return v
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// shot writes a full-page PNG screenshot named name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkA11y runs axe-core on the page as it is, records the counts under
// screen, fails on any serious or critical violation and screenshots.
func (b *browser) checkA11y(screen string) {
	b.t.Helper()
	if !evalJS[bool](b, `typeof window.axe === 'object'`) {
		evalJS[bool](b, b.axe+";true")
	}
	vs := evalJS[[]axeViolation](b, `axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({ target: n.target })) })))`)
	counts := map[string]int{"critical": 0, "serious": 0, "moderate": 0, "minor": 0}
	for _, v := range vs {
		counts[v.Impact] += len(v.Nodes)
		targets, _ := json.Marshal(v.Nodes)
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe %s: %s %s (%s): %s", screen, v.Impact, v.ID, v.Help, targets)
		} else {
			b.t.Logf("axe %s: %s %s (%s): %s", screen, v.Impact, v.ID, v.Help, targets)
		}
	}
	b.axeCounts[screen] = counts
	b.shot(screen)
}

// axeSummary logs the per-screen counts in a stable order.
func (b *browser) axeSummary() {
	var names []string
	for n := range b.axeCounts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := b.axeCounts[n]
		b.t.Logf("axe %-28s critical %d, serious %d, moderate %d, minor %d", n, c["critical"], c["serious"], c["moderate"], c["minor"])
	}
}

package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func testApp(t *testing.T) (*fiber.App, *App) {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Use(a.Handler)
	return app, a
}

func get(t *testing.T, app *fiber.App, method, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// TestIndexNamesVersionedAssets: "/" is never cached, names the current
// version, and every asset it names is served immutable under it.
func TestIndexNamesVersionedAssets(t *testing.T) {
	app, a := testApp(t)
	resp, body := get(t, app, "GET", "/", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != CSP || strings.Contains(got, "unsafe") {
		t.Errorf("CSP %q", got)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("missing nosniff or frame denial: %v", resp.Header)
	}
	if bytes.Contains(body, []byte("{{assets}}")) {
		t.Fatal("index.html still has the placeholder")
	}
	// No inline script or style: every <script> has a src, no style attributes.
	if regexp.MustCompile(`<script(?:(?:\s+(?:type="module"))?)>`).Match(body) || bytes.Contains(body, []byte("<style")) || bytes.Contains(body, []byte("style=")) {
		t.Errorf("index.html has inline script or style")
	}
	refs := regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`).FindAllSubmatch(body, -1)
	if len(refs) < 3 {
		t.Fatalf("index names %d assets", len(refs))
	}
	for _, r := range refs {
		p := string(r[1])
		if !strings.HasPrefix(p, AssetsPrefix+a.Version()+"/") {
			t.Errorf("%s is not under the version", p)
		}
		resp, _ := get(t, app, "GET", p, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: %d, Cache-Control %q", p, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	if resp, b := get(t, app, "GET", "/reset-password?token=abc", nil); resp.StatusCode != 200 || !bytes.Equal(b, body) {
		t.Errorf("GET /reset-password: %d, want the app", resp.StatusCode)
	}
	etag := resp.Header.Get("ETag")
	resp, _ = get(t, app, "GET", "/", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 {
		t.Errorf("GET / with its ETag: %d, want 304", resp.StatusCode)
	}
}

// TestAssetsTypesAndGzip: modules are served as JavaScript, compressed for
// a client that asks; another version, an unknown file and other methods
// fall through to the next handler.
func TestAssetsTypesAndGzip(t *testing.T) {
	app, a := testApp(t)
	app.Use(func(c *fiber.Ctx) error { return c.Status(404).SendString("fallthrough") })
	p := AssetsPrefix + a.Version() + "/app.js"
	resp, plain := get(t, app, "GET", p, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("GET app.js: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
	}
	resp, gz := get(t, app, "GET", p, map[string]string{"Accept-Encoding": "gzip, br"})
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip not served: %v", resp.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, plain) || len(gz) >= len(plain) {
		t.Errorf("gzip body: %d bytes for %d, same content %v", len(gz), len(plain), bytes.Equal(unz, plain))
	}
	if resp, _ := get(t, app, "GET", p, map[string]string{"Accept-Encoding": "gzip;q=0"}); resp.Header.Get("Content-Encoding") != "" {
		t.Error("gzip served to a client that refused it")
	}
	if resp, _ := get(t, app, "GET", AssetsPrefix+a.Version()+"/vendor/preact.mjs", nil); resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("preact.mjs type %q", resp.Header.Get("Content-Type"))
	}
	for _, c := range []struct{ method, path string }{
		{"GET", AssetsPrefix + "0000000000000000/app.js"},
		{"GET", AssetsPrefix + a.Version() + "/nope.js"},
		{"GET", AssetsPrefix + a.Version() + "/../web.go"},
		{"GET", "/favicon.ico"},
		{"POST", "/"},
		{"GET", "/v1/anything"},
		{"GET", "/v1"},
	} {
		resp, body := get(t, app, c.method, c.path, nil)
		if resp.StatusCode != 404 || string(body) != "fallthrough" {
			t.Errorf("%s %s: %d %q, want the next handler", c.method, c.path, resp.StatusCode, body)
		}
	}
	if resp, body := get(t, app, "HEAD", "/", nil); resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD /: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// TestVendoredModulesImportRelatively: browsers resolve no bare module
// names without an import map (an inline script the CSP forbids), so no
// served module may import one.
func TestVendoredModulesImportRelatively(t *testing.T) {
	_, a := testApp(t)
	// Static imports and re-exports start a line; dynamic ones are
	// import('…') or import(`…${x}…`).
	static := regexp.MustCompile(`(?m)^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|(?m)^import\s*['"]([^'"]+)['"]`)
	dynamic := regexp.MustCompile("\\bimport\\(\\s*['\"`]([^'\"`]+)['\"`]")
	for name, as := range a.assets {
		if !strings.HasSuffix(name, ".js") && !strings.HasSuffix(name, ".mjs") {
			continue
		}
		var found []string
		for _, m := range static.FindAllSubmatch(as.body, -1) {
			found = append(found, string(m[1])+string(m[2]))
		}
		for _, m := range dynamic.FindAllSubmatch(as.body, -1) {
			found = append(found, string(m[1]))
		}
		for _, spec := range found {
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q, not a relative path", name, spec)
			}
		}
		if strings.HasPrefix(name, "vendor/") && len(found) == 0 && name != "vendor/preact.mjs" && name != "vendor/htm.mjs" {
			t.Errorf("%s: no imports found; the pattern no longer reads it", name)
		}
	}
}

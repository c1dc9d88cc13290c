// Package web is the staff web app: static ES modules embedded in the API
// binary and served by it. The app is a client of the JSON API like the
// mobile apps; nothing here reads the store or checks permissions.
//
// Every file under static/ is served at /assets/<version>/<path>, where the
// version is a hash of all the files, so an asset URL never changes meaning
// and is cached for a year; "/" is index.html, never cached, naming the
// current version. Relative imports between modules work unchanged under
// the versioned prefix.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var files embed.FS

// CSP is the Content-Security-Policy of every web response: scripts,
// styles and connections only from this origin, no inline script or
// style, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// AssetsPrefix is where the versioned files are served.
const AssetsPrefix = "/assets/"

type asset struct {
	body  []byte
	gz    []byte // nil when gzip does not make it smaller
	ctype string
}

// App serves the embedded files.
type App struct {
	version string
	index   asset
	assets  map[string]asset // by path under static/
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// New reads the embedded files, hashes them and compresses each once.
func New() (*App, error) {
	a := &App{assets: map[string]asset{}}
	var names []string
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, strings.TrimPrefix(p, "static/"))
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	h := sha256.New()
	raw := map[string][]byte{}
	for _, n := range names {
		b, err := files.ReadFile("static/" + n)
		if err != nil {
			return nil, err
		}
		raw[n] = b
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	a.version = hex.EncodeToString(h.Sum(nil))[:16]
	for _, n := range names {
		ct, ok := contentTypes[path.Ext(n)]
		if !ok {
			continue // READMEs, licences under odd names: not served
		}
		if n == "index.html" {
			body := bytes.ReplaceAll(raw[n], []byte("{{assets}}"), []byte(AssetsPrefix+a.version))
			a.index = newAsset(body, ct)
			continue
		}
		a.assets[n] = newAsset(raw[n], ct)
	}
	if a.index.body == nil {
		return nil, fmt.Errorf("web: static/index.html is missing")
	}
	return a, nil
}

var (
	defaultOnce sync.Once
	defaultApp  *App
)

// Default is the app built once per process. The files are compiled in,
// so an error is a build mistake and panics.
func Default() *App {
	defaultOnce.Do(func() {
		a, err := New()
		if err != nil {
			panic(err)
		}
		defaultApp = a
	})
	return defaultApp
}

func newAsset(body []byte, ct string) asset {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	a := asset{body: body, ctype: ct}
	if buf.Len() < len(body) {
		a.gz = buf.Bytes()
	}
	return a
}

// Version is the hash in the assets' path.
func (a *App) Version() string { return a.version }

// Files lists the served asset paths (under static/) with their sizes,
// raw and gzipped, for measurement.
func (a *App) Files() map[string][2]int {
	out := map[string][2]int{"index.html": {len(a.index.body), gzLen(a.index)}}
	for n, as := range a.assets {
		out[n] = [2]int{len(as.body), gzLen(as)}
	}
	return out
}

func gzLen(a asset) int {
	if a.gz == nil {
		return len(a.body)
	}
	return len(a.gz)
}

// reserved are the API's own path spaces: the web app never answers there,
// so an unknown API path keeps the API's JSON 404.
var reserved = []string{"/v1", "/webhooks", "/metrics", "/healthz", "/readyz", "/ops"}

// Handler serves the app. It is mounted after every API route: it answers
// GET and HEAD for "/" and the versioned assets, and passes everything else
// on (to the API's 404).
func (a *App) Handler(c *fiber.Ctx) error {
	m := c.Method()
	if m != fiber.MethodGet && m != fiber.MethodHead {
		return c.Next()
	}
	p := c.Path()
	for _, r := range reserved {
		if p == r || strings.HasPrefix(p, r+"/") {
			return c.Next()
		}
	}
	// "/reset-password?token=…" is where a password-reset email links
	// when HOMETIME_APP_URL is this site: the app reads the token there.
	if p == "/" || p == "/index.html" || p == "/reset-password" {
		etag := `"` + a.version + `"`
		headers(c, "no-cache")
		c.Set(fiber.HeaderETag, etag)
		if c.Get(fiber.HeaderIfNoneMatch) == etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		return a.send(c, a.index)
	}
	rest, ok := strings.CutPrefix(p, AssetsPrefix)
	if !ok {
		return c.Next()
	}
	version, name, ok := strings.Cut(rest, "/")
	if !ok || version != a.version {
		return c.Next()
	}
	as, ok := a.assets[name]
	if !ok {
		return c.Next()
	}
	headers(c, "public, max-age=31536000, immutable")
	return a.send(c, as)
}

func headers(c *fiber.Ctx, cache string) {
	h := &c.Response().Header
	h.Set(fiber.HeaderCacheControl, cache)
	h.Set(fiber.HeaderContentSecurityPolicy, CSP)
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
}

func (a *App) send(c *fiber.Ctx, as asset) error {
	c.Set(fiber.HeaderContentType, as.ctype)
	if as.gz != nil && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(as.gz)
	}
	return c.Send(as.body)
}

// acceptsGzip reads Accept-Encoding: gzip listed and not refused (q=0).
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") || strings.TrimSpace(name) == "*" {
			q := strings.ReplaceAll(params, " ", "")
			return !(q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000")
		}
	}
	return false
}

package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
	"github.com/valyala/fasthttp"
)

// Request bodies. The server streams them (fasthttp's StreamRequestBody):
// nothing past the first few KB is read until the app asks. Before any
// handler runs, readBody reads a route's body through a cap (BodyLimit,
// 1 MiB by default) into the request, so every handler sees
// c.Request().Body() as a plain byte slice. The upload routes alone are
// left unread: their handlers authenticate and authorise the caller from
// the headers first, then read at most the route's own limit
// (readUpload). Compressed bodies are refused on every route: Fiber's
// c.Body() inflates them with no limit on the output (a 260 KB gzip
// request is 256 MiB of memory), so the API never calls it and reads bodies
// as sent.

const localUploadLimit = "upload_limit"

// uploadRoute is a route whose handler reads its own body, up to limit.
type uploadRoute struct {
	method   string
	segments []string // "/v1/schools/:schoolId/imports", split; ":x" is any one segment
	limit    int
}

// uploadRoutes are the photo upload (one photo of up to 10 MB in a
// multipart form), the roster import (an MIS export of up to 20 MB) and
// the announcement attachment upload (one file of up to 10 MB).
var uploadRoutes = []uploadRoute{
	newUploadRoute(fiber.MethodPost, "/v1"+photoUploadRoute, PhotoMaxBytes+photoUploadOverhead),
	newUploadRoute(fiber.MethodPost, "/v1"+importRoute, ImportBodyLimit),
	newUploadRoute(fiber.MethodPost, "/v1"+attachmentUploadRoute, AttachmentMaxBytes+photoUploadOverhead),
}

func newUploadRoute(method, pattern string, limit int) uploadRoute {
	return uploadRoute{method: method, segments: strings.Split(pattern, "/"), limit: limit}
}

// uploadLimit is the body limit of the upload route method and path go
// to, matched as Fiber routes them (case-insensitive, a trailing slash
// ignored). A path that does not match is read with the usual limit, so a
// mismatch can only refuse a large body, never let one through.
func uploadLimit(method, path string) (int, bool) {
	path = strings.TrimRight(path, "/")
	parts := strings.Split(path, "/")
	for _, r := range uploadRoutes {
		if method != r.method || len(parts) != len(r.segments) {
			continue
		}
		ok := true
		for i, seg := range r.segments {
			if strings.HasPrefix(seg, ":") {
				ok = parts[i] != ""
			} else {
				ok = strings.EqualFold(parts[i], seg)
			}
			if !ok {
				break
			}
		}
		if ok {
			return r.limit, true
		}
	}
	return 0, false
}

var errEncodedBody = &content.Error{Code: content.CodeUnsupportedEncoding,
	Message: "compressed request bodies are not accepted; send the body without Content-Encoding",
	Fields:  map[string]string{fiber.HeaderContentEncoding: "must be identity or absent"}}

// refuseEncodedBodies answers 415 to a request with any Content-Encoding
// but identity, on every route, before its body is read. Every
// Content-Encoding header and every coding in each is looked at: Fiber
// would follow a chain such as "gzip, gzip".
func refuseEncodedBodies(c *fiber.Ctx) error {
	for _, v := range c.Request().Header.PeekAll(fiber.HeaderContentEncoding) {
		for _, coding := range strings.Split(string(v), ",") {
			if coding = strings.TrimSpace(coding); coding != "" && !strings.EqualFold(coding, "identity") {
				return errEncodedBody
			}
		}
	}
	return c.Next()
}

// closeUnreadBody closes the connection after the answer to a request
// whose body was not read to the end (refused before it was read: 401,
// 413, 415, 429). The rest of it may be megabytes from a caller who was
// refused, and reading it to keep the connection alive is what the
// refusal avoids.
func closeUnreadBody(c *fiber.Ctx) error {
	err := c.Next()
	if c.Request().IsBodyStream() {
		c.Response().SetConnectionClose()
	}
	return err
}

// readBody reads the body of every request but an upload's, up to
// BodyLimit, before the handler runs. An upload whose Content-Length is
// over its route's limit is refused here; the handler reads the rest.
func (s *server) readBody(c *fiber.Ctx) error {
	req := c.Request()
	if limit, ok := uploadLimit(c.Method(), c.Path()); ok {
		if req.Header.ContentLength() > limit {
			return tooLarge(limit)
		}
		c.Locals(localUploadLimit, limit)
		return c.Next()
	}
	if err := readCapped(req, s.BodyLimit); err != nil {
		return err
	}
	return c.Next()
}

// takeUpload is how an upload handler reads its body once it has checked
// who may send it: it takes one of the account's in-flight slots for kind
// (429 beyond max) and reads the body. The caller defers release.
func (s *server) takeUpload(c *fiber.Ctx, kind string, max int) (body []byte, release func(), err error) {
	release, err = s.uploads.acquire(kind, principal(c).ID(), max)
	if err != nil {
		return nil, nil, err
	}
	if body, err = readUpload(c); err != nil {
		release()
		return nil, nil, err
	}
	return body, release, nil
}

// readUpload reads an upload route's body after its handler has checked
// who may send it, up to the route's limit, and leaves it as the
// request's body (for the Idempotency-Key fingerprint).
func readUpload(c *fiber.Ctx) ([]byte, error) {
	limit, _ := c.Locals(localUploadLimit).(int)
	if limit <= 0 {
		// Not routed as an upload: readBody has read it already.
		return c.Request().Body(), nil
	}
	if err := readCapped(c.Request(), limit); err != nil {
		return nil, err
	}
	return c.Request().Body(), nil
}

// readCapped reads a streamed body whole, refusing it with 413 as soon as
// it is known to be over limit: from Content-Length before reading, or
// after limit+1 bytes of a chunked body. Read, the stream is closed and
// the bytes become the request's body; a body that is not a stream (read
// already) is only measured.
func readCapped(req *fasthttp.Request, limit int) error {
	if !req.IsBodyStream() {
		if len(req.Body()) > limit {
			return tooLarge(limit)
		}
		return nil
	}
	n := req.Header.ContentLength()
	if n > limit {
		return tooLarge(limit)
	}
	var buf bytes.Buffer
	if n > 0 {
		buf.Grow(n + bytes.MinRead) // room for the read that finds the end, so the buffer never doubles
	}
	got, err := buf.ReadFrom(io.LimitReader(req.BodyStream(), int64(limit)+1))
	if got > int64(limit) {
		return tooLarge(limit)
	}
	if err == nil && n >= 0 && got != int64(n) {
		// The stream ends quietly (io.EOF) when the client goes away; a
		// truncated file must not pass for the whole one.
		err = fmt.Errorf("%d of %d bytes: %w", got, n, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return content.Wrap(content.CodeInvalid, fmt.Errorf("read request body: %w", err), "the request body could not be read")
	}
	req.SetBodyRaw(buf.Bytes())
	return nil
}

func tooLarge(limit int) error {
	return content.Errorf(content.CodeTooLarge, "the request body is over the limit of %s", byteSize(limit))
}

// byteSize writes a limit for people, rounded down: "1 MiB", "20 MiB",
// "64 KiB".
func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// Uploads in flight per account. A photo upload holds up to ~20 MB while
// it is read and parsed and an import ~20 MB plus its plan, so one account
// (one stolen token, or one app stuck retrying) may have at most
// photoUploadsPerAccount photos and importsPerAccount imports in flight.
//
// The count is kept in this process, not in Redis: what it protects is
// this process's memory, which another process's uploads do not use; a
// count in Redis would outlive a crashed process (holding slots until a
// lease expired) and would refuse every upload while Redis is down. With
// several API processes, an account may have this many in flight on each.
const (
	photoUploadsPerAccount = 2
	importsPerAccount      = 1
	// uploadRetryAfter is the Retry-After of a refusal: an upload takes
	// seconds (ReadTimeout bounds it at 30).
	uploadRetryAfter = 10
)

// uploadSlots counts uploads in flight by kind and account.
type uploadSlots struct {
	mu       sync.Mutex
	inFlight map[string]int
}

var errNoUploadAccount = errors.New("upload without a signed-in account")

// acquire takes a slot for account's upload of kind, or answers 429 when
// it already has max in flight. release gives it back.
func (u *uploadSlots) acquire(kind, account string, max int) (release func(), err error) {
	if account == "" {
		return nil, errNoUploadAccount
	}
	key := kind + "|" + account
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.inFlight[key] >= max {
		return nil, &content.Error{Code: content.CodeThrottled,
			Message: fmt.Sprintf("this account already has %d %s upload(s) in progress; try again when they finish", max, kind),
			Fields:  map[string]string{"retry_after_seconds": strconv.Itoa(uploadRetryAfter)}}
	}
	if u.inFlight == nil {
		u.inFlight = map[string]int{}
	}
	u.inFlight[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			defer u.mu.Unlock()
			if u.inFlight[key]--; u.inFlight[key] <= 0 {
				delete(u.inFlight, key)
			}
		})
	}, nil
}

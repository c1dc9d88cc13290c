package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gzipBomb is 256 MiB of spaces, gzipped (about 260 KB), and the same
// gzipped again (for "Content-Encoding: gzip, gzip"); built once.
var gzipBomb = sync.OnceValues(func() (single, chained []byte) {
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for i := 0; i < 256; i++ {
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()
	var two bytes.Buffer
	zw2 := gzip.NewWriter(&two)
	_, _ = zw2.Write(one.Bytes())
	_ = zw2.Close()
	return one.Bytes(), two.Bytes()
})

// TestCompressedBodiesRefused: a gzip bomb (256 MiB of spaces in about
// 260 KB) and a chained "gzip, gzip" body, to sign-in and to both webhook
// families, are answered 415 quickly without being inflated: the process
// allocates a few MB around each request, not hundreds. Other codings and
// spellings are refused the same way; identity is not.
func TestCompressedBodiesRefused(t *testing.T) {
	// Not parallel: the allocation counts are the whole process's.
	h := newHarness(t)
	bomb, chained := gzipBomb()
	t.Logf("gzip bomb: %d bytes; chained: %d bytes", len(bomb), len(chained))
	if len(bomb) > 400<<10 || len(bomb) < 200<<10 {
		t.Fatalf("the bomb is %d bytes, not about 260 KB", len(bomb))
	}
	routes := []string{"/v1/auth/login", SendGridEventsPath, "/webhooks/twilio/inbound", TwilioStatusPath}
	cases := []struct {
		name     string
		body     []byte
		encoding []string // one Content-Encoding header each
	}{
		{"gzip bomb", bomb, []string{"gzip"}},
		{"chained gzip", chained, []string{"gzip, gzip"}},
		{"gzip bomb, upper case", bomb, []string{"GZIP"}},
		{"deflate", []byte("x"), []string{"deflate"}},
		{"br", []byte("x"), []string{"br"}},
		{"zstd", []byte("x"), []string{"zstd"}},
		{"identity then gzip", bomb, []string{"identity, gzip"}},
		{"two headers", bomb, []string{"identity", "gzip"}},
	}
	for _, route := range routes {
		for _, tc := range cases {
			t.Run(route+"/"+tc.name, func(t *testing.T) {
				req := httptest.NewRequest("POST", route, bytes.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				for _, e := range tc.encoding {
					req.Header.Add("Content-Encoding", e)
				}
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				resp, err := h.app.Test(req, 30_000)
				took := time.Since(start)
				if err != nil {
					t.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				runtime.ReadMemStats(&after)
				allocated := after.TotalAlloc - before.TotalAlloc
				grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
				t.Logf("%d in %v; allocated %.1f MB, heap grew %.1f MB", resp.StatusCode, took,
					float64(allocated)/1e6, float64(grown)/1e6)
				if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(out), `"code":"unsupported_encoding"`) {
					t.Fatalf("status %d %s, want 415 unsupported_encoding", resp.StatusCode, out)
				}
				if !resp.Close {
					t.Error("the connection is kept open with the body unread (no Connection: close)")
				}
				// app.Test itself copies the request twice (about 1 MB for the
				// bomb); inflating it would be 256 MiB.
				if allocated > 16<<20 || grown > 8<<20 {
					t.Errorf("allocated %d bytes, heap grew %d bytes: the body was inflated", allocated, grown)
				}
				if took > 2*time.Second {
					t.Errorf("took %v", took)
				}
				vreq := httptest.NewRequest("POST", route, bytes.NewReader(tc.body))
				vreq.Header = req.Header.Clone()
				checkContract(t, vreq, tc.body, resp, out)
			})
		}
	}

	// The same bytes sent as identity are read as sent (and are not JSON).
	for _, enc := range []string{"", "identity", "Identity"} {
		opts := []reqOpt{}
		if enc != "" {
			opts = append(opts, withHeader("Content-Encoding", enc))
		}
		resp, out := h.do("POST", "/v1/auth/login", bomb, "", opts...)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), `"code":"invalid"`) {
			t.Errorf("gzip bytes as identity (%q): %d %s, want 400 invalid", enc, resp.StatusCode, out)
		}
		resp, out = h.do("POST", "/v1/auth/login", map[string]string{"email": "nobody@example.test", "password": "not-the-password-1"}, "", opts...)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("identity sign-in (%q): %d %s, want 401", enc, resp.StatusCode, out)
		}
	}
	// A GET with the header is refused too: the rule is the same on every route.
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("Content-Encoding", "gzip")
	if resp, err := h.app.Test(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("GET with Content-Encoding: %v %v", resp.StatusCode, err)
	}
}

// countingListener counts the bytes the server reads from each connection,
// by the client's address.
type countingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]*atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := &atomic.Int64{}
	l.mu.Lock()
	l.conns[c.RemoteAddr().String()] = n
	l.mu.Unlock()
	return &countingConn{Conn: c, n: n}, nil
}

// read is what the server has read from the connection dialled from addr.
func (l *countingListener) read(addr string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.conns[addr]; n != nil {
		return n.Load()
	}
	return 0
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// serveCounting serves h's app on a loopback socket that counts what it reads.
func serveCounting(t *testing.T, h *harness) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln, conns: map[string]*atomic.Int64{}}
	go func() { _ = h.app.Listener(cl) }()
	t.Cleanup(func() { _ = h.app.Shutdown() })
	return cl
}

// rawUpload is one upload over its own connection: the request head, then
// the body written as the test says.
type rawUpload struct {
	conn net.Conn
	body []byte
	sent int
}

func startUpload(t *testing.T, addr, path, token, contentType string, body []byte) *rawUpload {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := "POST " + path + " HTTP/1.1\r\nHost: hometime.test\r\nContent-Type: " + contentType + "\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n", len(body))
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	return &rawUpload{conn: conn, body: body}
}

// send writes the body up to byte n (errors ignored: a server that has
// answered may have closed the connection).
func (u *rawUpload) send(n int) {
	if n > len(u.body) {
		n = len(u.body)
	}
	for u.sent < n {
		end := min(u.sent+32<<10, n)
		if _, err := u.conn.Write(u.body[u.sent:end]); err != nil {
			return
		}
		u.sent = end
	}
}

// sendAllInBackground writes the rest of the body while the answer is read.
func (u *rawUpload) sendAllInBackground() {
	go u.send(len(u.body))
}

// answer reads the response, and whether the server then closed the connection.
func (u *rawUpload) answer(t *testing.T) (*http.Response, []byte, bool) {
	t.Helper()
	_ = u.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(u.conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = u.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	return resp, out, err != nil
}

// uploadBody is a multipart photo form padded to size bytes with a field
// before the photo, so that a part of it can be sent and the rest held.
func uploadBody(t *testing.T, size int) ([]byte, string) {
	t.Helper()
	photo := smallJPEG(t)
	body, ct := multipartPhoto(t, photo)
	if size <= len(body) {
		return body, ct
	}
	boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
	pad := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
	pad += strings.Repeat("n", size-len(body)-len(pad)-2) + "\r\n"
	return append([]byte(pad), body...), ct
}

// TestUploadsReadOnlyAfterAuthorization: a 10 MB photo upload from no one,
// from a bad token, from a parent of another child or from staff, and an
// import from a teacher, are refused without their body being read: the
// server reads the head and fasthttp's first 8 KiB, then answers and
// closes the connection.
func TestUploadsReadOnlyAfterAuthorization(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ln := serveCounting(t, w.h)
	const size = 10 << 20
	photo, photoCT := uploadBody(t, size)
	csv := bytes.Repeat([]byte("UPN,Forename,Surname\r\n"), size/22)
	photoPath := "/v1/children/chd_1/assignments/asg_1/submission/photos"
	cases := []struct {
		name, path, token, ct string
		body                  []byte
		want                  int
	}{
		{"photo, no token", photoPath, "", photoCT, photo, http.StatusUnauthorized},
		{"photo, bad token", photoPath, "not-a-token", photoCT, photo, http.StatusUnauthorized},
		{"photo, closed account", photoPath, w.tokens[actClosed], photoCT, photo, http.StatusUnauthorized},
		{"photo, parent of another child", photoPath, w.tokens[actParentB], photoCT, photo, http.StatusNotFound},
		{"photo, teacher", photoPath, w.tokens[actTeacher], photoCT, photo, http.StatusForbidden},
		{"photo, unreleased assignment", "/v1/children/chd_1/assignments/asg_later/submission/photos", w.tokens[actParentA], photoCT, photo, http.StatusNotFound},
		{"import, no token", "/v1/schools/sch_1/imports", "", "text/csv", csv, http.StatusUnauthorized},
		{"import, teacher", "/v1/schools/sch_1/imports", w.tokens[actTeacher], "text/csv", csv, http.StatusForbidden},
		{"import, admin of another school", "/v1/schools/sch_1/imports", w.tokens[actAdminOther], "text/csv", csv, http.StatusNotFound},
		{"import, admin, bad query", "/v1/schools/sch_1/imports?dry_run=maybe", w.tokens[actAdmin], "text/csv", csv, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := startUpload(t, ln.Addr().String(), tc.path, tc.token, tc.ct, tc.body)
			u.sendAllInBackground()
			resp, out, closed := u.answer(t)
			read := ln.read(u.conn.LocalAddr().String())
			t.Logf("%d; the server read %d of %d bytes", resp.StatusCode, read, len(tc.body))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, out, tc.want)
			}
			if read > 64<<10 {
				t.Errorf("the server read %d bytes of a refused %d-byte upload", read, len(tc.body))
			}
			if !closed {
				t.Error("the connection stayed open with the body unread")
			}
		})
	}

	// The same 10 MB upload from parent A is read and stored.
	u := startUpload(t, ln.Addr().String(), photoPath, w.tokens[actParentA], photoCT, photo)
	u.sendAllInBackground()
	resp, out, _ := u.answer(t)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("parent A's 10 MB upload: %d %s", resp.StatusCode, out)
	}
	if read := ln.read(u.conn.LocalAddr().String()); read < size {
		t.Errorf("the server read %d bytes of an accepted %d-byte upload", read, size)
	}
}

// TestUploadsInFlightPerAccount: parent A may have two photo uploads in
// progress; a third is answered 429 with Retry-After before its body is
// read, while parent B's upload goes ahead; when one of A's finishes, A
// may upload again. An admin may have one import in progress.
func TestUploadsInFlightPerAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ln := serveCounting(t, w.h)
	addr := ln.Addr().String()
	photoPath := "/v1/children/chd_1/assignments/asg_1/submission/photos"
	held, heldCT := uploadBody(t, 1<<20)
	// holding starts an upload and sends its first 256 KiB; once the
	// server has read past what fasthttp reads ahead, the handler is
	// reading the body: it has its slot.
	holding := func(path, token, ct string, body []byte) *rawUpload {
		t.Helper()
		u := startUpload(t, addr, path, token, ct, body)
		u.send(256 << 10)
		deadline := time.Now().Add(20 * time.Second)
		for ln.read(u.conn.LocalAddr().String()) < 200<<10 {
			if time.Now().After(deadline) {
				t.Fatalf("the server read %d bytes of a held upload", ln.read(u.conn.LocalAddr().String()))
			}
			time.Sleep(5 * time.Millisecond)
		}
		return u
	}
	refusedBusy := func(name, path, token, ct string, body []byte) {
		t.Helper()
		u := startUpload(t, addr, path, token, ct, body)
		u.sendAllInBackground()
		resp, out, closed := u.answer(t)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "10" {
			t.Fatalf("%s: %d Retry-After %q %s, want 429 with Retry-After", name, resp.StatusCode, resp.Header.Get("Retry-After"), out)
		}
		if read := ln.read(u.conn.LocalAddr().String()); read > 64<<10 || !closed {
			t.Errorf("%s: the server read %d bytes of the refused upload (closed %v)", name, read, closed)
		}
		vreq := httptest.NewRequest("POST", path, bytes.NewReader(body))
		vreq.Header.Set("Content-Type", ct)
		vreq.Header.Set("Authorization", "Bearer "+token)
		checkContract(t, vreq, body, resp, out)
	}

	first := holding(photoPath, w.tokens[actParentA], heldCT, held)
	second := holding(photoPath, w.tokens[actParentA], heldCT, held)
	photo, photoCT := multipartPhoto(t, smallJPEG(t))
	refusedBusy("parent A's third upload", photoPath, w.tokens[actParentA], photoCT, photo)

	// Another account is not held up by A's.
	b := startUpload(t, addr, "/v1/children/chd_2/assignments/asg_1/submission/photos", w.tokens[actParentB], photoCT, photo)
	b.sendAllInBackground()
	if resp, out, _ := b.answer(t); resp.StatusCode != http.StatusCreated {
		t.Fatalf("parent B while A has two in progress: %d %s", resp.StatusCode, out)
	}

	// One of A's finishes; A may start another.
	first.send(len(first.body))
	if resp, out, _ := first.answer(t); resp.StatusCode != http.StatusCreated {
		t.Fatalf("A's first upload: %d %s", resp.StatusCode, out)
	}
	again := startUpload(t, addr, photoPath, w.tokens[actParentA], photoCT, photo)
	again.sendAllInBackground()
	if resp, out, _ := again.answer(t); resp.StatusCode != http.StatusCreated {
		t.Fatalf("A's upload after one finished: %d %s", resp.StatusCode, out)
	}
	second.conn.Close() // a client gone mid-upload gives its slot back too

	// One import at a time per account.
	csv := []byte(matrixImportCSV + strings.Repeat(" ", 1<<20))
	imp := holding("/v1/schools/sch_1/imports?dry_run=true", w.tokens[actAdmin], "text/csv", csv)
	refusedBusy("the admin's second import", "/v1/schools/sch_1/imports?dry_run=true", w.tokens[actAdmin], "text/csv", []byte(matrixImportCSV))
	imp.conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, out := w.h.do("POST", "/v1/schools/sch_1/imports?dry_run=true", []byte(matrixImportCSV), w.tokens[actAdmin],
			withHeader("Content-Type", "text/csv"))
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("import after the held one was dropped: %d %s", resp.StatusCode, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUploadSlots: the count is per kind and account, and a release counts
// once however often it is called.
func TestUploadSlots(t *testing.T) {
	t.Parallel()
	var u uploadSlots
	r1, err := u.acquire("photo", "par_a", 2)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := u.acquire("photo", "par_a", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.acquire("photo", "par_a", 2); err == nil {
		t.Fatal("a third photo upload for one account was allowed")
	}
	if r, err := u.acquire("photo", "par_b", 2); err != nil {
		t.Fatal("another account was refused")
	} else {
		r()
	}
	if r, err := u.acquire("import", "par_a", 1); err != nil {
		t.Fatal("an import was refused for photo uploads")
	} else {
		r()
	}
	r1()
	r1()
	if _, err := u.acquire("photo", "par_a", 2); err != nil {
		t.Fatal("a slot was not given back")
	}
	if _, err := u.acquire("photo", "par_a", 2); err == nil {
		t.Fatal("a release given twice freed two slots")
	}
	r2()
	if _, err := u.acquire("photo", "", 2); err == nil {
		t.Fatal("an upload without an account was counted")
	}
}

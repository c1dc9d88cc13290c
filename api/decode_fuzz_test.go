package api

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/content"
)

// fuzzRoutes are the request decoders FuzzRequestDecoders drives, each
// through the whole app as its usual caller: JSON bodies (sign-in,
// preferences, a child, a submission), the provider webhooks (a signed
// JSON batch, a form), the photo form and the CSV import.
var fuzzRoutes = []struct {
	method, path, actor string
}{
	{"POST", "/v1/auth/login", actAnonymous},
	{"PUT", "/v1/me/preferences", actParentA},
	{"POST", "/v1/schools/sch_1/children", actAdmin},
	{"POST", "/v1/children/chd_1/assignments/asg_1/submission", actParentA},
	{"POST", SendGridEventsPath, actAnonymous},
	{"POST", "/webhooks/twilio/inbound", actAnonymous},
	{"POST", "/v1/children/chd_1/assignments/asg_1/submission/photos", actParentA},
	{"POST", "/v1/schools/sch_1/imports?dry_run=true", actAdmin},
}

// fuzzEncodings are Content-Encoding values; all but the first two are refused.
var fuzzEncodings = []string{"", "identity", "gzip", "gzip, gzip", "deflate", "br", "identity, gzip", "GZIP", "x-gzip, identity"}

var fuzzContentTypes = []string{"application/json", "application/json; charset=utf-8", "text/csv",
	"multipart/form-data; boundary=fuzz", "application/x-www-form-urlencoded", ""}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func deflated(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// FuzzRequestDecoders sends arbitrary bodies, with arbitrary encodings and
// content types, to the request decoders through the app. Whatever comes
// in: no panic and no 5xx; any Content-Encoding but identity is 415 before
// anything else; a refusal is the one error shape with the code that goes
// with its status (400 is always "invalid"); and no answer takes long
// (a compressed body is never inflated).
func FuzzRequestDecoders(f *testing.F) {
	spaces := bytes.Repeat([]byte(" "), 8<<20)
	bomb := gzipped(spaces) // 8 MiB of spaces in about 8 KB
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	deepArray := `{"first_name":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
	photo, _ := multipartPhoto(f, smallJPEG(f))
	seeds := []struct {
		route, enc, ct uint8
		body           []byte
	}{
		{0, 0, 0, []byte(`{"email":"gwen.p@example.test","password":"wrong-password-1"}`)},
		{0, 2, 0, bomb},
		{0, 3, 0, gzipped(bomb)},
		{0, 4, 0, deflated(spaces[:1<<20])},
		{0, 5, 0, []byte{0x1b, 0xff, 0xff, 0x7f}},
		{0, 6, 0, bomb},
		{0, 7, 0, bomb},
		{0, 1, 0, bomb}, // gzip bytes declared identity: read as sent
		{0, 0, 0, []byte(deep)},
		{0, 0, 0, []byte(`{"email":1,"password":["x"]}`)},
		{0, 0, 0, []byte(`{"email":"a@b.test","password":"x","role":"admin"}`)},
		{0, 0, 0, []byte(`{"email":"a@b.test"} {"email":"c@d.test"}`)},
		{0, 0, 5, []byte("\xef\xbb\xbf{}")},
		{0, 0, 2, []byte(`{}`)},
		{1, 0, 0, []byte(`{"categories":{"assignments":["push","sms"]}}`)},
		{1, 0, 0, []byte(`{"categories":"everything"}`)},
		{2, 0, 0, []byte(`{"first_name":"Ada","last_name":"L","year_group":"Y2","class_ids":["cls_1"]}`)},
		{2, 0, 0, []byte(`{"first_name":"Ada","year_group":2,"pupil_premium":"yes"}`)},
		{2, 0, 0, []byte(deepArray)},
		{2, 2, 0, gzipped([]byte(`{"first_name":"Ada"}`))},
		{3, 0, 0, []byte(`{"done":true,"rating":5,"comment":"We built a tower"}`)},
		{3, 0, 0, []byte(`{"done":"yes","rating":5.5,"comment":null}`)},
		{3, 0, 0, []byte(`{"rating":1e400}`)},
		{4, 0, 0, []byte(`[{"event":"delivered","sg_event_id":"e1","sg_message_id":"m1"}]`)},
		{4, 3, 0, gzipped(bomb)},
		{5, 0, 4, []byte("From=%2B447911123501&Body=STOP")},
		{5, 2, 4, gzipped([]byte("From=%2B447911123501&Body=STOP"))},
		{5, 0, 4, []byte("%zz=%")},
		{6, 0, 3, photo},
		{6, 2, 3, gzipped(photo)},
		{6, 0, 3, []byte("--fuzz\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\nnot a photo\r\n--fuzz--\r\n")},
		{6, 0, 3, []byte("--fuzz\r\nContent-Disposition: form-data; name=\"photo\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=FF=D8\r\n--fuzz--\r\n")},
		{7, 0, 2, []byte(matrixImportCSV)},
		{7, 2, 2, gzipped([]byte(matrixImportCSV))},
		{7, 0, 2, []byte("UPN,Forename\r\n\"unterminated")},
	}
	for _, s := range seeds {
		f.Add(s.route, s.enc, s.ct, s.body)
	}

	w := newWorld(f)
	// Throttles would turn most attempts into 429 before the decoder runs.
	lots := Limit{Max: 1 << 40, Window: time.Minute}
	w.h.deps.Limits = Limits{LoginPerAccount: lots, LoginPerIP: lots, RedeemPerIP: lots, RedeemPerCode: lots,
		ResetPerAccount: lots, ResetPerIP: lots, AttemptsPerIP: lots}
	w.h.app = mustNew(f, w.h.deps)

	f.Fuzz(func(t *testing.T, route, enc, ct uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		encoding := fuzzEncodings[int(enc)%len(fuzzEncodings)]
		contentType := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		if tok := w.tokens[r.actor]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		start := time.Now()
		resp, err := w.h.app.Test(req, 30_000)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s %s took %v", r.method, r.path, took)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s (%q, %q): %d %s", r.method, r.path, encoding, contentType, resp.StatusCode, out)
		}
		refused := encoding != "" && !strings.EqualFold(encoding, "identity")
		if refused != (resp.StatusCode == http.StatusUnsupportedMediaType) {
			t.Fatalf("%s %s with Content-Encoding %q: %d %s", r.method, r.path, encoding, resp.StatusCode, out)
		}
		if resp.StatusCode < 400 {
			return
		}
		var eb errorBody
		if err := json.Unmarshal(out, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%s %s: %d with a body that is not the error shape: %q", r.method, r.path, resp.StatusCode, out)
		}
		if want := statusOf[content.Code(eb.Error.Code)]; want != resp.StatusCode {
			t.Fatalf("%s %s: error code %q with status %d", r.method, r.path, eb.Error.Code, resp.StatusCode)
		}
	})
}

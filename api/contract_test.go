package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/hometime-edu/hometime/content"
	contract "github.com/hometime-edu/hometime/mobile-contract"
)

// The API's tests check every request they send through app.Test, and its
// answer, against mobile-contract/openapi.yaml with checkContract. The tests
// below check the document itself: valid, complete in both directions
// against routes.go, with examples, and strict about unknown fields.

// loadContract parses and validates the document, examples included.
func loadContract(ctx context.Context) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(contract.Document())
	if err != nil {
		return nil, fmt.Errorf("parse mobile-contract/openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("mobile-contract/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// checkedContract is the document and a router over it, built once per
// test binary (every request of every API test goes through it).
type checkedContract struct {
	doc    *openapi3.T
	router routers.Router
	err    error
}

var (
	contractOnce   sync.Once
	contractShared checkedContract
)

func sharedContract(t testing.TB) *checkedContract {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := loadContract(context.Background())
		if err != nil {
			contractShared.err = err
			return
		}
		// Route on paths alone: test requests are addressed to
		// httptest's example.com, not to the documented server.
		doc.Servers = nil
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			contractShared.err = fmt.Errorf("route mobile-contract/openapi.yaml: %w", err)
			return
		}
		contractShared = checkedContract{doc: doc, router: r}
	})
	if contractShared.err != nil {
		t.Fatalf("contract: %v", contractShared.err)
	}
	return &contractShared
}

// checkContract fails t unless the request, and the response the app gave
// it, are what mobile-contract/openapi.yaml documents. req is the request
// as sent (its body may already be consumed); reqBody and respBody are the
// bytes sent and received. It checks:
//
//   - the method and path are a documented operation, and every query
//     parameter is declared;
//   - the request: path parameters, the bearer header where the operation
//     is secured, and the body against its schema (unknown fields fail;
//     a body sent to an operation that takes none fails);
//   - the response: the status is documented for the operation, documented
//     headers are present and valid (X-Request-ID, Retry-After on 429), the
//     body matches the schema for its Content-Type (an undocumented field
//     fails), a status documented without content has an empty body, and
//     an error body's code is the one api/errors.go maps to that status.
//
// Negative tests send bad requests on purpose, so what is checked follows
// what the server said about the request:
//
//   - 400, 413 or 415: the server refused the request as malformed, too
//     large or compressed, so the request body is not checked (everything
//     else is, including that the status is documented for the operation).
//   - 401: the server refused the credentials, so the bearer header is not
//     required (a missing or junk token is the point of the test).
//   - any other status: the request must match the document. In particular
//     a 2xx means the server accepted the request, so if the document
//     would have refused it, either the document or the server is wrong.
//     A test that expects 403, 404 or 429 must therefore send a body the
//     document allows (throttled sign-in tests send well-formed attempts).
//
// Requests to paths or methods that are not documented always fail: a test
// probing an unknown route should not call checkContract.
func checkContract(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	c := sharedContract(t)
	for _, p := range c.problems(req, reqBody, resp, respBody) {
		t.Errorf("contract: %s %s → %d: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, p)
	}
}

func (c *checkedContract) problems(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) []string {
	ctx := context.Background()
	status := resp.StatusCode
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vreq.ContentLength = int64(len(reqBody))
	vreq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }

	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		return []string{fmt.Sprintf("not a documented operation (%v)", err)}
	}
	var problems []string
	for name := range vreq.URL.Query() {
		if route.Operation.Parameters.GetByInAndName(openapi3.ParameterInQuery, name) == nil &&
			route.PathItem.Parameters.GetByInAndName(openapi3.ParameterInQuery, name) == nil {
			problems = append(problems, fmt.Sprintf("query parameter %q is not documented", name))
		}
	}

	opts := &openapi3filter.Options{
		MultiError:                        true,
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		AuthenticationFunc:                requireBearer,
		ExcludeRequestBody: status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge ||
			status == http.StatusUnsupportedMediaType,
	}
	if status == http.StatusUnauthorized {
		opts.AuthenticationFunc = openapi3filter.NoopAuthenticationFunc
	}
	opts.WithCustomSchemaErrorFunc(schemaProblem)
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		problems = append(problems, "request does not match the document: "+oneLine(err))
	}

	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: resp.Header, Options: opts}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, "response does not match the document: "+oneLine(err))
	}
	// kin-openapi does not look at bodies the document gives no content.
	if ref := route.Operation.Responses.Status(status); ref != nil && ref.Value != nil &&
		len(ref.Value.Content) == 0 && len(bytes.TrimSpace(respBody)) > 0 {
		problems = append(problems, fmt.Sprintf("the document gives %d no body, but the response has %d bytes", status, len(respBody)))
	}
	var eb struct {
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if status >= 400 && json.Unmarshal(respBody, &eb) == nil && eb.Error != nil {
		if want := statusOf[content.Code(eb.Error.Code)]; want != status {
			problems = append(problems, fmt.Sprintf("error code %q goes with status %d, not %d", eb.Error.Code, want, status))
		}
	}
	return problems
}

// requireBearer stands in for authentication: the contract says a secured
// operation needs "Authorization: Bearer <token>"; whether the token is
// good is the server's business, and its answer is checked separately.
func requireBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return in.NewError(fmt.Errorf("security scheme %q is not the bearer scheme this check knows", in.SecuritySchemeName))
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || strings.TrimSpace(tok) == "" {
		return in.NewError(errors.New(`no "Authorization: Bearer <token>" header`))
	}
	return nil
}

// schemaProblem names the field and the problem, without kin-openapi's
// dump of the whole schema and value.
func schemaProblem(err *openapi3.SchemaError) string {
	return fmt.Sprintf("%s: %s", "/"+strings.Join(err.JSONPointer(), "/"), err.Reason)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// fiberParam is a Fiber path parameter (":childId").
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestContractCoversEveryRoute: every method and path routes.go registers
// is an operation of the document, and every operation of the document is
// served.
func TestContractCoversEveryRoute(t *testing.T) {
	c := sharedContract(t)
	app := newHarness(t).app

	served := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" { // Fiber serves HEAD for every GET
			continue
		}
		path := fiberParam.ReplaceAllString(r.Path, "{$1}")
		if strings.ContainsAny(path, ":*+?<>") {
			t.Errorf("route %s %s uses a Fiber pattern this test cannot translate to OpenAPI", r.Method, r.Path)
			continue
		}
		served[r.Method+" "+path] = true
	}
	documented := map[string]bool{}
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	if len(served) == 0 {
		t.Fatal("the app serves no routes")
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range served {
			if !yield(k) {
				return
			}
		}
	}) {
		if !documented[k] {
			t.Errorf("route %s is served but not in mobile-contract/openapi.yaml", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("operation %s is in mobile-contract/openapi.yaml but routes.go does not serve it", k)
		}
	}
}

// TestContractDocumentIsValid holds the document to rules an app team
// relies on, beyond what OpenAPI itself requires:
//
//   - it is valid OpenAPI 3.0 and every example matches its schema;
//   - every operation has an operationId (generated method names) and a
//     2xx response;
//   - every JSON request body and every 2xx JSON response has an example
//     on its media type (example or examples), and each example is
//     checked against the schema here too, so the examples are the
//     contract and not decoration;
//   - every object schema that lists properties sets
//     additionalProperties: false, so an undocumented field fails a check
//     rather than slipping through;
//   - an operation that takes a body documents 400, 413 and 415, and a secured
//     operation documents 401.
func TestContractDocumentIsValid(t *testing.T) {
	ctx := context.Background()
	doc, err := loadContract(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Errorf("openapi: %s; the checks here and kin-openapi's validation assume 3.0", doc.OpenAPI)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId (generated clients name their methods after it)", name)
			}
			if op.RequestBody != nil {
				for mime, mt := range op.RequestBody.Value.Content {
					checkExamples(t, name+" request "+mime, mt, strings.HasPrefix(mime, "application/json"))
				}
				for _, s := range []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType} {
					if op.Responses.Status(s) == nil {
						t.Errorf("%s takes a body but does not document %d", name, s)
					}
				}
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			if len(security) > 0 && op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s is secured but does not document 401", name)
			}
			ok := false
			for code, ref := range op.Responses.Map() {
				if !strings.HasPrefix(code, "2") {
					continue
				}
				ok = true
				for mime, mt := range ref.Value.Content {
					checkExamples(t, name+" "+code+" "+mime, mt, strings.HasPrefix(mime, "application/json"))
				}
			}
			if !ok {
				t.Errorf("%s: no 2xx response", name)
			}
		}
	}
	for name, ref := range doc.Components.Schemas {
		checkClosed(t, "#/components/schemas/"+name, ref, map[*openapi3.Schema]bool{})
	}
}

// checkExamples checks a media type's examples against its schema, and
// requires one where required is set.
func checkExamples(t *testing.T, where string, mt *openapi3.MediaType, required bool) {
	t.Helper()
	var values []any
	if mt.Example != nil {
		values = append(values, mt.Example)
	}
	for _, ex := range mt.Examples {
		if ex != nil && ex.Value != nil {
			values = append(values, ex.Value.Value)
		}
	}
	if len(values) == 0 {
		if required {
			t.Errorf("%s: no example", where)
		}
		return
	}
	if mt.Schema == nil {
		t.Errorf("%s: no schema", where)
		return
	}
	for i, v := range values {
		if err := mt.Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
			t.Errorf("%s: example %d does not match the schema: %s", where, i+1, oneLine(err))
		}
	}
}

// checkClosed requires additionalProperties: false on every object schema
// that lists properties (maps, with additionalProperties a schema, are fine).
func checkClosed(t *testing.T, where string, ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	t.Helper()
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if len(s.Properties) > 0 && (s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has) {
		t.Errorf("%s lists properties but does not set additionalProperties: false", where)
	}
	for name, p := range s.Properties {
		checkClosed(t, where+"/properties/"+name, p, seen)
	}
	checkClosed(t, where+"/items", s.Items, seen)
	for i, sub := range slices.Concat(s.AllOf, s.OneOf, s.AnyOf) {
		checkClosed(t, fmt.Sprintf("%s/(composed %d)", where, i), sub, seen)
	}
}

// recordingTB stands in for a test so the checker's own failures can be
// seen: Errorf and friends are recorded, Fatal ends the goroutine as the
// real one does.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *recordingTB) record(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, s)
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Error(args ...any)                 { r.record(fmt.Sprint(args...)) }
func (r *recordingTB) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }
func (r *recordingTB) Fail()                             { r.record("Fail") }
func (r *recordingTB) FailNow()                          { r.record("FailNow"); runtime.Goexit() }
func (r *recordingTB) Fatal(args ...any)                 { r.record(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) > 0
}

// failuresOf runs f with a recordingTB on its own goroutine (so a Fatal
// stops f, not the test) and returns what it reported.
func failuresOf(t *testing.T, f func(testing.TB)) []string {
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec.failures
}

// TestCheckContractFails shows the check can fail: answers that break the
// document in one way each are caught, and answers the document allows,
// including refusals of deliberately bad requests, pass.
func TestCheckContractFails(t *testing.T) {
	const (
		bearer   = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"
		okLogin  = `{"email":"sam.parent@example.com","password":"correct-horse-battery"}`
		okTokens = `{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":900}`
		me       = `{"kind":"staff","id":"stf_1","first_name":"Helen","last_name":"Head","email":"h@example.com","roles":[],"children":[]}`
	)
	jsonHeaders := map[string]string{"Content-Type": "application/json", "X-Request-ID": "req_1"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range jsonHeaders {
			h[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return h
	}
	cases := []struct {
		name       string
		method     string
		target     string
		auth       string
		reqBody    string
		status     int
		respHeader map[string]string
		respBody   string
		wantFail   string // "" when the exchange keeps to the contract
	}{
		{name: "documented answer", method: "GET", target: "/healthz", status: 200, respHeader: jsonHeaders, respBody: `{"status":"ok"}`},
		{name: "field the document does not list", method: "GET", target: "/healthz", status: 200, respHeader: jsonHeaders,
			respBody: `{"status":"ok","uptime":3}`, wantFail: "uptime"},
		{name: "status the operation does not document", method: "GET", target: "/healthz", status: 201, respHeader: jsonHeaders,
			respBody: `{"status":"ok"}`, wantFail: "status is not supported"},
		{name: "value outside the enum", method: "GET", target: "/healthz", status: 200, respHeader: jsonHeaders,
			respBody: `{"status":"fine"}`, wantFail: "response does not match"},
		{name: "required field missing", method: "GET", target: "/v1/me", auth: bearer, status: 200, respHeader: jsonHeaders,
			respBody: `{"kind":"staff"}`, wantFail: "first_name"},
		{name: "field of the wrong type", method: "POST", target: "/v1/auth/login", reqBody: okLogin, status: 200, respHeader: jsonHeaders,
			respBody: `{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":"900"}`, wantFail: "expires_in"},
		{name: "no X-Request-ID", method: "GET", target: "/healthz", status: 200, respHeader: with(map[string]string{"X-Request-ID": ""}),
			respBody: `{"status":"ok"}`, wantFail: "X-Request-ID"},
		{name: "wrong content type", method: "GET", target: "/healthz", status: 200, respHeader: with(map[string]string{"Content-Type": "text/html"}),
			respBody: `{"status":"ok"}`, wantFail: "Content-Type"},
		{name: "path that is not documented", method: "GET", target: "/v1/nope", status: 404, respHeader: jsonHeaders,
			respBody: `{"error":{"code":"not_found","message":"no such resource"}}`, wantFail: "not a documented operation"},
		{name: "method that is not documented", method: "DELETE", target: "/v1/me", auth: bearer, status: 404, respHeader: jsonHeaders,
			respBody: `{"error":{"code":"not_found","message":"no such resource"}}`, wantFail: "not a documented operation"},
		{name: "query parameter that is not documented", method: "GET", target: "/healthz?verbose=1", status: 200, respHeader: jsonHeaders,
			respBody: `{"status":"ok"}`, wantFail: "verbose"},
		{name: "body on a status documented without one", method: "POST", target: "/v1/auth/logout", auth: bearer, status: 204,
			respHeader: with(map[string]string{"Content-Type": "text/plain"}), respBody: "No Content", wantFail: "no body"},
		{name: "empty 204", method: "POST", target: "/v1/auth/logout", auth: bearer, status: 204, respHeader: with(map[string]string{"Content-Type": ""})},
		{name: "error code of another status", method: "GET", target: "/v1/me", auth: bearer, status: 404, respHeader: jsonHeaders,
			respBody: `{"error":{"code":"forbidden","message":"no"}}`, wantFail: "goes with status 403"},
		{name: "429 without Retry-After", method: "POST", target: "/v1/auth/login", reqBody: okLogin, status: 429, respHeader: jsonHeaders,
			respBody: `{"error":{"code":"throttled","message":"too many attempts; try again later"}}`, wantFail: "Retry-After"},
		{name: "429 with Retry-After", method: "POST", target: "/v1/auth/login", reqBody: okLogin, status: 429,
			respHeader: with(map[string]string{"Retry-After": "30"}), respBody: `{"error":{"code":"throttled","message":"too many attempts; try again later"}}`},
		{name: "unknown request field accepted", method: "POST", target: "/v1/auth/login", status: 200, respHeader: jsonHeaders,
			reqBody: `{"email":"a@example.com","password":"pw","role":"admin"}`, respBody: okTokens, wantFail: "role"},
		{name: "malformed request refused with 400", method: "POST", target: "/v1/auth/login", reqBody: `{"email":`, status: 400, respHeader: jsonHeaders,
			respBody: `{"error":{"code":"invalid","message":"the body is not valid JSON","fields":{"body":"malformed JSON"}}}`},
		{name: "unknown request field refused with 400", method: "POST", target: "/v1/auth/login", status: 400, respHeader: jsonHeaders,
			reqBody:  `{"email":"a@example.com","password":"pw","role":"admin"}`,
			respBody: `{"error":{"code":"invalid","message":"the body has a field that is not allowed","fields":{"role":"unknown field"}}}`},
		{name: "bad request answered with 403", method: "POST", target: "/v1/schools/sch_1/classes", auth: bearer, reqBody: `{}`, status: 403,
			respHeader: jsonHeaders, respBody: `{"error":{"code":"forbidden","message":"this is for school staff"}}`, wantFail: "request does not match"},
		{name: "body sent to an operation that takes none", method: "POST", target: "/v1/auth/logout", auth: bearer, reqBody: `{"all":true}`,
			status: 204, wantFail: "request does not match", respHeader: with(map[string]string{"Content-Type": ""})},
		{name: "secured operation without a token succeeds", method: "GET", target: "/v1/me", status: 200, respHeader: jsonHeaders,
			respBody: me, wantFail: "Authorization"},
		{name: "secured operation without a token refused with 401", method: "GET", target: "/v1/me", status: 401, respHeader: jsonHeaders,
			respBody: `{"error":{"code":"unauthenticated","message":"sign in first"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.reqBody))
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			for k, v := range tc.respHeader {
				resp.Header.Set(k, v)
			}
			got := failuresOf(t, func(tb testing.TB) {
				checkContract(tb, req, []byte(tc.reqBody), resp, []byte(tc.respBody))
			})
			switch {
			case tc.wantFail == "" && len(got) > 0:
				t.Errorf("want no failure, got %q", got)
			case tc.wantFail != "" && len(got) == 0:
				t.Errorf("want a failure mentioning %q, got none", tc.wantFail)
			case tc.wantFail != "" && !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, tc.wantFail) }):
				t.Errorf("want a failure mentioning %q, got %q", tc.wantFail, got)
			}
			for _, f := range got {
				if !strings.Contains(f, tc.method+" ") || !strings.Contains(f, fmt.Sprintf("→ %d", tc.status)) {
					t.Errorf("failure %q does not name the method, path and status", f)
				}
			}
		})
	}
}

// TestCheckContractOnRealAnswers sends requests that need no store through
// the real app: the check passes what the app really sends (content types,
// headers, refusals, Fiber's own 413) and fails an unknown route.
func TestCheckContractOnRealAnswers(t *testing.T) {
	app := newHarness(t).app
	cases := []struct {
		name, method, target, body string
		status                     int
		wantFail                   bool
	}{
		{name: "health", method: "GET", target: "/healthz", status: 200},
		{name: "ready", method: "GET", target: "/readyz", status: 200},
		{name: "metrics", method: "GET", target: "/metrics", status: 200},
		{name: "me without a token", method: "GET", target: "/v1/me", status: 401},
		{name: "logout without a token", method: "POST", target: "/v1/auth/logout", status: 401},
		{name: "unknown route", method: "GET", target: "/nope", status: 404, wantFail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			checkRealAnswer(t, tc.method, tc.target, tc.body, resp, tc.status, tc.wantFail)
		})
	}

	// An oversize body is refused from its Content-Length before it is
	// read, and the connection closed: through a real socket, as a client
	// sees it.
	t.Run("body over the limit", func(t *testing.T) {
		d := newHarness(t).deps
		d.BodyLimit = 64
		small := mustNew(t, d)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = small.Listener(ln) }()
		t.Cleanup(func() { _ = small.Shutdown() })
		body := `{"email":"` + strings.Repeat("a", 100) + `@example.com","password":"correct-horse-battery"}`
		resp, err := http.Post("http://"+ln.Addr().String()+"/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		checkRealAnswer(t, "POST", "/v1/auth/login", body, resp, http.StatusRequestEntityTooLarge, false)
	})
}

// checkRealAnswer reads resp and runs checkContract on it with a recording
// test, failing t unless the check fails exactly when wantFail says.
func checkRealAnswer(t *testing.T, method, target, reqBody string, resp *http.Response, status int, wantFail bool) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	req := httptest.NewRequest(method, target, strings.NewReader(reqBody))
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	got := failuresOf(t, func(tb testing.TB) { checkContract(tb, req, []byte(reqBody), resp, body) })
	if wantFail != (len(got) > 0) {
		t.Errorf("want failure %v, got %q", wantFail, got)
	}
}

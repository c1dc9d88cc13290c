package content

import (
	"errors"
	"fmt"
)

// Code classifies an error for every edge (HTTP status, task retry). It is
// the only error vocabulary the API shows to clients.
type Code string

const (
	CodeInvalid            Code = "invalid"                   // 400: the request is malformed or fails validation
	CodeUnauthenticated    Code = "unauthenticated"           // 401: no or bad credentials
	CodeInvalidCredentials Code = "invalid_credentials"       // 401: sign-in failed (same for unknown accounts)
	CodeForbidden          Code = "forbidden"                 // 403: known to the caller but not allowed
	CodeReauthRequired     Code = "reauthentication_required" // 403: a destructive action needs the password again
	CodeNotFound           Code = "not_found"                 // 404: absent, or not visible to the caller
	CodeConflict           Code = "conflict"                  // 409: clashes with existing state
	CodeChildLeft          Code = "child_left"                // 409: the child has left the school; their data is read-only
	CodeGone               Code = "gone"                      // 410: was here, has expired
	CodeTooLarge           Code = "too_large"                 // 413
	CodeUnprocessable      Code = "unprocessable"             // 422: well-formed but refused (e.g. reused idempotency key)
	CodeThrottled          Code = "throttled"                 // 429
	CodeUnavailable        Code = "unavailable"               // 503: a dependency is down
	CodeInternal           Code = "internal"                  // 500
)

// CodeUnsupportedEncoding (415) refuses a compressed request body
// (Content-Encoding other than identity): the API reads bodies as sent.
const CodeUnsupportedEncoding Code = "unsupported_encoding"

// Codes lists every error code, in the order above; the contract's
// error-code enum must hold each one.
var Codes = []Code{
	CodeInvalid, CodeUnauthenticated, CodeInvalidCredentials, CodeForbidden, CodeReauthRequired,
	CodeNotFound, CodeConflict, CodeChildLeft, CodeGone, CodeTooLarge, CodeUnprocessable,
	CodeThrottled, CodeUnavailable, CodeInternal, CodeUnsupportedEncoding,
}

// Error is a classified error. Message is safe to show to the caller; Err is
// the cause, for logs only.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string // field path → problem, for CodeInvalid
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a classified error with a client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap classifies a cause with a client-safe message.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal for unclassified errors.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// ErrNotFound is returned by stores when a document does not exist.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}

// ErrConflict is returned by stores on a duplicate key.
var ErrConflict = &Error{Code: CodeConflict, Message: "already exists"}

// FieldErrors collects per-field validation problems.
type FieldErrors map[string]string

// Add records a problem for a field; the first problem per field wins.
func (f FieldErrors) Add(field, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
}

// Err returns a CodeInvalid error if any problem was recorded, else nil.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Message: "the request has invalid fields", Fields: map[string]string(f)}
}

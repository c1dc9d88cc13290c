package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

var statusOf = map[content.Code]int{
	content.CodeInvalid:            http.StatusBadRequest,
	content.CodeUnauthenticated:    http.StatusUnauthorized,
	content.CodeInvalidCredentials: http.StatusUnauthorized,
	content.CodeForbidden:          http.StatusForbidden,
	content.CodeReauthRequired:     http.StatusForbidden,
	content.CodeNotFound:           http.StatusNotFound,
	content.CodeConflict:           http.StatusConflict,
	content.CodeChildLeft:          http.StatusConflict,
	content.CodeTooLarge:           http.StatusRequestEntityTooLarge,
	content.CodeUnprocessable:      http.StatusUnprocessableEntity,
	content.CodeThrottled:          http.StatusTooManyRequests,
	content.CodeGone:               http.StatusGone,
	content.CodeUnavailable:        http.StatusServiceUnavailable,
	content.CodeInternal:           http.StatusInternalServerError,

	content.CodeUnsupportedEncoding: http.StatusUnsupportedMediaType,
}

// fiberCodes maps Fiber's own errors (routing, body limit) into our codes.
var fiberCodes = map[int]content.Code{
	http.StatusNotFound:              content.CodeNotFound,
	http.StatusMethodNotAllowed:      content.CodeNotFound,
	http.StatusRequestEntityTooLarge: content.CodeTooLarge,
	http.StatusBadRequest:            content.CodeInvalid,
	http.StatusUnsupportedMediaType:  content.CodeInvalid,
	http.StatusRequestTimeout:        content.CodeUnavailable,
}

// handleError is the one place errors become HTTP responses. Unclassified
// errors are logged and shown as a bare 500: clients never see err.Error().
func (s *server) handleError(c *fiber.Ctx, err error) error {
	var ce *content.Error
	var fe *fiber.Error
	body := errorBody{}
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &ce):
		status = statusOf[ce.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		body.Error = errorDetail{Code: string(ce.Code), Message: ce.Message, Fields: ce.Fields}
		if status == http.StatusInternalServerError {
			body.Error = errorDetail{Code: string(content.CodeInternal), Message: "internal error"}
		}
	case errors.As(err, &fe):
		code, ok := fiberCodes[fe.Code]
		if !ok {
			code = content.CodeInternal
		}
		status = statusOf[code]
		msg := map[content.Code]string{
			content.CodeNotFound:    "no such resource",
			content.CodeTooLarge:    "the request body is too large",
			content.CodeInvalid:     "the request is malformed",
			content.CodeUnavailable: "the request took too long",
		}[code]
		if msg == "" {
			msg = "internal error"
		}
		body.Error = errorDetail{Code: string(code), Message: msg}
	default:
		body.Error = errorDetail{Code: string(content.CodeInternal), Message: "internal error"}
	}
	if status >= 500 {
		s.Log.Error("request failed", "request_id", requestID(c), "route", routeOf(c), "status", status, "err", err)
	}
	if status == http.StatusTooManyRequests && ce != nil && ce.Fields != nil {
		if ra := ce.Fields["retry_after_seconds"]; ra != "" {
			c.Set(fiber.HeaderRetryAfter, ra)
			delete(ce.Fields, "retry_after_seconds")
			if len(ce.Fields) == 0 {
				body.Error.Fields = nil
			}
		}
	}
	return c.Status(status).JSON(body)
}

// throttled builds a 429 carrying the Retry-After hint.
func throttled(retryAfterSeconds int) error {
	if retryAfterSeconds < 1 {
		retryAfterSeconds = 1
	}
	return &content.Error{Code: content.CodeThrottled, Message: "too many attempts; try again later",
		Fields: map[string]string{"retry_after_seconds": strconv.Itoa(retryAfterSeconds)}}
}

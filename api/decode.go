package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hometime-edu/hometime/content"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

const maxJSONDepth = 32

// decodeJSON reads a request body strictly: JSON content type, bounded
// nesting, no unknown fields (privileged fields such as role or schoolId
// cannot ride along), no trailing data. Errors name the field.
func decodeJSON(c *fiber.Ctx, v any) error {
	// The body as sent: never c.Body(), which would inflate a compressed
	// one without a limit (refuseEncodedBodies refuses those anyway).
	body := c.Request().Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return &content.Error{Code: content.CodeInvalid, Message: "a JSON body is required",
			Fields: map[string]string{"body": "required"}}
	}
	if ct := string(c.Request().Header.ContentType()); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &content.Error{Code: content.CodeInvalid, Message: "the body must be JSON",
			Fields: map[string]string{"body": "Content-Type must be application/json"}}
	}
	return decodeJSONBytes(body, v)
}

// decodeJSONBytes is decodeJSON without the HTTP parts; it is fuzzed.
func decodeJSONBytes(body []byte, v any) error {
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return &content.Error{Code: content.CodeInvalid, Message: "the JSON body is nested too deeply",
			Fields: map[string]string{"body": err.Error()}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &content.Error{Code: content.CodeInvalid, Message: "the body must hold one JSON value",
			Fields: map[string]string{"body": "unexpected data after the JSON value"}}
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return &content.Error{Code: content.CodeInvalid, Message: "a field has the wrong type",
			Fields: map[string]string{field: "must be " + jsonTypeName(te.Type.Kind().String())}, Err: err}
	case errors.As(err, &se):
		return &content.Error{Code: content.CodeInvalid, Message: "the body is not valid JSON",
			Fields: map[string]string{"body": fmt.Sprintf("syntax error at byte %d", se.Offset)}, Err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &content.Error{Code: content.CodeInvalid, Message: "the body has a field that is not allowed",
			Fields: map[string]string{name: "unknown field"}, Err: err}
	default:
		return &content.Error{Code: content.CodeInvalid, Message: "the body is not valid JSON",
			Fields: map[string]string{"body": "malformed JSON"}, Err: err}
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// checkDepth refuses nesting deeper than max without decoding.
func checkDepth(b []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, ch := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
			continue
		}
		switch ch {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("nesting deeper than %d", max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// queryLimit reads a list's "limit" query parameter: def when absent, else
// a whole number from 1 to max written plainly ("07" and "1e2" are
// refused), with a field error in fe otherwise.
func queryLimit(c *fiber.Ctx, fe content.FieldErrors, def, max int) int {
	v := c.Query("limit")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max || strconv.Itoa(n) != v {
		fe.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(max))
	}
	return n
}

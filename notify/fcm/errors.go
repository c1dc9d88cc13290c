package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/internal/providerkit"
)

// classify sorts the error of one message in a SendEach batch.
func (s *Sender) classify(err error) *notify.SendError {
	resp := errorutils.HTTPResponse(err)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	se := &notify.SendError{Err: fmt.Errorf("fcm: %w", err)}
	switch {
	case resp != nil && resp.Header.Get(ambiguousHeader) != "":
		se.Kind, se.Code = notify.KindAmbiguous, resp.Header.Get(ambiguousHeader)
	case messaging.IsUnregistered(err):
		se.Kind, se.Code = notify.KindRecipientInvalid, "UNREGISTERED"
	case messaging.IsSenderIDMismatch(err):
		// The token belongs to another Firebase project: it is no use to us.
		se.Kind, se.Code = notify.KindRecipientInvalid, "SENDER_ID_MISMATCH"
	case messaging.IsInvalidArgument(err) || errorutils.IsInvalidArgument(err):
		se.Code = "INVALID_ARGUMENT"
		se.Kind = notify.KindPermanent
		if tokenLevel(err, resp) {
			se.Kind = notify.KindRecipientInvalid
		}
	case messaging.IsQuotaExceeded(err) || status == http.StatusTooManyRequests:
		se.Kind, se.Code = notify.KindRateLimited, "QUOTA_EXCEEDED"
		if resp != nil {
			se.RetryAfter = providerkit.RetryAfter(resp.Header.Get("Retry-After"), s.now())
		}
	case messaging.IsUnavailable(err):
		se.Kind, se.Code = notify.KindTransient, "UNAVAILABLE"
	case messaging.IsInternal(err):
		se.Kind, se.Code = notify.KindTransient, "INTERNAL"
	case status >= 500:
		se.Kind, se.Code = notify.KindTransient, "http_"+strconv.Itoa(status)
	case resp == nil:
		// No answer and nothing written (guardTransport turns written-but-
		// unanswered into a response), or the context ended between retries.
		se.Kind, se.Code = notify.KindTransient, "network"
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			se.Code = "canceled"
		}
	case messaging.IsThirdPartyAuthError(err):
		se.Kind, se.Code = notify.KindPermanent, "THIRD_PARTY_AUTH_ERROR"
	default:
		se.Kind, se.Code = notify.KindPermanent, "http_"+strconv.Itoa(status)
	}
	return se
}

// tokenLevel tells an invalid registration token from an invalid payload:
// both are INVALID_ARGUMENT. FCM names the token in the message, and may
// point a BadRequest field violation at message.token.
func tokenLevel(err error, resp *http.Response) bool {
	if strings.Contains(strings.ToLower(err.Error()), "registration token") {
		return true
	}
	if resp == nil || resp.Body == nil {
		return false
	}
	body, rerr := io.ReadAll(resp.Body)
	if rerr != nil {
		return false
	}
	var e struct {
		Error struct {
			Details []struct {
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	for _, d := range e.Error.Details {
		for _, v := range d.FieldViolations {
			if v.Field == "message.token" {
				return true
			}
		}
	}
	return false
}

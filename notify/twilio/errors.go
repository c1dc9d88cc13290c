package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/twilio/twilio-go/client"

	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/notify/internal/providerkit"
)

// codeKinds sorts the Twilio error codes the pipeline must act on. The
// 3xxxx codes normally arrive on status callbacks (see CallbackErrorKind)
// but are sorted the same way if an API call ever returns one.
var codeKinds = map[int]notify.ErrorKind{
	21211: notify.KindRecipientInvalid, // invalid 'To' number
	21217: notify.KindRecipientInvalid, // phone number does not appear to be valid
	21401: notify.KindRecipientInvalid, // invalid phone number
	21612: notify.KindRecipientInvalid, // 'To' not reachable via SMS
	21614: notify.KindRecipientInvalid, // 'To' is not a mobile number
	30005: notify.KindRecipientInvalid, // unknown destination handset
	30006: notify.KindRecipientInvalid, // landline or unreachable carrier
	21610: notify.KindSuppressed,       // recipient replied STOP
	30004: notify.KindSuppressed,       // message blocked by the recipient
	20429: notify.KindRateLimited,      // too many requests; never processed
	21611: notify.KindRateLimited,      // sender's queue holds more than 10 h
	30003: notify.KindPermanent,        // handset unreachable: record, do not resend blindly
	30007: notify.KindPermanent,        // carrier filtered
	21408: notify.KindPermanent,        // sending to this region is not enabled
}

// CallbackErrorKind sorts the ErrorCode of a status callback (30003, 30006,
// 21610, …). Unknown codes are KindPermanent: the message failed.
func CallbackErrorKind(code int) notify.ErrorKind {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	return notify.KindPermanent
}

// classify turns an SDK error into a SendError, using what the call's
// transport saw. Its Err is built fresh: Twilio's messages can echo the
// recipient's number, so they are redacted before they reach any log.
func (s *Sender) classify(call *callTransport, err error) *notify.SendError {
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		status := rest.Status
		if status == 0 {
			status = call.status
		}
		return s.apiError(status, rest.Code, rest.Message, call.header)
	}
	if call.status != 0 {
		// An answer arrived but its body could not be decoded.
		if call.status >= 200 && call.status < 300 {
			return &notify.SendError{Kind: notify.KindAmbiguous, Code: "unreadable_response",
				Err: fmt.Errorf("twilio answered HTTP %d but the body was unreadable: %v", call.status, err)}
		}
		return s.apiError(call.status, 0, "undecodable error body", call.header)
	}
	if errors.Is(err, errSecondAttempt) || call.wrote.Load() {
		return &notify.SendError{Kind: notify.KindAmbiguous, Code: providerkit.NetworkCode(err),
			Err: fmt.Errorf("request written, no answer: %w", err)}
	}
	return &notify.SendError{Kind: notify.KindTransient, Code: providerkit.NetworkCode(err),
		Err: fmt.Errorf("request not sent: %w", err)}
}

func (s *Sender) apiError(status, code int, msg string, h http.Header) *notify.SendError {
	se := &notify.SendError{
		Code: strconv.Itoa(code),
		Err:  fmt.Errorf("twilio HTTP %d, error %d: %s", status, code, providerkit.Redact(msg)),
	}
	if code == 0 {
		se.Code = "http_" + strconv.Itoa(status)
	}
	kind, known := codeKinds[code]
	switch {
	case known:
		se.Kind = kind
	case status == http.StatusTooManyRequests:
		se.Kind = notify.KindRateLimited
	case status >= 500:
		se.Kind = notify.KindTransient
	default:
		se.Kind = notify.KindPermanent
	}
	if se.Kind == notify.KindRateLimited && h != nil {
		se.RetryAfter = providerkit.RetryAfter(h.Get("Retry-After"), s.now())
	}
	return se
}

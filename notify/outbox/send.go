package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"strings"

	"github.com/hometime-edu/hometime/notify"
)

// Error codes the outbox gives in notify.SendError.Code. Like a provider, it
// rejects what a provider would reject, so bugs show up in development.
const (
	CodeCanceled      = "canceled"          // context done before recording: not sent, safe to retry
	CodeBatchTooLarge = "batch_too_large"   // more than the provider's batch limit
	CodeInvalidTo     = "invalid_recipient" // not E.164 / not an address / empty token
	CodeEmptyMessage  = "empty_message"     // nothing to send
	CodeWriteFailed   = "write_failed"      // the outbox file could not be written
)

// SendSMS records one SMS and reports its segment count.
func (o *Outbox) SendSMS(ctx context.Context, m notify.SMS) notify.Result {
	if err := ctx.Err(); err != nil {
		return o.reject(ctx, notify.ChannelSMS, m.Ref, sendErr(notify.KindTransient, CodeCanceled, err))
	}
	if !isE164(m.To) {
		return o.reject(ctx, notify.ChannelSMS, m.Ref, sendErr(notify.KindRecipientInvalid, CodeInvalidTo, errors.New("recipient is not an E.164 number")))
	}
	if strings.TrimSpace(m.Body) == "" {
		return o.reject(ctx, notify.ChannelSMS, m.Ref, sendErr(notify.KindPermanent, CodeEmptyMessage, errors.New("empty SMS body")))
	}
	seg := notify.CountSegments(m.Body)
	rec := Record{Channel: notify.ChannelSMS, Ref: m.Ref, ProviderID: newProviderID(notify.ChannelSMS),
		To: m.To, From: m.From, Body: m.Body, Segments: seg.Segments, Encoding: seg.Encoding}
	res := notify.Result{Ref: m.Ref, ProviderID: rec.ProviderID, Segments: seg.Segments}
	if err := o.record(ctx, notify.ChannelSMS, []Record{rec}); err != nil {
		res.ProviderID, res.Segments, res.Err = "", 0, err
	}
	return res
}

// SendEmails records up to notify.MaxEmailBatch emails, one result each.
func (o *Outbox) SendEmails(ctx context.Context, emails []notify.Email) ([]notify.Result, error) {
	return sendBatch(ctx, o, notify.ChannelEmail, emails, notify.MaxEmailBatch,
		func(e notify.Email) string { return e.Ref },
		func(e notify.Email) (Record, error) {
			if addr, err := mail.ParseAddress(e.To); err != nil || addr.Address != e.To {
				return Record{}, sendErr(notify.KindRecipientInvalid, CodeInvalidTo, errors.New("recipient is not a bare email address"))
			}
			if strings.TrimSpace(e.Subject) == "" || (strings.TrimSpace(e.Text) == "" && strings.TrimSpace(e.HTML) == "") {
				return Record{}, sendErr(notify.KindPermanent, CodeEmptyMessage, errors.New("email needs a subject and a text or HTML body"))
			}
			return Record{To: e.To, Subject: e.Subject, Body: e.Text, HTML: e.HTML, Category: e.Category}, nil
		})
}

// SendPushes records up to notify.MaxPushBatch pushes, one result each.
func (o *Outbox) SendPushes(ctx context.Context, pushes []notify.Push) ([]notify.Result, error) {
	return sendBatch(ctx, o, notify.ChannelPush, pushes, notify.MaxPushBatch,
		func(p notify.Push) string { return p.Ref },
		func(p notify.Push) (Record, error) {
			if strings.TrimSpace(p.Token) == "" {
				return Record{}, sendErr(notify.KindRecipientInvalid, CodeInvalidTo, errors.New("empty device token"))
			}
			if strings.TrimSpace(p.Title) == "" && strings.TrimSpace(p.Body) == "" {
				return Record{}, sendErr(notify.KindPermanent, CodeEmptyMessage, errors.New("push needs a title or body"))
			}
			return Record{To: p.Token, Title: p.Title, Body: p.Body, Data: maps.Clone(p.Data)}, nil
		})
}

// sendBatch applies the batch contract of notify.EmailSender and
// notify.PushSender: a whole-call failure is returned and set on every
// result; otherwise each message is accepted or rejected on its own, and
// all accepted ones are appended in one write.
func sendBatch[M any](ctx context.Context, o *Outbox, ch notify.Channel, msgs []M, limit int,
	ref func(M) string, toRecord func(M) (Record, error)) ([]notify.Result, error) {
	results := make([]notify.Result, len(msgs))
	for i, m := range msgs {
		results[i].Ref = ref(m)
	}
	failAll := func(err error) ([]notify.Result, error) {
		for i := range results {
			results[i] = o.reject(ctx, ch, results[i].Ref, err)
		}
		return results, err
	}
	if err := ctx.Err(); err != nil {
		return failAll(sendErr(notify.KindTransient, CodeCanceled, err))
	}
	if len(msgs) > limit {
		return failAll(sendErr(notify.KindPermanent, CodeBatchTooLarge, fmt.Errorf("%d %s messages, limit %d", len(msgs), ch, limit)))
	}
	var recs []Record
	var accepted []int
	for i, m := range msgs {
		rec, err := toRecord(m)
		if err != nil {
			results[i] = o.reject(ctx, ch, results[i].Ref, err)
			continue
		}
		rec.Channel, rec.Ref, rec.ProviderID = ch, results[i].Ref, newProviderID(ch)
		recs = append(recs, rec)
		accepted = append(accepted, i)
	}
	if len(recs) == 0 {
		return results, nil
	}
	if err := o.record(ctx, ch, recs); err != nil {
		// Nothing in this call was recorded: the write is all or nothing
		// as far as we can tell, and retrying is safe.
		return failAll(err)
	}
	for j, i := range accepted {
		results[i].ProviderID = recs[j].ProviderID
	}
	return results, nil
}

// record stamps, appends and remembers accepted messages, and logs them by
// channel, ref and provider id only.
func (o *Outbox) record(ctx context.Context, ch notify.Channel, recs []Record) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var lines []byte
	for i := range recs {
		recs[i].At = o.now().UTC()
		line, err := json.Marshal(recs[i])
		if err != nil {
			return sendErr(notify.KindPermanent, CodeWriteFailed, fmt.Errorf("encode %s record: %w", ch, err))
		}
		lines = append(append(lines, line...), '\n')
	}
	if err := o.appendLines(ch, lines); err != nil {
		o.log.ErrorContext(ctx, "outbox write failed", "channel", ch, "messages", len(recs), "error", err)
		return sendErr(notify.KindTransient, CodeWriteFailed, err)
	}
	o.remember(recs...)
	// One line per batch at info (the page senders log their own summary);
	// each message's ref at debug, for tracing one message.
	o.log.InfoContext(ctx, "outbox recorded messages", "channel", ch, "messages", len(recs))
	for _, r := range recs {
		o.log.DebugContext(ctx, "outbox recorded message", "channel", ch, "ref", r.Ref, "provider_id", r.ProviderID)
	}
	return nil
}

// reject logs a refused message (without its error text, which could one
// day quote a recipient) and returns its result.
func (o *Outbox) reject(ctx context.Context, ch notify.Channel, ref string, err error) notify.Result {
	var se *notify.SendError
	code := ""
	if errors.As(err, &se) {
		code = se.Code
	}
	o.log.WarnContext(ctx, "outbox rejected message", "channel", ch, "ref", ref, "kind", notify.KindOf(err), "code", code)
	return notify.Result{Ref: ref, Err: err}
}

func sendErr(kind notify.ErrorKind, code string, err error) error {
	return &notify.SendError{Kind: kind, Code: code, Err: fmt.Errorf("outbox: %w", err)}
}

// newProviderID makes an id shaped like a provider's, unique across
// processes sharing the directory.
func newProviderID(ch notify.Channel) string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return "outbox-" + string(ch) + "-" + hex.EncodeToString(b[:])
}

// isE164 reports whether s looks like an E.164 number: "+", a non-zero
// digit and 7 to 14 more digits.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

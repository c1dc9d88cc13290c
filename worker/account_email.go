package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify"
	"github.com/hometime-edu/hometime/worker/tasks"
)

// resetTokenTTL is how long an emailed reset or welcome link works.
const resetTokenTTL = time.Hour

// welcomeTokenTTL is longer: new staff may not read the email at once.
const welcomeTokenTTL = 72 * time.Hour

// staleRequest is when a queued request is too old to be worth sending.
const staleRequest = 24 * time.Hour

// AccountEmails mints a password-reset (or first-password) token and emails
// the link, or, for a parent's reset by phone, a short code it texts. The
// token or code is made here, stored only as a keyed hash, and never passes
// through Redis.
type AccountEmails struct{ Deps }

func (h *AccountEmails) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseAccountEmail(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	req, err := h.Identity.ResetRequest(ctx, p.RequestID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil // erased or never written: nothing is owed
	} else if err != nil {
		return err
	}
	now := h.Clock.Now()
	if !req.SentAt.IsZero() || now.Sub(req.CreatedAt) > staleRequest {
		return nil
	}
	if req.Purpose == content.PurposeResetSMS {
		return h.sendResetCode(ctx, req, now)
	}
	to, lang, err := h.recipient(ctx, req)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if to == "" {
		return nil // no email on the account: nothing to send to
	}
	ttl := resetTokenTTL
	if req.Purpose == "welcome" {
		ttl = welcomeTokenTTL
	}
	token := content.NewSecret()
	if err := h.Identity.PutResetToken(ctx, &content.ResetToken{Hash: content.KeyedHash(h.HashKey, "reset:"+token),
		Kind: req.Kind, AccountID: req.AccountID, ExpiresAt: now.Add(ttl)}); err != nil {
		return err
	}
	msg, err := h.Catalog.RenderOrEnglish(notify.TemplatePasswordReset, lang,
		notify.Params{Link: h.AppURL + "/reset-password?token=" + token})
	if err != nil {
		return fmt.Errorf("%w: render: %v", asynq.SkipRetry, err)
	}
	results, err := h.Email.SendEmails(ctx, []notify.Email{msg.Email(req.ID, to)})
	if err == nil && len(results) == 1 {
		err = results[0].Err
	}
	return h.settle(ctx, req, now, err)
}

// settle records what became of an account message's one send: accepted,
// or failed for good, marks the request sent; a failure the provider did
// not accept is retried (with a fresh token or code).
func (h *AccountEmails) settle(ctx context.Context, req *content.ResetRequest, now time.Time, err error) error {
	switch notify.KindOf(err) {
	case "":
		if err != nil {
			return err
		}
	case notify.KindTransient, notify.KindRateLimited:
		return err // not accepted: safe to retry with a fresh token
	case notify.KindAmbiguous:
		// It may have been accepted: mark it sent rather than risk a second
		// email; the person can ask again.
		h.Log.Warn("account message outcome unknown", "request_id", req.ID)
	default:
		if err := h.Identity.MarkResetRequestSent(ctx, req.ID, now); err != nil {
			return err
		}
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	return h.Identity.MarkResetRequestSent(ctx, req.ID, now)
}

func (h *AccountEmails) recipient(ctx context.Context, r *content.ResetRequest) (email, lang string, err error) {
	if r.Kind == content.KindStaff {
		st, err := h.Roster.Staff(ctx, r.AccountID)
		if err != nil {
			return "", "", err
		}
		return st.Email, "en", nil
	}
	p, err := h.Roster.Parent(ctx, r.AccountID)
	if err != nil {
		return "", "", err
	}
	if !p.CanSignIn() {
		return "", "", nil
	}
	return p.Email, p.Language, nil
}

// sendResetCode texts a parent a fresh reset code, replacing any earlier
// one. A request older than the code's lifetime is dropped: a code that
// arrives dead is no use.
func (h *AccountEmails) sendResetCode(ctx context.Context, req *content.ResetRequest, now time.Time) error {
	if req.Kind != content.KindParent || now.Sub(req.CreatedAt) > content.ResetCodeTTL {
		return nil
	}
	p, err := h.Roster.Parent(ctx, req.AccountID)
	if content.IsCode(err, content.CodeNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if !p.CanSignIn() || p.Phone == "" {
		return nil
	}
	code := content.NewResetCode()
	if err := h.Identity.PutResetCode(ctx, &content.ResetCode{Kind: req.Kind, AccountID: req.AccountID,
		Hash: content.ResetCodeHash(h.HashKey, req.Kind, req.AccountID, code), ExpiresAt: now.Add(content.ResetCodeTTL)}); err != nil {
		return err
	}
	msg, err := h.Catalog.RenderFor(notify.ChannelSMS, notify.TemplatePasswordResetCode, p.Language, notify.Params{Code: code})
	if err != nil {
		return fmt.Errorf("%w: render: %v", asynq.SkipRetry, err)
	}
	if _, err := h.Limiter.Wait(ctx, h.SMSSenderKey, h.SMSRate, 1); err != nil {
		return err
	}
	res := h.SMS.SendSMS(ctx, msg.SMS(req.ID, p.Phone))
	return h.settle(ctx, req, now, res.Err)
}

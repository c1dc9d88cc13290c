package stack

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"path/filepath"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/notify/fcm"
	"github.com/hometime-edu/hometime/notify/outbox"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"github.com/hometime-edu/hometime/notify/twilio"
	"github.com/hometime-edu/hometime/worker"
)

// openSenders picks, per channel, the real provider when its credentials
// are set and the local outbox otherwise, and says which in the log.
func (st *Stack) openSenders(ctx context.Context, log *slog.Logger) error {
	cfg := st.Config
	dir := filepath.Join(cfg.DataDir, "outbox")
	ob, err := outbox.New(dir, log)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	st.Email, st.SMS, st.Push, st.Outbox = ob, ob, ob, ob
	channels := map[string]string{"sms": "outbox", "email": "outbox", "push": "outbox"}

	if cfg.TwilioAccountSID != "" {
		callback := ""
		if cfg.PublicURL != "" {
			callback = cfg.PublicURL + api.TwilioStatusPath
		}
		tc := twilio.Config{AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, StatusCallback: callback,
			BaseURL: cfg.TwilioBaseURL}
		if messagingService(cfg.TwilioFrom) {
			tc.MessagingServiceSID = cfg.TwilioFrom
		} else {
			tc.From = cfg.TwilioFrom
		}
		s, err := twilio.New(tc)
		if err != nil {
			return fmt.Errorf("HOMETIME_TWILIO_ACCOUNT_SID: %w", err)
		}
		st.SMS, channels["sms"] = s, "twilio"
	}
	if cfg.SendGridKey != "" {
		from, err := mail.ParseAddress(cfg.EmailFrom)
		if err != nil {
			return fmt.Errorf("HOMETIME_EMAIL_FROM: must be an address such as \"Hometime <no-reply@school.org>\"")
		}
		s, err := sendgrid.New(sendgrid.Config{APIKey: cfg.SendGridKey, Host: cfg.SendGridBaseURL, From: from.Address, FromName: from.Name})
		if err != nil {
			return fmt.Errorf("SENDGRID_API_KEY: %w", err)
		}
		st.Email, channels["email"] = s, "sendgrid"
	}
	if cfg.FCMCredentialsFile != "" || cfg.FCMProjectID != "" {
		s, err := fcm.New(ctx, fcm.Config{ProjectID: cfg.FCMProjectID, CredentialsFile: cfg.FCMCredentialsFile, Endpoint: cfg.FCMEndpoint})
		if err != nil {
			return fmt.Errorf("HOMETIME_FCM_CREDENTIALS: %w", err)
		}
		st.Push, channels["push"] = s, "fcm"
	}
	st.Providers = worker.Providers{SMS: channels["sms"], Email: channels["email"], Push: channels["push"]}
	log.Info("message channels", "sms", channels["sms"], "email", channels["email"], "push", channels["push"], "outbox_dir", dir)
	return nil
}

// messagingService reports whether a sender is a Twilio Messaging Service SID.
func messagingService(from string) bool {
	return len(from) == 34 && from[:2] == "MG"
}

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hometime-edu/hometime/notify/providerfake"
)

// TestRunProductionRefuses: with HOMETIME_ENV=production the worker stops
// before connecting to anything, naming the missing store, queue, secret
// or provider (it never falls back to the outbox or a generated secret),
// and it takes no --demo or other argument.
func TestRunProductionRefuses(t *testing.T) {
	t.Parallel()
	sg := providerfake.NewSendGrid(t)
	full := map[string]string{
		"HOMETIME_ENV": "production", "HOMETIME_LOG_LEVEL": "error",
		"MONGODB_URI": "mongodb://127.0.0.1:1", "REDIS_URL": "redis://127.0.0.1:1/0",
		"HOMETIME_JWT_SECRET": strings.Repeat("j", 32), "HOMETIME_HASH_SECRET": strings.Repeat("h", 32),
		"HOMETIME_TWILIO_ACCOUNT_SID": providerfake.FakeTwilioAccountSID, "HOMETIME_TWILIO_AUTH_TOKEN": providerfake.FakeTwilioAuthToken,
		"HOMETIME_TWILIO_FROM": "+447700900001", "HOMETIME_PUBLIC_URL": "https://api.hometime.test",
		"SENDGRID_API_KEY": sg.APIKey, "HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY": sg.EventWebhookPublicKey(),
		"HOMETIME_FCM_CREDENTIALS": "/etc/hometime/fcm.json", "HOMETIME_APP_URL": "https://app.hometime.test",
	}
	cases := []struct {
		name    string
		unset   string
		args    []string
		wantErr string
	}{
		{"no store", "MONGODB_URI", nil, "MONGODB_URI"},
		{"no queue", "REDIS_URL", nil, "REDIS_URL"},
		{"no JWT secret", "HOMETIME_JWT_SECRET", nil, "HOMETIME_JWT_SECRET"},
		{"no hash secret", "HOMETIME_HASH_SECRET", nil, "HOMETIME_HASH_SECRET"},
		{"no SMS provider", "HOMETIME_TWILIO_ACCOUNT_SID", nil, "HOMETIME_TWILIO_ACCOUNT_SID"},
		{"no email provider", "SENDGRID_API_KEY", nil, "SENDGRID_API_KEY"},
		{"no push provider", "HOMETIME_FCM_CREDENTIALS", nil, "HOMETIME_FCM_CREDENTIALS"},
		{"--demo", "", []string{"--demo"}, "--demo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"HOMETIME_DATA_DIR": filepath.Join(t.TempDir(), "never-made")}
			for k, v := range full {
				if k != c.unset {
					env[k] = v
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, c.args, func(k string) string { return env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("run = %v, want an error naming %s", err, c.wantErr)
			}
			if _, statErr := os.Stat(env["HOMETIME_DATA_DIR"]); !os.IsNotExist(statErr) {
				t.Fatalf("a refused start touched the data dir: %v", statErr)
			}
		})
	}
}

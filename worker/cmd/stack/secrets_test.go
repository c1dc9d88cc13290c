package stack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/content"
	"github.com/hometime-edu/hometime/notify/providerfake"
	"github.com/hometime-edu/hometime/worker/cmd/stack/redistest"
)

// legacyHashKey is how the hash key was derived when HOMETIME_JWT_SECRET
// (or the dev secret.key) keyed everything, written out independently of
// deriveKeys.
func legacyHashKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("hometime/hash"))
	return m.Sum(nil)
}

// TestSecrets: where the JWT and hash secrets come from in each case, and
// that a development data dir made before the hash secret existed keeps
// hashing as it did, even after its secret.key is replaced.
func TestSecrets(t *testing.T) {
	t.Parallel()
	jwtEnv, hashEnv := strings.Repeat("j", 32), strings.Repeat("h", 32)
	oldSecret := "OLDDEVSECRETOLDDEVSECRETOLDDEVSECRET"

	t.Run("a data dir with only the old secret keeps its hash key", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(oldSecret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := Config{DataDir: dir, Env: EnvDevelopment}
		jwt, hash, err := secrets(cfg)
		if err != nil {
			t.Fatal(err)
		}
		keys := deriveKeys(jwt, hash)
		if !bytes.Equal(keys.Hash, legacyHashKey(oldSecret)) {
			t.Fatal("the hash key changed for an existing data dir: its suppressions would no longer match")
		}
		// The JWT secret is replaced; the hash key stays.
		if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(content.NewSecret()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		jwt2, hash2, err := secrets(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rotated := deriveKeys(jwt2, hash2)
		if bytes.Equal(rotated.JWT, keys.JWT) || bytes.Equal(rotated.Media, keys.Media) {
			t.Fatal("the JWT and media keys did not change with secret.key")
		}
		if !bytes.Equal(rotated.Hash, keys.Hash) || rotated.HashID != keys.HashID {
			t.Fatal("replacing secret.key changed the hash key")
		}
	})
	t.Run("a fresh data dir gets two independent secrets", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		jwt, hash, err := secrets(Config{DataDir: dir, Env: EnvDevelopment})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(jwt, hash) || len(jwt) < 32 || len(hash) < 32 {
			t.Fatalf("jwt %d bytes, hash %d bytes, equal %v", len(jwt), len(hash), bytes.Equal(jwt, hash))
		}
		jwt2, hash2, err := secrets(Config{DataDir: dir, Env: EnvDevelopment})
		if err != nil || !bytes.Equal(jwt, jwt2) || !bytes.Equal(hash, hash2) {
			t.Fatalf("a restart changed the secrets (%v)", err)
		}
	})
	t.Run("a JWT secret alone keys the hashes as before", func(t *testing.T) {
		t.Parallel()
		jwt, hash, err := secrets(Config{DataDir: t.TempDir(), Env: EnvDevelopment, JWTSecret: jwtEnv})
		if err != nil || string(jwt) != jwtEnv || !bytes.Equal(deriveKeys(jwt, hash).Hash, legacyHashKey(jwtEnv)) {
			t.Fatalf("hash key not the JWT secret's (%v)", err)
		}
	})
	t.Run("both from the environment", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		jwt, hash, err := secrets(Config{DataDir: dir, Env: EnvDevelopment, JWTSecret: jwtEnv, HashSecret: hashEnv})
		if err != nil || string(jwt) != jwtEnv || string(hash) != hashEnv {
			t.Fatalf("secrets %q %q (%v)", jwt, hash, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("secrets written to the data dir though both were given: %v", entries)
		}
	})
	t.Run("production never generates one", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for _, cfg := range []Config{{JWTSecret: jwtEnv}, {HashSecret: hashEnv}, {}} {
			cfg.DataDir, cfg.Env = dir, EnvProduction
			if _, _, err := secrets(cfg); err == nil || !strings.Contains(err.Error(), "HOMETIME_HASH_SECRET") {
				t.Fatalf("secrets(%+v) = %v, want an error", cfg, err)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("production wrote %v", entries)
		}
	})
}

// TestRotatingJWTSecretKeepsSuppressions: a parent texts STOP through the
// signed Twilio webhook; the deployment then rotates HOMETIME_JWT_SECRET
// and keeps HOMETIME_HASH_SECRET. After the restart the number is still
// suppressed under the key the senders use (a keyed hash of the normalised
// contact), while tokens signed under the old secret no longer verify.
func TestRotatingJWTSecretKeepsSuppressions(t *testing.T) {
	_, redisURL := redistest.New(t)
	dir := t.TempDir()
	const phone = "+447700900123"
	hashSecret := strings.Repeat("h", 40)
	open := func(jwtSecret, hashSecret string) *Stack {
		t.Helper()
		env := map[string]string{"HOMETIME_DATA_DIR": dir, "REDIS_URL": redisURL,
			"HOMETIME_JWT_SECRET": jwtSecret, "HOMETIME_HASH_SECRET": hashSecret,
			"HOMETIME_TWILIO_AUTH_TOKEN": providerfake.FakeTwilioAuthToken, "HOMETIME_PUBLIC_URL": "https://api.hometime.test"}
		cfg, err := LoadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		st, err := Open(context.Background(), cfg, NewLogger(io.Discard, "error"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	suppressed := func(st *Stack) bool {
		t.Helper()
		key, err := content.SuppressionKeyOf(st.Keys.Hash, content.SuppressionSMS, phone)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := st.Store.IsSuppressed(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	st := open(strings.Repeat("a", 40), hashSecret)
	app, err := st.APIApp(NewLogger(io.Discard, "error"), nil)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "From": {phone}, "To": {"+447700900001"}, "Body": {"STOP"}}
	req := httptest.NewRequest("POST", "/webhooks/twilio/inbound", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", providerfake.TwilioSignature(providerfake.FakeTwilioAuthToken,
		"https://api.hometime.test/webhooks/twilio/inbound", form))
	resp, err := app.Test(req, -1)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("STOP: %v %v", resp, err)
	}
	if !suppressed(st) {
		t.Fatal("STOP did not suppress")
	}
	oldKeys := st.Keys
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = open(strings.Repeat("b", 40), hashSecret)
	if bytes.Equal(st.Keys.JWT, oldKeys.JWT) {
		t.Fatal("the JWT key did not rotate")
	}
	if !suppressed(st) {
		t.Fatal("after rotating the JWT secret the STOP no longer matches")
	}
	_ = st.Close()

	// The hash secret is what matters: a different one loses the match
	// (which is why production requires it, and why it is kept).
	st = open(strings.Repeat("b", 40), strings.Repeat("x", 40))
	defer st.Close()
	if suppressed(st) {
		t.Fatal("a different hash secret still matched: the test does not test the key")
	}
}

package stack

import (
	"strings"
	"testing"

	"github.com/hometime-edu/hometime/notify/providerfake"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string // substring naming the bad variable; "" = valid
	}{
		{"defaults are dev mode", map[string]string{}, ""},
		{"bad addr", map[string]string{"HOMETIME_HTTP_ADDR": "8080"}, "HOMETIME_HTTP_ADDR"},
		{"bad mongo", map[string]string{"MONGODB_URI": "postgres://x"}, "MONGODB_URI"},
		{"bad redis", map[string]string{"REDIS_URL": "http://x"}, "REDIS_URL"},
		{"short secret", map[string]string{"HOMETIME_JWT_SECRET": "short"}, "HOMETIME_JWT_SECRET"},
		{"production needs a secret", map[string]string{"MONGODB_URI": "mongodb://m", "REDIS_URL": "redis://r:6379"}, "HOMETIME_JWT_SECRET"},
		{"production with secret", map[string]string{"MONGODB_URI": "mongodb://m", "REDIS_URL": "redis://r:6379",
			"HOMETIME_JWT_SECRET": strings.Repeat("s", 32)}, ""},
		{"mode development", map[string]string{"HOMETIME_ENV": "development"}, ""},
		{"mode unknown", map[string]string{"HOMETIME_ENV": "staging"}, "HOMETIME_ENV"},
		{"production needs the store", map[string]string{"HOMETIME_ENV": "production"}, "MONGODB_URI"},
		{"production needs the hash secret", map[string]string{"HOMETIME_ENV": "production"}, "HOMETIME_HASH_SECRET"},
		{"production needs a push provider", map[string]string{"HOMETIME_ENV": "production"}, "HOMETIME_FCM_CREDENTIALS"},
		{"short hash secret", map[string]string{"HOMETIME_HASH_SECRET": "short"}, "HOMETIME_HASH_SECRET"},
		{"metrics address", map[string]string{"HOMETIME_METRICS_ADDR": "127.0.0.1:9464"}, ""},
		{"bad metrics address", map[string]string{"HOMETIME_METRICS_ADDR": "9464"}, "HOMETIME_METRICS_ADDR"},
		{"short metrics token", map[string]string{"HOMETIME_METRICS_TOKEN": "short"}, "HOMETIME_METRICS_TOKEN"},
		{"bad concurrency", map[string]string{"HOMETIME_WORKER_CONCURRENCY": "0"}, "HOMETIME_WORKER_CONCURRENCY"},
		{"bad level", map[string]string{"HOMETIME_LOG_LEVEL": "loud"}, "HOMETIME_LOG_LEVEL"},
		{"bad timeout", map[string]string{"HOMETIME_STORE_TIMEOUT": "soon"}, "HOMETIME_STORE_TIMEOUT"},
		{"twilio without sender", map[string]string{"HOMETIME_TWILIO_ACCOUNT_SID": "AC123"}, "HOMETIME_TWILIO_ACCOUNT_SID"},
		{"bad redeem alert", map[string]string{"HOMETIME_REDEEM_FAILURE_ALERT_PER_MINUTE": "0"}, "HOMETIME_REDEEM_FAILURE_ALERT_PER_MINUTE"},
		{"bad sms rate", map[string]string{"HOMETIME_SMS_RATE": "0"}, "HOMETIME_SMS_RATE"},
		{"bad sms price", map[string]string{"HOMETIME_SMS_PRICE_PENCE": "-1"}, "HOMETIME_SMS_PRICE_PENCE"},
		{"Twilio token needs the public URL", map[string]string{"HOMETIME_TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef"}, "HOMETIME_PUBLIC_URL"},
		{"Twilio token and public URL", map[string]string{"HOMETIME_TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef",
			"HOMETIME_PUBLIC_URL": "https://api.hometime.app/"}, ""},
		{"Twilio token not alphanumeric", map[string]string{"HOMETIME_TWILIO_AUTH_TOKEN": "abc def",
			"HOMETIME_PUBLIC_URL": "https://api.hometime.app"}, "HOMETIME_TWILIO_AUTH_TOKEN"},
		{"public URL not absolute", map[string]string{"HOMETIME_PUBLIC_URL": "api.hometime.app"}, "HOMETIME_PUBLIC_URL"},
		{"public URL with a query", map[string]string{"HOMETIME_PUBLIC_URL": "https://api.hometime.app/?x=1"}, "HOMETIME_PUBLIC_URL"},
		{"activity media over http", map[string]string{"HOMETIME_ACTIVITY_MEDIA_BASE_URL": "http://media.hometime.test"}, "HOMETIME_ACTIVITY_MEDIA_BASE_URL"},
		{"activity media with a query", map[string]string{"HOMETIME_ACTIVITY_MEDIA_BASE_URL": "https://media.hometime.test/v?sig=1"}, "HOMETIME_ACTIVITY_MEDIA_BASE_URL"},
		{"activity media served", map[string]string{"HOMETIME_ACTIVITY_MEDIA_BASE_URL": "https://media.hometime.test/starter/"}, ""},
		{"SendGrid webhook key", map[string]string{"HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY": providerfake.NewSendGrid(t).EventWebhookPublicKey()}, ""},
		{"SendGrid webhook key not a key", map[string]string{"HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY": "bm90IGEga2V5"}, "HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY"},
		{"SendGrid webhook key not base64", map[string]string{"HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY": "not a key!"}, "HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY"},
		{"proxy header with trusted proxies", map[string]string{"HOMETIME_PROXY_HEADER": "X-Forwarded-For",
			"HOMETIME_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,fd00::/8"}, ""},
		{"proxy header without trusted proxies", map[string]string{"HOMETIME_PROXY_HEADER": "X-Forwarded-For"}, "HOMETIME_TRUSTED_PROXIES"},
		{"trusted proxies without a header", map[string]string{"HOMETIME_TRUSTED_PROXIES": "10.0.0.0/8"}, "HOMETIME_PROXY_HEADER"},
		{"trusted proxy not a CIDR", map[string]string{"HOMETIME_PROXY_HEADER": "X-Forwarded-For",
			"HOMETIME_TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}, "HOMETIME_TRUSTED_PROXIES"},
		{"trusted proxy bad prefix length", map[string]string{"HOMETIME_PROXY_HEADER": "X-Forwarded-For",
			"HOMETIME_TRUSTED_PROXIES": "10.0.0.0/33"}, "HOMETIME_TRUSTED_PROXIES"},
		{"trusting everyone", map[string]string{"HOMETIME_PROXY_HEADER": "X-Forwarded-For",
			"HOMETIME_TRUSTED_PROXIES": "0.0.0.0/0"}, "HOMETIME_TRUSTED_PROXIES"},
		{"trusted proxies only commas", map[string]string{"HOMETIME_PROXY_HEADER": "X-Forwarded-For",
			"HOMETIME_TRUSTED_PROXIES": ", ,"}, "HOMETIME_TRUSTED_PROXIES"},
	}
	for _, c := range cases {
		_, err := LoadConfig(func(k string) string { return c.env[k] })
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.wantErr)
		}
	}
	proxied, err := LoadConfig(func(k string) string {
		return map[string]string{"HOMETIME_PROXY_HEADER": "X-Forwarded-For", "HOMETIME_TRUSTED_PROXIES": "10.1.2.3/8, 2001:db8::1"}[k]
	})
	if err != nil || len(proxied.TrustedProxies) != 2 || proxied.TrustedProxies[0].String() != "10.0.0.0/8" ||
		proxied.TrustedProxies[1].String() != "2001:db8::1/128" {
		t.Errorf("trusted proxies %v %v", proxied.TrustedProxies, err)
	}
	cfg, _ := LoadConfig(func(string) string { return "" })
	if !cfg.Dev() || cfg.Production() || cfg.Env != EnvDevelopment || cfg.HTTPAddr != ":8080" || cfg.DataDir != "./.hometime" ||
		cfg.RedeemFailureAlert != 100 {
		t.Errorf("defaults %+v", cfg)
	}
}

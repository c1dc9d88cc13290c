// Package stack is the wiring shared by the api and worker binaries: it reads
// configuration, starts the embedded store and queue in dev mode, connects to
// MongoDB and Redis otherwise, and builds the message senders. Nothing outside
// */cmd/* imports it.
package stack

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hometime-edu/hometime/api"
	"github.com/hometime-edu/hometime/notify/sendgrid"
	"go.mongodb.org/mongo-driver/v2/event"
)

// The two modes HOMETIME_ENV names.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Config is read from the environment; see the README's table.
type Config struct {
	// Env is HOMETIME_ENV: EnvDevelopment (the default) falls back to the
	// embedded store and queue, generated secrets and the outbox;
	// EnvProduction refuses to start without the real ones.
	Env      string
	HTTPAddr string // HOMETIME_HTTP_ADDR, default :8080
	DataDir  string // HOMETIME_DATA_DIR, default ./.hometime
	MongoURI string // MONGODB_URI; empty = embedded FerretDB under DataDir
	Database string // HOMETIME_DB, default "hometime"
	RedisURL string // REDIS_URL as given; see Redis
	// Redis is REDIS_URL (one server, or the redis-sentinel:// form), or
	// REDIS_SENTINELS with REDIS_MASTER; unset = embedded miniredis (in
	// memory).
	Redis     RedisTarget
	JWTSecret string // HOMETIME_JWT_SECRET: signs access tokens and photo URLs; generated into DataDir in dev
	// HashSecret keys the hashes of contacts (the suppression list), codes,
	// tokens and throttle keys (HOMETIME_HASH_SECRET). It is separate from
	// JWTSecret so that rotating the signing secret keeps the suppression
	// list matching. Empty outside production means the hash key is
	// derived from JWTSecret, as it was before the two were split.
	HashSecret  string
	AppURL      string // HOMETIME_APP_URL, base of deep links
	ProxyHeader string // HOMETIME_PROXY_HEADER, client-IP header of a trusted proxy
	LogLevel    string // HOMETIME_LOG_LEVEL: debug, info, warn, error
	// WorkerMetricsAddr is where a stand-alone worker serves /metrics
	// (HOMETIME_WORKER_METRICS_ADDR, e.g. ":9464"); empty serves none. In
	// dev mode the API's /metrics carries the worker's series.
	WorkerMetricsAddr string
	// MetricsAddr is a private listener on which the API serves /metrics
	// (HOMETIME_METRICS_ADDR). MetricsToken, when set, lets the public app
	// serve /metrics to "Authorization: Bearer <token>" only
	// (HOMETIME_METRICS_TOKEN). In production the public app serves
	// /metrics to nobody without the token.
	MetricsAddr  string
	MetricsToken string
	Concurrency  int // HOMETIME_WORKER_CONCURRENCY, default 20

	// TrustedProxies are the proxies whose ProxyHeader is believed
	// (HOMETIME_TRUSTED_PROXIES, comma-separated CIDRs); required with it.
	TrustedProxies []netip.Prefix

	// Sign-in throttles can be loosened for load tests: failed sign-ins per
	// IP per 15 minutes, and all auth calls per IP per minute.
	LoginFailuresPerIP int // HOMETIME_LOGIN_FAILURES_PER_IP, default 50
	AuthCallsPerIP     int // HOMETIME_AUTH_CALLS_PER_IP, default 600
	// RedeemFailureAlert is the failed invite redemptions per minute, all
	// IPs together, above which the alert gauge reads 1.
	RedeemFailureAlert int // HOMETIME_REDEEM_FAILURE_ALERT_PER_MINUTE, default 100

	// Providers. With none set, messages go to the outbox under DataDir.
	SendGridKey     string // SENDGRID_API_KEY
	SendGridBaseURL string // HOMETIME_SENDGRID_BASE_URL (e.g. https://api.eu.sendgrid.com)
	EmailFrom       string // HOMETIME_EMAIL_FROM

	// Twilio webhooks. Without the auth token they answer 503; with it,
	// PublicURL is required: Twilio signs the full URL it calls.
	TwilioAuthToken string // HOMETIME_TWILIO_AUTH_TOKEN
	PublicURL       string // HOMETIME_PUBLIC_URL, e.g. https://api.hometime.app

	// SendGrid's Signed Event Webhook verification key (base64 DER or PEM,
	// as SendGrid shows it). Without it the event webhook answers 503.
	SendGridWebhookKey string // HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY

	// SMS through Twilio: account SID + auth token (above) + a sender.
	TwilioAccountSID   string  // HOMETIME_TWILIO_ACCOUNT_SID
	TwilioFrom         string  // HOMETIME_TWILIO_FROM: sending number or messaging service SID (MG…)
	TwilioBaseURL      string  // HOMETIME_TWILIO_BASE_URL: a region/edge host or a local fake
	SMSRate            float64 // HOMETIME_SMS_RATE: messages/s for the sender across all workers (default 10)
	SMSPricePence      int64   // HOMETIME_SMS_PRICE_PENCE: per segment, for budgets (default 4)
	FCMCredentialsFile string  // HOMETIME_FCM_CREDENTIALS: service-account JSON
	FCMProjectID       string  // HOMETIME_FCM_PROJECT_ID (read from the credentials when empty)
	FCMEndpoint        string  // HOMETIME_FCM_ENDPOINT

	StoreTimeout time.Duration // HOMETIME_STORE_TIMEOUT, default 5s
	// The relay declares a claim older than RelayLease unknown, and queues
	// again owed entries idle longer than RelayGrace (both default 10m).
	RelayLease time.Duration // HOMETIME_RELAY_LEASE
	RelayGrace time.Duration // HOMETIME_RELAY_GRACE
	// An accepted push of an important broadcast unopened this long falls
	// back to an SMS (default 30m).
	ImportantFallback time.Duration // HOMETIME_IMPORTANT_FALLBACK_DELAY

	// ActivityMediaBaseURL is the https address the built-in video
	// activities are served under (HOMETIME_ACTIVITY_MEDIA_BASE_URL; a
	// video is <base>/<activity id>.mp4). Empty hides those videos.
	ActivityMediaBaseURL string

	// StoreMonitor, when set, sees every command the store's clients send
	// (never read from the environment: benchmarks count round trips).
	StoreMonitor *event.CommandMonitor
}

// Dev reports whether the embedded store and queue are in use. It is
// never true in production, where both are required.
func (c Config) Dev() bool { return c.MongoURI == "" || !c.Redis.Configured() }

// Production reports whether HOMETIME_ENV=production: every real
// component and secret is required, and nothing falls back.
func (c Config) Production() bool { return c.Env == EnvProduction }

// LoadConfig reads and validates the environment. Errors name the variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Env:                get("HOMETIME_ENV", EnvDevelopment),
		HTTPAddr:           get("HOMETIME_HTTP_ADDR", ":8080"),
		DataDir:            get("HOMETIME_DATA_DIR", "./.hometime"),
		MongoURI:           get("MONGODB_URI", ""),
		Database:           get("HOMETIME_DB", "hometime"),
		RedisURL:           get("REDIS_URL", ""),
		JWTSecret:          get("HOMETIME_JWT_SECRET", ""),
		HashSecret:         get("HOMETIME_HASH_SECRET", ""),
		MetricsAddr:        get("HOMETIME_METRICS_ADDR", ""),
		MetricsToken:       get("HOMETIME_METRICS_TOKEN", ""),
		AppURL:             strings.TrimRight(get("HOMETIME_APP_URL", ""), "/"),
		ProxyHeader:        get("HOMETIME_PROXY_HEADER", ""),
		LogLevel:           get("HOMETIME_LOG_LEVEL", "info"),
		WorkerMetricsAddr:  get("HOMETIME_WORKER_METRICS_ADDR", ""),
		SendGridKey:        get("SENDGRID_API_KEY", ""),
		TwilioAccountSID:   get("HOMETIME_TWILIO_ACCOUNT_SID", ""),
		TwilioFrom:         get("HOMETIME_TWILIO_FROM", ""),
		TwilioBaseURL:      get("HOMETIME_TWILIO_BASE_URL", ""),
		FCMCredentialsFile: get("HOMETIME_FCM_CREDENTIALS", ""),
		FCMProjectID:       get("HOMETIME_FCM_PROJECT_ID", ""),
		FCMEndpoint:        get("HOMETIME_FCM_ENDPOINT", ""),
		SendGridBaseURL:    get("HOMETIME_SENDGRID_BASE_URL", ""),
		EmailFrom:          get("HOMETIME_EMAIL_FROM", "Hometime <no-reply@hometime.app>"),
		TwilioAuthToken:    get("HOMETIME_TWILIO_AUTH_TOKEN", ""),
		PublicURL:          strings.TrimRight(get("HOMETIME_PUBLIC_URL", ""), "/"),

		SendGridWebhookKey: get("HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
	}
	c.ActivityMediaBaseURL = strings.TrimRight(get("HOMETIME_ACTIVITY_MEDIA_BASE_URL", ""), "/")
	var problems []string
	bad := func(k, why string) { problems = append(problems, k+": "+why) }
	switch c.Env {
	case EnvDevelopment, EnvProduction:
	default:
		bad("HOMETIME_ENV", "must be production or development")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("HOMETIME_HTTP_ADDR", "must be host:port such as :8080")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("HOMETIME_METRICS_ADDR", "must be host:port such as 127.0.0.1:9464")
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 32 {
		bad("HOMETIME_METRICS_TOKEN", "must be at least 32 characters")
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		bad("MONGODB_URI", "must start with mongodb:// or mongodb+srv://")
	}
	c.Redis = parseRedis(get, bad)
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		bad("HOMETIME_JWT_SECRET", "must be at least 32 characters")
	}
	if c.JWTSecret == "" && !c.Dev() && !c.Production() {
		bad("HOMETIME_JWT_SECRET", "required when MONGODB_URI and REDIS_URL (or REDIS_SENTINELS) are set")
	}
	if c.HashSecret != "" && len(c.HashSecret) < 32 {
		bad("HOMETIME_HASH_SECRET", "must be at least 32 characters")
	}
	if c.AppURL == "" && !c.Production() {
		// In development the links in emails and texts open this
		// program's own staff web app (a reset link, its reset screen).
		c.AppURL = LocalURL(c.HTTPAddr)
	}
	if c.AppURL != "" { // production without it: productionRequires names it
		if u, err := url.Parse(c.AppURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("HOMETIME_APP_URL", "must be an absolute http(s) URL")
		}
	}
	if c.ActivityMediaBaseURL != "" {
		if u, err := url.Parse(c.ActivityMediaBaseURL); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" {
			bad("HOMETIME_ACTIVITY_MEDIA_BASE_URL", "must be an https URL without a query, such as https://media.example.org/hometime")
		}
	}
	if c.TwilioAuthToken != "" && strings.ContainsFunc(c.TwilioAuthToken, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		bad("HOMETIME_TWILIO_AUTH_TOKEN", "must be the account's alphanumeric auth token")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" {
			bad("HOMETIME_PUBLIC_URL", "must be an absolute http(s) URL without a query, such as https://api.hometime.app")
		}
	}
	if c.TwilioAuthToken != "" && c.PublicURL == "" {
		bad("HOMETIME_PUBLIC_URL", "required with HOMETIME_TWILIO_AUTH_TOKEN: Twilio signs the full URL it calls")
	}
	if c.SendGridWebhookKey != "" {
		if _, err := sendgrid.NewEventWebhook(c.SendGridWebhookKey); err != nil {
			bad("HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY", "must be the ECDSA verification key from SendGrid's Signed Event Webhook settings")
		}
	}
	if v := get("HOMETIME_TRUSTED_PROXIES", ""); v != "" {
		ps, err := api.ParseTrustedProxies(v)
		switch {
		case err != nil:
			bad("HOMETIME_TRUSTED_PROXIES", err.Error())
		case len(ps) == 0:
			bad("HOMETIME_TRUSTED_PROXIES", "must list the proxies' CIDRs, such as 10.0.0.0/8")
		}
		c.TrustedProxies = ps
	}
	if c.ProxyHeader != "" && len(c.TrustedProxies) == 0 {
		bad("HOMETIME_PROXY_HEADER", "needs HOMETIME_TRUSTED_PROXIES (the proxies' CIDRs): the header is believed only from them")
	}
	if c.ProxyHeader == "" && len(c.TrustedProxies) > 0 {
		bad("HOMETIME_TRUSTED_PROXIES", "needs HOMETIME_PROXY_HEADER (the header the proxies put the client's address in, e.g. X-Forwarded-For)")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("HOMETIME_LOG_LEVEL", "must be debug, info, warn or error")
	}
	ints := []struct {
		key string
		def int
		dst *int
		min int
	}{
		{"HOMETIME_WORKER_CONCURRENCY", 20, &c.Concurrency, 1},
		{"HOMETIME_LOGIN_FAILURES_PER_IP", 50, &c.LoginFailuresPerIP, 1},
		{"HOMETIME_AUTH_CALLS_PER_IP", 600, &c.AuthCallsPerIP, 1},
		{"HOMETIME_REDEEM_FAILURE_ALERT_PER_MINUTE", 100, &c.RedeemFailureAlert, 1},
	}
	for _, i := range ints {
		*i.dst = i.def
		if v := get(i.key, ""); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < i.min {
				bad(i.key, fmt.Sprintf("must be a whole number ≥ %d", i.min))
			}
			*i.dst = n
		}
	}
	if c.TwilioAccountSID != "" && (c.TwilioAuthToken == "" || c.TwilioFrom == "") {
		bad("HOMETIME_TWILIO_ACCOUNT_SID", "needs HOMETIME_TWILIO_AUTH_TOKEN and HOMETIME_TWILIO_FROM to send SMS")
	}
	c.SMSRate = 10
	if v := get("HOMETIME_SMS_RATE", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 10000 {
			bad("HOMETIME_SMS_RATE", "must be messages per second, above 0")
		}
		c.SMSRate = f
	}
	c.SMSPricePence = 4
	if v := get("HOMETIME_SMS_PRICE_PENCE", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad("HOMETIME_SMS_PRICE_PENCE", "must be a whole number of pence ≥ 0")
		}
		c.SMSPricePence = n
	}
	for _, d := range []struct {
		key string
		dst *time.Duration
		def time.Duration
	}{{"HOMETIME_RELAY_LEASE", &c.RelayLease, 10 * time.Minute}, {"HOMETIME_RELAY_GRACE", &c.RelayGrace, 10 * time.Minute},
		{"HOMETIME_IMPORTANT_FALLBACK_DELAY", &c.ImportantFallback, 30 * time.Minute}} {
		*d.dst = d.def
		if v := get(d.key, ""); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x < time.Second {
				bad(d.key, "must be a duration of at least 1s, such as 10m")
			}
			*d.dst = x
		}
	}
	c.StoreTimeout = 5 * time.Second
	if v := get("HOMETIME_STORE_TIMEOUT", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("HOMETIME_STORE_TIMEOUT", "must be a duration such as 5s")
		}
		c.StoreTimeout = d
	}
	if c.Production() {
		productionRequires(c, bad)
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// LocalURL is the http:// address a browser on this machine reaches the
// HTTP listener addr at: ":8080" and "0.0.0.0:8080" are
// http://localhost:8080.
func LocalURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// productionRequires names every variable production cannot do without:
// the store, the queue, both secrets, a provider for each channel (the
// outbox is never used in production) and the webhook keys that turn
// bounces, unsubscribes and STOPs into suppressions.
func productionRequires(c Config, bad func(k, why string)) {
	const in = "required when HOMETIME_ENV=production"
	for _, r := range []struct{ key, val, why string }{
		{"MONGODB_URI", c.MongoURI, "the embedded store is for development"},
		{"REDIS_URL", c.Redis.URL + strings.Join(c.Redis.Sentinels, ","), "the embedded queue is in memory (or set REDIS_SENTINELS and REDIS_MASTER)"},
		{"HOMETIME_JWT_SECRET", c.JWTSecret, "a generated secret is for development"},
		{"HOMETIME_HASH_SECRET", c.HashSecret, "a generated secret is for development; when upgrading, give it the current HOMETIME_JWT_SECRET so the suppression list keeps matching"},
		{"HOMETIME_TWILIO_ACCOUNT_SID", c.TwilioAccountSID, "texts would go to the local outbox"},
		{"SENDGRID_API_KEY", c.SendGridKey, "emails would go to the local outbox"},
		{"HOMETIME_FCM_CREDENTIALS", c.FCMCredentialsFile + c.FCMProjectID, "pushes would go to the local outbox (or set HOMETIME_FCM_PROJECT_ID with application default credentials)"},
		{"HOMETIME_SENDGRID_WEBHOOK_PUBLIC_KEY", c.SendGridWebhookKey, "bounces and unsubscribes would never reach the suppression list"},
		{"HOMETIME_APP_URL", c.AppURL, "the links in invites and reset emails need the address of the app"},
	} {
		if r.val == "" {
			bad(r.key, in+": "+r.why)
		}
	}
}

// Keys are derived from the two secrets: each use gets its own key, so a
// token signed for one purpose can never verify for another. JWT and Media
// come from the JWT secret; Hash from the hash secret.
type Keys struct {
	JWT []byte
	// Hash keys the stored hashes of contacts (suppressions), codes,
	// tokens and throttle keys.
	Hash []byte
	// Media signs the short-lived photo URLs.
	Media []byte
	// HashID names the hash key in logs without revealing it: its
	// derivation version and a short fingerprint. Every API and worker
	// process of one deployment must log the same HashID, or suppressions
	// recorded by one are not seen by another.
	HashID string
}

// HashKeyVersion is the derivation of Keys.Hash: HMAC-SHA256 of the hash
// secret over "hometime/hash". Version 1 is the derivation used when the
// one JWT secret keyed everything, so a hash secret equal to the old JWT
// secret reproduces every stored hash. A later derivation must get a new
// version and a plan for the hashes already stored under this one.
const HashKeyVersion = 1

func deriveKeys(jwtSecret, hashSecret []byte) Keys {
	sub := func(secret []byte, label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("hometime/" + label))
		return m.Sum(nil)
	}
	k := Keys{JWT: sub(jwtSecret, "jwt"), Hash: sub(hashSecret, "hash"), Media: sub(jwtSecret, "media")}
	fp := sha256.Sum256(append([]byte("hometime/hash-key-id/"), k.Hash...))
	k.HashID = fmt.Sprintf("v%d:%x", HashKeyVersion, fp[:4])
	return k
}

package stack

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// RedisTarget is the Redis the queue, the throttles and the rate limiter
// share: either one server (URL) or the master that a set of Sentinels
// name, followed across failovers.
type RedisTarget struct {
	// URL is a redis:// or rediss:// URL of one server; empty with Sentinels.
	URL string
	// Sentinels are the host:port addresses of the Sentinels; Master is the
	// name they monitor the master under.
	Sentinels []string
	Master    string
	// Username and Password authenticate to the master (and replicas);
	// SentinelPassword to the Sentinels, which may have their own.
	Username, Password, SentinelPassword string
	DB                                   int
}

// Configured reports whether a Redis was named at all (else dev mode embeds
// miniredis).
func (t RedisTarget) Configured() bool { return t.URL != "" || len(t.Sentinels) > 0 }

// Sentinel reports whether the master is found through Sentinels.
func (t RedisTarget) Sentinel() bool { return len(t.Sentinels) > 0 }

// String describes the target for logs without any password.
func (t RedisTarget) String() string {
	switch {
	case t.Sentinel():
		return fmt.Sprintf("master %q via sentinels %s, db %d", t.Master, strings.Join(t.Sentinels, ","), t.DB)
	case t.URL != "":
		if u, err := url.Parse(t.URL); err == nil {
			return u.Redacted()
		}
		return "redis"
	default:
		return "embedded miniredis"
	}
}

// The Sentinel form of REDIS_URL.
const sentinelScheme = "redis-sentinel"

// parseRedis reads REDIS_URL, or REDIS_SENTINELS with REDIS_MASTER, and
// the passwords that go with them. Errors name the variable and say what
// is wrong with it; values (which may hold passwords) are never repeated.
func parseRedis(get func(k, def string) string, bad func(k, why string)) RedisTarget {
	raw := get("REDIS_URL", "")
	sentinels, master := get("REDIS_SENTINELS", ""), get("REDIS_MASTER", "")
	password, sentinelPassword := get("REDIS_PASSWORD", ""), get("REDIS_SENTINEL_PASSWORD", "")
	db := get("REDIS_DB", "")
	var t RedisTarget
	switch {
	case raw != "" && (sentinels != "" || master != ""):
		bad("REDIS_URL", "set either REDIS_URL or REDIS_SENTINELS with REDIS_MASTER, not both")
		return t
	case raw != "":
		if password != "" || db != "" {
			bad("REDIS_PASSWORD", "REDIS_PASSWORD and REDIS_DB go with REDIS_SENTINELS; put the password and database in REDIS_URL")
		}
		t = parseRedisURL(raw, bad)
	case sentinels != "" || master != "":
		t.Master = master
		if master == "" {
			bad("REDIS_MASTER", "required with REDIS_SENTINELS: the name the Sentinels monitor the master under, such as mymaster")
		}
		if sentinels == "" {
			bad("REDIS_SENTINELS", "required with REDIS_MASTER: the Sentinels' host:port addresses, comma-separated")
		} else {
			t.Sentinels = parseSentinelAddrs(sentinels, "REDIS_SENTINELS", bad)
		}
		t.Password = password
		if db != "" {
			n, err := strconv.Atoi(db)
			if err != nil || n < 0 {
				bad("REDIS_DB", "must be a database number ≥ 0")
			}
			t.DB = n
		}
	default:
		if password != "" || db != "" {
			bad("REDIS_PASSWORD", "REDIS_PASSWORD and REDIS_DB go with REDIS_SENTINELS and REDIS_MASTER")
		}
	}
	if sentinelPassword != "" {
		if !t.Sentinel() {
			bad("REDIS_SENTINEL_PASSWORD", "only used with Sentinels (a redis-sentinel:// REDIS_URL or REDIS_SENTINELS)")
		}
		t.SentinelPassword = sentinelPassword
	}
	return t
}

// parseRedisURL accepts redis://, rediss:// and
// redis-sentinel://[[user]:password@]host:port[,host:port…][/db]?master=name.
func parseRedisURL(raw string, bad func(k, why string)) RedisTarget {
	const want = "must be a redis://, rediss:// or redis-sentinel://host:26379,host:26379/0?master=mymaster URL"
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		bad("REDIS_URL", want)
		return RedisTarget{}
	}
	switch scheme {
	case "redis", "rediss":
		if _, err := redis.ParseURL(raw); err != nil {
			bad("REDIS_URL", want)
			return RedisTarget{}
		}
		return RedisTarget{URL: raw}
	case sentinelScheme:
	default:
		bad("REDIS_URL", want)
		return RedisTarget{}
	}
	// url.Parse refuses a comma-separated host list in some forms and
	// mangles it in others, so the hosts are cut out first and a single
	// placeholder host parsed in their place.
	rest := strings.TrimPrefix(raw, scheme+"://")
	end := len(rest)
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		end = i
	}
	hosts, tail := rest[:end], rest[end:]
	var userinfo string
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		userinfo, hosts = hosts[:at], hosts[at+1:]
	}
	u, err := url.Parse("redis://placeholder" + tail)
	if err != nil {
		bad("REDIS_URL", want)
		return RedisTarget{}
	}
	var t RedisTarget
	if userinfo != "" {
		ui, err := url.Parse("redis://" + userinfo + "@placeholder")
		if err != nil || ui.User == nil {
			bad("REDIS_URL", "the user and password before @ are not valid (percent-encode special characters)")
			return RedisTarget{}
		}
		t.Username = ui.User.Username()
		t.Password, _ = ui.User.Password()
	}
	t.Sentinels = parseSentinelAddrs(hosts, "REDIS_URL", bad)
	if p := strings.Trim(u.Path, "/"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			bad("REDIS_URL", "the path must be a database number such as /0")
		}
		t.DB = n
	}
	q := u.Query()
	t.Master = q.Get("master")
	if t.Master == "" {
		bad("REDIS_URL", "a redis-sentinel:// URL needs ?master=<name the Sentinels monitor the master under>")
	}
	for k := range q {
		if k != "master" {
			bad("REDIS_URL", fmt.Sprintf("unknown parameter %q (only master is read; the Sentinels' password is REDIS_SENTINEL_PASSWORD)", k))
		}
	}
	return t
}

// parseSentinelAddrs splits a comma-separated host:port list.
func parseSentinelAddrs(s, key string, bad func(k, why string)) []string {
	var addrs []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			bad(key, "each Sentinel must be host:port, such as sentinel-1:26379")
			return nil
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		bad(key, "lists no Sentinel: give host:port addresses, comma-separated")
	}
	return addrs
}

// ConnOpt is the target as asynq's connection option: RedisFailoverClientOpt
// for Sentinels, RedisClientOpt for one server. Anything that builds its own
// asynq connection (asynqmon) takes this.
func (t RedisTarget) ConnOpt() (asynq.RedisConnOpt, error) {
	if t.Sentinel() {
		return asynq.RedisFailoverClientOpt{
			MasterName:       t.Master,
			SentinelAddrs:    t.Sentinels,
			SentinelPassword: t.SentinelPassword,
			Username:         t.Username,
			Password:         t.Password,
			DB:               t.DB,
		}, nil
	}
	opt, err := redis.ParseURL(t.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return asynq.RedisClientOpt{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB, TLSConfig: opt.TLSConfig}, nil
}

// NewRedisClient is the one constructor of a Redis client: asynq's client,
// server, scheduler and inspector, the throttles and the rate limiter all
// share what it returns. For Sentinels it is go-redis's failover client,
// which asks the Sentinels for the master on every new connection and drops
// its connections when they announce a new one; so no path can reach a
// sentinel address with a plain client.
func NewRedisClient(t RedisTarget) (redis.UniversalClient, error) {
	if t.Sentinel() {
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:       t.Master,
			SentinelAddrs:    t.Sentinels,
			SentinelPassword: t.SentinelPassword,
			Username:         t.Username,
			Password:         t.Password,
			DB:               t.DB,
		}), nil
	}
	opt, err := redis.ParseURL(t.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redis.NewClient(opt), nil
}

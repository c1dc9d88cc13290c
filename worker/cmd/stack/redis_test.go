package stack

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// TestRedisTargets: REDIS_URL in its three forms and the separate
// Sentinel variables parse to the same target, and every mistake is
// refused naming the variable, without repeating a password.
func TestRedisTargets(t *testing.T) {
	t.Parallel()
	sentinel := RedisTarget{Sentinels: []string{"s1:26379", "s2:26379", "10.0.0.3:26380"}, Master: "mymaster"}
	withPass := sentinel
	withPass.Password, withPass.DB = "s3cr/t", 2
	cases := []struct {
		name    string
		env     map[string]string
		want    RedisTarget
		wantErr string // substring; "" = valid
	}{
		{"unset: embedded", map[string]string{}, RedisTarget{}, ""},
		{"one server", map[string]string{"REDIS_URL": "redis://r:6379/3"}, RedisTarget{URL: "redis://r:6379/3"}, ""},
		{"one server over TLS", map[string]string{"REDIS_URL": "rediss://:pw@r:6380/0"}, RedisTarget{URL: "rediss://:pw@r:6380/0"}, ""},
		{"sentinel URL", map[string]string{"REDIS_URL": "redis-sentinel://s1:26379,s2:26379,10.0.0.3:26380/0?master=mymaster"}, sentinel, ""},
		{"sentinel URL without a db", map[string]string{"REDIS_URL": "redis-sentinel://s1:26379,s2:26379,10.0.0.3:26380?master=mymaster"}, sentinel, ""},
		{"sentinel URL with password", map[string]string{"REDIS_URL": "redis-sentinel://:s3cr%2Ft@s1:26379,s2:26379,10.0.0.3:26380/2?master=mymaster"}, withPass, ""},
		{"separate variables", map[string]string{"REDIS_SENTINELS": "s1:26379, s2:26379,10.0.0.3:26380", "REDIS_MASTER": "mymaster"}, sentinel, ""},
		{"separate variables with password and db", map[string]string{"REDIS_SENTINELS": "s1:26379,s2:26379,10.0.0.3:26380",
			"REDIS_MASTER": "mymaster", "REDIS_PASSWORD": "s3cr/t", "REDIS_DB": "2"}, withPass, ""},
		{"sentinel password", map[string]string{"REDIS_SENTINELS": "s1:26379", "REDIS_MASTER": "m", "REDIS_SENTINEL_PASSWORD": "sp"},
			RedisTarget{Sentinels: []string{"s1:26379"}, Master: "m", SentinelPassword: "sp"}, ""},

		{"unknown scheme", map[string]string{"REDIS_URL": "http://x"}, RedisTarget{}, "REDIS_URL: must be a redis://"},
		{"no scheme", map[string]string{"REDIS_URL": "r:6379"}, RedisTarget{}, "REDIS_URL"},
		{"sentinel URL without master", map[string]string{"REDIS_URL": "redis-sentinel://s1:26379/0"}, RedisTarget{}, "?master="},
		{"sentinel URL without hosts", map[string]string{"REDIS_URL": "redis-sentinel:///0?master=m"}, RedisTarget{}, "lists no Sentinel"},
		{"sentinel without port", map[string]string{"REDIS_URL": "redis-sentinel://s1,s2:26379/0?master=m"}, RedisTarget{}, "host:port"},
		{"sentinel bad port", map[string]string{"REDIS_SENTINELS": "s1:0", "REDIS_MASTER": "m"}, RedisTarget{}, "REDIS_SENTINELS: each Sentinel must be host:port"},
		{"sentinel URL bad db", map[string]string{"REDIS_URL": "redis-sentinel://s1:26379/x?master=m"}, RedisTarget{}, "database number"},
		{"sentinel URL unknown parameter", map[string]string{"REDIS_URL": "redis-sentinel://s1:26379/0?master=m&sentinel_password=x"}, RedisTarget{}, "unknown parameter"},
		{"both forms", map[string]string{"REDIS_URL": "redis://r:6379", "REDIS_SENTINELS": "s1:26379", "REDIS_MASTER": "m"}, RedisTarget{}, "not both"},
		{"sentinels without master", map[string]string{"REDIS_SENTINELS": "s1:26379"}, RedisTarget{}, "REDIS_MASTER: required"},
		{"master without sentinels", map[string]string{"REDIS_MASTER": "m"}, RedisTarget{}, "REDIS_SENTINELS: required"},
		{"bad db", map[string]string{"REDIS_SENTINELS": "s1:26379", "REDIS_MASTER": "m", "REDIS_DB": "-1"}, RedisTarget{}, "REDIS_DB"},
		{"password with a plain URL", map[string]string{"REDIS_URL": "redis://r:6379", "REDIS_PASSWORD": "pw"}, RedisTarget{}, "REDIS_PASSWORD"},
		{"sentinel password without sentinels", map[string]string{"REDIS_URL": "redis://r:6379", "REDIS_SENTINEL_PASSWORD": "pw"}, RedisTarget{}, "REDIS_SENTINEL_PASSWORD"},
		{"production takes sentinels", map[string]string{"HOMETIME_ENV": "production", "REDIS_SENTINELS": "s1:26379", "REDIS_MASTER": "m"}, RedisTarget{}, "MONGODB_URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(c.Redis, tc.want) {
					t.Fatalf("target %+v, want %+v", c.Redis, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			for _, secret := range []string{"s3cr", "pw@", "sp"} {
				if strings.Contains(err.Error(), secret) && strings.Contains(tc.env["REDIS_URL"]+tc.env["REDIS_PASSWORD"], secret) {
					t.Errorf("error repeats a password: %v", err)
				}
			}
			if tc.name == "production takes sentinels" && strings.Contains(err.Error(), "REDIS_URL") {
				t.Errorf("production refused Sentinels as no queue: %v", err)
			}
		})
	}
}

// TestRedisClientKinds: one constructor gives a plain client for a server
// and go-redis's failover client for Sentinels, and asynq's option agrees.
func TestRedisClientKinds(t *testing.T) {
	t.Parallel()
	s := RedisTarget{Sentinels: []string{"127.0.0.1:1"}, Master: "m", Password: "p", DB: 1}
	c, err := NewRedisClient(s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// NewFailoverClient returns a *redis.Client whose options name the
	// failover dialler: the address is the master name, not a host.
	fc, ok := c.(*redis.Client)
	if !ok || fc.Options().Addr != "FailoverClient" {
		t.Fatalf("client %T (%s), want go-redis's failover client", c, fc.Options().Addr)
	}
	opt, err := s.ConnOpt()
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := opt.(asynq.RedisFailoverClientOpt); !ok || f.MasterName != "m" || f.DB != 1 || f.Password != "p" {
		t.Fatalf("asynq option %#v", opt)
	}
	p := RedisTarget{URL: "redis://127.0.0.1:1/4"}
	pc, err := NewRedisClient(p)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if pc.(*redis.Client).Options().Addr != "127.0.0.1:1" {
		t.Fatalf("plain client addr %s", pc.(*redis.Client).Options().Addr)
	}
	if o, _ := p.ConnOpt(); o.(asynq.RedisClientOpt).DB != 4 {
		t.Fatalf("asynq option %#v", o)
	}
}

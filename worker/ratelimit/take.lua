-- Refill-then-take on one token bucket, atomically, on Redis's own clock.
--
-- KEYS[1]  bucket hash: t = tokens (may be fractional, or a hair below zero),
--          ts = time of the last refill in microseconds of Redis TIME
-- ARGV[1]  refill rate in tokens per second (> 0)
-- ARGV[2]  capacity (burst, >= 1)
-- ARGV[3]  tokens wanted (>= 1)
-- Returns  {granted, microseconds until the next whole token}

-- TIME is non-deterministic: before Redis 5 a script must ask to be
-- replicated by its effects to write after reading it. A no-op since.
if redis.replicate_commands then redis.replicate_commands() end

local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])

-- Every process reads the same clock here, so skewed worker clocks cannot
-- each think a token is due.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  -- A missing bucket is a full one: that is also what an expired one was.
  tokens = burst
  ts = now
elseif now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
  ts = now
end
-- If the clock stepped back, ts stays ahead of now and nothing refills until
-- the clock passes it again: never more tokens, only fewer.
tokens = math.min(tokens, burst)

-- The epsilon forgives float rounding in the refill sum (0.1 + ... + 0.1
-- may land at 0.9999999999999); the debt is kept in t, so it never adds up
-- to an extra token.
local granted = math.min(want, math.floor(tokens + 1e-9))
if granted < 0 then granted = 0 end

local left = tokens - granted
local retry = 0
if left < 1 - 1e-9 then
  -- Rounded up to whole microseconds so a waiter never wakes early, less a
  -- nanosecond of float noise so 0.7 s is 700000 and not 700001.
  retry = math.ceil((1 - left) * 1000000 / rate - 0.001)
end
if ts > now then retry = retry + (ts - now) end

-- Nothing granted means nothing changed that the next call would not
-- recompute from the stored state, so skip the write: waiters that lose a
-- race cost a read, not a write.
if granted > 0 then
  redis.call('HSET', KEYS[1], 't', left, 'ts', ts)
  -- Expire once the bucket would be full again: an idle sender leaves no key.
  local ttl = math.ceil((burst - left) * 1000 / rate)
  if ts > now then ttl = ttl + math.ceil((ts - now) / 1000) end
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', KEYS[1], ttl)
end

return {granted, retry}

-- Second gate of the fleet-wide limiter, run right before a request is sent: a sliding
-- log of the send times of the last ARGV[2] requests. GCRA (gcra.lua) books evenly spaced
-- slots, but a caller that wakes up late (a busy CPU) would send close behind the next
-- punctual one; this log refuses a send while the window already holds the limit, so what
-- leaves the fleet never bunches up beyond it.
-- KEYS[1] log (ZSET member -> send time in us)
-- ARGV[1] window (us), ARGV[2] limit, ARGV[3] unique member
-- Returns 0 (send now, recorded) or the wait in us until the oldest send leaves the window.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then
  wait = 1
end
return wait

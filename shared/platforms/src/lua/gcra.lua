-- Fleet-wide rate limit of one platform: GCRA (generic cell rate algorithm) with
-- reservation. Every caller books the next free slot and is told how long to wait for it,
-- so N processes share one budget without polling. Redis' clock is the only clock.
-- A booking further away than ARGV[3] is refused and NOT recorded (the caller does not hold
-- a worker that long), so refusals never push the schedule further out.
-- A parked platform (KEYS[2] set: a Retry-After longer than the callers will sleep) refuses
-- every caller until the key expires; so does an open circuit breaker (KEYS[3] set by the
-- process whose breaker opened, value = when it opened, Unix ms).
-- KEYS[1] theoretical arrival time (TAT, microseconds), KEYS[2] parked-until marker,
-- KEYS[3] circuit-open marker
-- ARGV[1] emission interval T (us), ARGV[2] burst tolerance tau = (burst - 1) * T (us),
-- ARGV[3] longest wait granted (us)
-- Returns { verdict, wait_us, opened_ms }: verdict 0 = go after wait_us, 1 = refused
-- (wait_us is the wait it would have taken), 2 = parked (wait_us = time left parked),
-- 3 = circuit open (wait_us = time left, opened_ms = when it opened); opened_ms is 0 otherwise.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local parked = redis.call('PTTL', KEYS[2])
if parked and parked > 0 then
  return { 2, parked * 1000, 0 }
end
local open = redis.call('PTTL', KEYS[3])
if open and open > 0 then
  return { 3, open * 1000, tonumber(redis.call('GET', KEYS[3]) or '0') or 0 }
end
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then
  tat = now
end
local allow_at = tat - tau
local wait = allow_at - now
if wait < 0 then
  wait = 0
end
if wait > max_wait then
  return { 1, wait, 0 }
end
local new_tat = tat + interval
-- the key lives as long as it matters (until the booked schedule has drained), plus 1 s
local ttl_ms = math.floor((new_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return { 0, wait, 0 }

-- A platform asked us to wait (Retry-After). KEYS[1] TAT (us), KEYS[2] parked marker.
-- ARGV[1] wait (ms), ARGV[2] 1 = park (fail fast until then), 0 = push the shared schedule
-- so that no caller anywhere is admitted before the wait is over.
-- ARGV[3] text stored in the parked marker (when and why, for operators reading Redis),
-- ARGV[4] burst tolerance tau (us), so even a burst is not admitted before the wait ends.
-- Returns the wait in force (ms): an existing longer park or hold is never shortened.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait_ms = math.floor(tonumber(ARGV[1]))
if wait_ms <= 0 then
  return 0
end
if ARGV[2] == '1' then
  local left = redis.call('PTTL', KEYS[2])
  if left and left >= wait_ms then
    return left
  end
  redis.call('SET', KEYS[2], ARGV[3], 'PX', wait_ms)
  return wait_ms
end
local until_us = now + wait_ms * 1000 + tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat >= until_us then
  return math.floor((tat - now) / 1000)
end
redis.call('SET', KEYS[1], string.format('%.0f', until_us), 'PX', math.floor((until_us - now) / 1000) + 1000)
return wait_ms

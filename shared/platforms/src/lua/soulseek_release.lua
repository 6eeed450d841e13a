-- Releases a Soulseek slot (one search or one enqueue at a time, fleet-wide) and, after a
-- search that found nothing, starts the quiet time before the next search (rapid empty
-- searches get a Soulseek client banned). The lock is deleted only by its holder, so a
-- holder whose lease expired cannot free the slot of the next one.
-- KEYS[1] lock, KEYS[2] quiet marker
-- ARGV[1] the holder's token, ARGV[2] quiet time in ms (0 = none)
-- Returns 1 when this holder released the lock, 0 when it no longer held it.
local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  released = 1
end
local gap = tonumber(ARGV[2]) or 0
if gap > 0 then
  local left = redis.call('PTTL', KEYS[2])
  -- never shorten a longer quiet time set by someone else
  if not left or left < gap then
    redis.call('SET', KEYS[2], '1', 'PX', math.floor(gap))
  end
end
return released

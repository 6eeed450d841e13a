-- Move a job to the dead-letter list, keeping its payload and the reason for re-drive.
-- The list is bounded: past ARGV[3] entries the oldest are dropped with their payloads.
-- KEYS[1] jobs, KEYS[2] attempts, KEYS[3] inflight, KEYS[4] dead list, KEYS[5] dead reasons,
-- KEYS[6] stats; ARGV[1] qid, ARGV[2] reason json, ARGV[3] max dead entries
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('LPUSH', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[6], 'dead', 1)
local max = tonumber(ARGV[3])
local n = 0
while redis.call('LLEN', KEYS[4]) > max and n < 100 do
  local old = redis.call('RPOP', KEYS[4])
  redis.call('HDEL', KEYS[1], old)
  redis.call('HDEL', KEYS[2], old)
  redis.call('HDEL', KEYS[5], old)
  n = n + 1
end
return 1

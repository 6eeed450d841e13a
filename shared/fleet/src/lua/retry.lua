-- Schedule another attempt after a delay (exponential backoff decided by the caller).
-- KEYS[1] jobs, KEYS[2] inflight, KEYS[3] delayed, KEYS[4] stats; ARGV[1] qid, ARGV[2] delay ms
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HINCRBY', KEYS[4], 'retried', 1)
return 1

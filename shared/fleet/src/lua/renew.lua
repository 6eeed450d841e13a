-- Extend the leases of jobs a live worker still holds (only those still in flight).
-- KEYS[1] inflight, KEYS[2] workers; ARGV[1] lease ms, ARGV[2] worker, ARGV[3..] qids
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now, ARGV[2])
local deadline = now + tonumber(ARGV[1])
local n = 0
for i = 3, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', deadline, ARGV[i])
end
return n

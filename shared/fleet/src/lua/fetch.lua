-- Take up to N jobs for one worker, highest lane first (strict priority).
-- Before that, in bounded steps (never more than ARGV[3] ids per call, so a backlog of
-- any size cannot exceed Lua's unpack limit): promote due delayed jobs (retries) to the
-- back of their lane, and give expired leases (a dead worker's jobs) back to the front.
-- KEYS[1] jobs, KEYS[2] attempts, KEYS[3] inflight zset, KEYS[4] delayed zset,
-- KEYS[5] workers zset, KEYS[6..8] lanes interactive, batch, background
-- ARGV[1] max jobs, ARGV[2] lease ms, ARGV[3] maintenance step, ARGV[4] worker name
-- Returns { reclaimed, id1, attempts1, payload1, id2, ... }
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local step = tonumber(ARGV[3])
local lanes = { i = KEYS[6], b = KEYS[7], g = KEYS[8] }

local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, step)
for _, qid in ipairs(due) do
  redis.call('ZREM', KEYS[4], qid)
  redis.call('LPUSH', lanes[string.sub(qid, 1, 1)] or KEYS[7], qid)
end

local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, step)
for _, qid in ipairs(expired) do
  redis.call('ZREM', KEYS[3], qid)
  redis.call('RPUSH', lanes[string.sub(qid, 1, 1)] or KEYS[7], qid)
end

redis.call('ZADD', KEYS[5], now, ARGV[4])

local want = tonumber(ARGV[1])
local out = { #expired }
local deadline = now + tonumber(ARGV[2])
for l = 6, 8 do
  while want > 0 do
    local ids = redis.call('RPOP', KEYS[l], want)
    if not ids then break end
    for _, qid in ipairs(ids) do
      local payload = redis.call('HGET', KEYS[1], qid)
      if payload then
        local n = redis.call('HINCRBY', KEYS[2], qid, 1)
        redis.call('ZADD', KEYS[3], deadline, qid)
        out[#out + 1] = qid
        out[#out + 1] = n
        out[#out + 1] = payload
        want = want - 1
      end
    end
  end
end
return out

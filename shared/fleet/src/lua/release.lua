-- Give jobs a stopping worker fetched but never started back to the front of their lane,
-- without counting the delivery as an attempt.
-- KEYS[1] attempts, KEYS[2] inflight, KEYS[3..5] lanes; ARGV: qids
local lanes = { i = KEYS[3], b = KEYS[4], g = KEYS[5] }
local n = 0
for _, qid in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[2], qid) == 1 then
    redis.call('HINCRBY', KEYS[1], qid, -1)
    redis.call('RPUSH', lanes[string.sub(qid, 1, 1)] or KEYS[4], qid)
    n = n + 1
  end
end
return n

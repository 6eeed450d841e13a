-- Put up to ARGV[1] dead-lettered jobs (oldest first) back at the back of their lane with a
-- fresh attempt budget. KEYS[1] attempts, KEYS[2] dead list, KEYS[3] dead reasons,
-- KEYS[4..6] lanes, KEYS[7] jobs; ARGV[1] max count, ARGV[2] notify channel
local lanes = { i = KEYS[4], b = KEYS[5], g = KEYS[6] }
local n = 0
for _ = 1, tonumber(ARGV[1]) do
  local qid = redis.call('RPOP', KEYS[2])
  if not qid then break end
  redis.call('HDEL', KEYS[3], qid)
  if redis.call('HEXISTS', KEYS[7], qid) == 1 then
    redis.call('HDEL', KEYS[1], qid)
    redis.call('LPUSH', lanes[string.sub(qid, 1, 1)] or KEYS[5], qid)
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', ARGV[2], n) end
return n

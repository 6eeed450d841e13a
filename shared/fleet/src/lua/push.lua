-- Enqueue jobs into one lane. Idempotent per job id: a job whose id is still live
-- (queued, delayed, in flight or dead-lettered) is not queued twice.
-- KEYS[1] jobs hash, KEYS[2] lane list, KEYS[3] stats hash
-- ARGV[1] notify channel, then pairs: qid, payload
local fresh = {}
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    fresh[#fresh + 1] = ARGV[i]
  end
end
if #fresh > 0 then
  redis.call('LPUSH', KEYS[2], unpack(fresh))
  redis.call('HINCRBY', KEYS[3], 'pushed', #fresh)
  redis.call('PUBLISH', ARGV[1], #fresh)
end
return #fresh

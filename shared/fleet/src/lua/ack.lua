-- Finished jobs leave no trace but a counter: payload, attempts and lease are removed.
-- KEYS[1] jobs, KEYS[2] attempts, KEYS[3] inflight, KEYS[4] stats; ARGV: qids
redis.call('ZREM', KEYS[3], unpack(ARGV))
redis.call('HDEL', KEYS[1], unpack(ARGV))
redis.call('HDEL', KEYS[2], unpack(ARGV))
redis.call('HINCRBY', KEYS[4], 'done', #ARGV)
return #ARGV

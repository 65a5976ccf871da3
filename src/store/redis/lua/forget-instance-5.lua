-- Forgets a lapsed instance once the sweep has ended all of its tasks and
-- taken over all of its deliveries in this shard, and frees the running
-- places it held for users of this shard.
--
-- KEYS[1] instance leases
-- KEYS[2] running set of that instance
-- KEYS[3] deliveries that instance owes
-- KEYS[4] running places per user (hash user_id -> places held)
-- KEYS[5] the places that instance holds (hash place id -> user_id)
-- ARGV[1] instance id
-- Returns 1 forgotten, 0 it still has tasks or deliveries, or its lease is live again
--@include lib

local lease = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
if lease > now_ms() or redis.call('SCARD', KEYS[2]) > 0 or redis.call('SCARD', KEYS[3]) > 0 then return 0 end
local held = redis.call('HGETALL', KEYS[5])
for i = 2, #held, 2 do
  if redis.call('HINCRBY', KEYS[4], held[i], -1) <= 0 then redis.call('HDEL', KEYS[4], held[i]) end
end
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1

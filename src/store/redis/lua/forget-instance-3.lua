-- Forgets a lapsed instance once the sweep has ended all of its tasks and
-- taken over all of its deliveries.
--
-- KEYS[1] instance leases
-- KEYS[2] running set of that instance
-- KEYS[3] deliveries that instance owes
-- ARGV[1] instance id
-- Returns 1 forgotten, 0 it still has tasks or deliveries, or its lease is live again
--@include lib

local lease = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
if lease > now_ms() or redis.call('SCARD', KEYS[2]) > 0 or redis.call('SCARD', KEYS[3]) > 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1

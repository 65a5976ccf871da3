-- Renews this instance's liveness lease.
--
-- KEYS[1] instance leases (sorted set: instance -> lease expiry in ms)
-- ARGV[1] instance id
-- ARGV[2] lease time to live in ms
-- Returns 1 renewed in time, 0 the lease had lapsed (or is new): tasks this
-- instance ran before may have been failed as worker_lost by others
--@include lib

local now = now_ms()
local previous = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if previous > now then return 1 end
return 0

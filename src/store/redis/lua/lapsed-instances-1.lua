-- Instances whose lease has lapsed, by server time.
--
-- KEYS[1] instance leases
-- Returns a list of instance ids
--@include lib

return redis.call('ZRANGE', KEYS[1], '-inf', '(' .. now_ms(), 'BYSCORE')

-- Task ids whose retention has passed, by server time.
--
-- KEYS[1] expiry schedule
-- ARGV[1] how many at most
-- Returns a list of task ids
--@include lib

return redis.call('ZRANGE', KEYS[1], '-inf', now_ms(), 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]))

-- Frees a place under the deployment-wide limit; a place not held changes nothing.
--
-- KEYS[1] running places per instance (hash instance id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> 1)
-- ARGV[1] place id
-- ARGV[2] instance id
-- Returns 1 freed, 0 not held

if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[1], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[2]) end
return 1

-- Frees places under the deployment-wide limit; a place not held changes
-- nothing. Several in one call, as take-places.
--
-- KEYS[1] running places per instance (hash instance id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> 1)
-- ARGV[1] instance id
-- ARGV[2..] place ids
-- Returns how many were freed

local freed = 0
for i = 2, #ARGV do freed = freed + redis.call('HDEL', KEYS[2], ARGV[i]) end
if freed > 0 and redis.call('HINCRBY', KEYS[1], ARGV[1], -freed) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return freed

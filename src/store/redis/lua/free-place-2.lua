-- Frees a user's running place. Freeing a place not held (freed already, or
-- released by the sweep of a lapsed instance) changes nothing.
--
-- KEYS[1] running places per user (hash user_id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> user_id)
-- ARGV[1] place id
-- Returns 1 freed, 0 not held

local user = redis.call('HGET', KEYS[2], ARGV[1])
if not user then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HINCRBY', KEYS[1], user, -1) <= 0 then redis.call('HDEL', KEYS[1], user) end
return 1

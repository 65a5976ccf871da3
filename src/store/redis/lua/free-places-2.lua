-- Frees running places. Freeing a place not held (freed already, or released
-- by the sweep of a lapsed instance) changes nothing. Several in one call, as
-- take-places.
--
-- KEYS[1] running places per user (hash user_id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> user_id)
-- ARGV    place ids
-- Returns how many were freed

local freed = 0
for _, place in ipairs(ARGV) do
  local user = redis.call('HGET', KEYS[2], place)
  if user then
    redis.call('HDEL', KEYS[2], place)
    if redis.call('HINCRBY', KEYS[1], user, -1) <= 0 then redis.call('HDEL', KEYS[1], user) end
    freed = freed + 1
  end
end
return freed

-- Takes a place under the deployment-wide limit, unless every place is held.
-- The count is the sum over instances (a few fields), so a lapsed instance's
-- places go with one HDEL.
--
-- KEYS[1] running places per instance (hash instance id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> 1)
-- ARGV[1] place id
-- ARGV[2] instance id
-- ARGV[3] the deployment's limit
-- Returns -1 taken (or held already), or how many places are held (refused)

if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
local held = 0
for _, n in ipairs(redis.call('HVALS', KEYS[1])) do held = held + tonumber(n) end
if held >= tonumber(ARGV[3]) then return held end
redis.call('HSET', KEYS[2], ARGV[1], 1)
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
return -1

-- Takes places under the deployment-wide limit, each unless every place is
-- held. The count is the sum over instances (a few fields), so a lapsed
-- instance's places go with one HDEL. Several in one call, as take-places.
--
-- KEYS[1] running places per instance (hash instance id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> 1)
-- ARGV[1] instance id
-- ARGV[2] the deployment's limit
-- ARGV[3..] place ids
-- Returns one number per place, in order: -1 taken (or held already), or how
-- many places are held (refused)

local limit = tonumber(ARGV[2])
local held = 0
for _, n in ipairs(redis.call('HVALS', KEYS[1])) do held = held + tonumber(n) end
local results = {}
local taken = 0
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    results[#results + 1] = -1
  elseif held >= limit then
    results[#results + 1] = held
  else
    redis.call('HSET', KEYS[2], ARGV[i], 1)
    held = held + 1
    taken = taken + 1
    results[#results + 1] = -1
  end
end
if taken > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], taken) end
return results

-- Takes running places for users, each unless its user holds the limit
-- already. Places of one user live in one shard, so the check and the count
-- are atomic across every replica. Taking a place already held is a success:
-- a retry after a lost reply counts once. Several places in one call: the
-- takes of the calls that arrive together cost one script run, not one each.
--
-- KEYS[1] running places per user (hash user_id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> user_id)
-- ARGV    (place id, user id, the user's limit), repeated
-- Returns one number per place, in order: -1 taken, or how many places the
-- user holds (refused)

local results = {}
for i = 1, #ARGV, 3 do
  local place, user, limit = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('HEXISTS', KEYS[2], place) == 1 then
    results[#results + 1] = -1
  else
    local held = tonumber(redis.call('HGET', KEYS[1], user) or '0')
    if held >= limit then
      results[#results + 1] = held
    else
      redis.call('HINCRBY', KEYS[1], user, 1)
      redis.call('HSET', KEYS[2], place, user)
      results[#results + 1] = -1
    end
  end
end
return results

-- Takes a running place for a user, unless the user holds the limit already.
-- Places of one user live in one shard, so the check and the count are atomic
-- across every replica. Taking a place already held is a success: a retry
-- after a lost reply counts once.
--
-- KEYS[1] running places per user (hash user_id -> places held)
-- KEYS[2] the places this instance holds (hash place id -> user_id)
-- ARGV[1] place id
-- ARGV[2] user id
-- ARGV[3] the user's limit
-- Returns -1 taken, or how many places the user holds (refused)

if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
local held = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
if held >= tonumber(ARGV[3]) then return held end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return -1

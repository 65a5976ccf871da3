-- Takes over a delivery owed by an instance whose lease has lapsed: one it
-- had claimed and not finished (it may have died mid-send: at most one
-- duplicate, and only across a crash), or one it owed because it finished
-- the task and died before claiming.
--
-- KEYS[1] task hash
-- KEYS[2] deliveries the lapsed instance owes   sg:delivering:<lapsed>
-- KEYS[3] instance leases
-- KEYS[4] deliveries this instance owes         sg:delivering:<self>
-- ARGV[1] task id
-- ARGV[2] the lapsed instance's id
-- ARGV[3] this instance's id
-- ARGV[4] events channel
-- Returns {1, flat hash} this caller now delivers
--         {0} nothing to take over (done, claimed by someone alive, or the lease is live again)
--@include lib

local now = now_ms()
if tonumber(redis.call('ZSCORE', KEYS[3], ARGV[2]) or '0') > now then return {0} end
local fields = redis.call('HMGET', KEYS[1], 'status', 'redirect_state', 'redirect_claimed_by')
local owed = fields[1] and fields[1] ~= 'running' and
  (fields[2] == 'pending' or (fields[2] == 'delivering' and fields[3] == ARGV[2]))
redis.call('SREM', KEYS[2], ARGV[1])
if not owed then return {0} end
redis.call('HSET', KEYS[1], 'redirect_state', 'delivering', 'redirect_claimed_by', ARGV[3])
redis.call('SADD', KEYS[4], ARGV[1])
touch(KEYS[1], now)
return {1, publish_task(ARGV[4], ARGV[1], KEYS[1])}

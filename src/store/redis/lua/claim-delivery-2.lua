-- Claims a finished task's pending delivery (pending -> delivering) for
-- exactly one deliverer, and records the claimer so that the delivery can be
-- resumed by another instance if the claimer dies.
--
-- KEYS[1] task hash
-- KEYS[2] deliveries this instance owes   sg:delivering:<instance>
-- ARGV[1] events channel
-- ARGV[2] this instance's id
-- Returns {1, flat hash} this caller delivers
--         {0} nothing to claim (not finished, no redirect, or already claimed)
--@include lib

local fields = redis.call('HMGET', KEYS[1], 'task_id', 'status', 'redirect_state')
if not fields[1] or fields[2] == 'running' or fields[3] ~= 'pending' then return {0} end
redis.call('HSET', KEYS[1], 'redirect_state', 'delivering', 'redirect_claimed_by', ARGV[2])
redis.call('SADD', KEYS[2], fields[1])
touch(KEYS[1], now_ms())
return {1, publish_task(ARGV[1], fields[1], KEYS[1])}

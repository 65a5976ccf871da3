-- Claims a finished task's pending delivery (pending -> delivering) for
-- exactly one deliverer.
--
-- KEYS[1] task hash
-- ARGV[1] events channel
-- Returns {1, flat hash} this caller delivers
--         {0} nothing to claim (not finished, no redirect, or already claimed)
--@include lib

local fields = redis.call('HMGET', KEYS[1], 'task_id', 'status', 'redirect_state')
if not fields[1] or fields[2] == 'running' or fields[3] ~= 'pending' then return {0} end
redis.call('HSET', KEYS[1], 'redirect_state', 'delivering')
touch(KEYS[1], now_ms())
return {1, publish_task(ARGV[1], fields[1], KEYS[1])}

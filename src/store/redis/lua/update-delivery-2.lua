-- Records a delivery attempt's outcome; a final one (delivered, failed)
-- also clears the delivery from the claimer's set.
--
-- KEYS[1] task hash
-- KEYS[2] deliveries this instance owes   sg:delivering:<instance>
-- ARGV[1] state: delivering | delivered | failed
-- ARGV[2] attempts so far
-- ARGV[3] last error, or ''
-- ARGV[4] delivered-at time in ms, or ''
-- ARGV[5] events channel
-- Returns {1, flat hash}, or {-1} no such task / no redirect
--@include lib

local fields = redis.call('HMGET', KEYS[1], 'task_id', 'redirect_state')
if not fields[1] or not fields[2] or fields[2] == '' then return {-1} end
redis.call('HSET', KEYS[1], 'redirect_state', ARGV[1], 'redirect_attempts', ARGV[2],
  'redirect_last_error', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'redirect_delivered_at', seconds(tonumber(ARGV[4]))) end
if ARGV[1] == 'delivered' or ARGV[1] == 'failed' then redis.call('SREM', KEYS[2], fields[1]) end
touch(KEYS[1], now_ms())
return {1, publish_task(ARGV[5], fields[1], KEYS[1])}

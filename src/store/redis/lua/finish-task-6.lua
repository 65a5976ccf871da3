-- running (or input_required) -> completed/failed, exactly once whoever tries: the owner's
-- completion, a cancel from any replica, a hard timeout, shutdown, or the
-- worker-lost sweep. Safe to run twice: the second run finds a terminal state.
--
-- KEYS[1] task hash                       sg:task:<id>
-- KEYS[2] running set to drop the id from sg:running:<instance> (the caller's, or the lost owner's)
-- KEYS[3] expiry schedule                 sg:expiring
-- KEYS[4] instance leases                 sg:instances
-- KEYS[5] deliveries the caller owes      sg:delivering:<caller>: a redirect of the task
--         becomes the caller's to deliver, resumable by others if the caller dies
-- KEYS[6] the task's output               sg:output:<id>
-- ARGV[1] task id
-- ARGV[2] status: completed | failed
-- ARGV[3] result (completed) or error (failed)
-- ARGV[4] failure reason, or ''
-- ARGV[5] retention in ms: the task is deleted (with its index entries) this long after now
-- ARGV[6] events channel
-- ARGV[7] only if the task is owned by this instance, or '' for any owner
-- ARGV[8] '1': only while that owner's lease has lapsed (the worker-lost sweep)
-- Returns {1, flat hash} this call ended the task
--         {0, flat hash} not applied: already terminal, another owner, or the lease is live again
--         {-1} no such task
--@include lib

local task_id = ARGV[1]
local fields = redis.call('HMGET', KEYS[1], 'status', 'owner')
local status, owner = fields[1], fields[2]
if not status then
  redis.call('SREM', KEYS[2], task_id)
  return {-1}
end
local now = now_ms()
if status ~= 'running' and status ~= 'input_required' then
  redis.call('SREM', KEYS[2], task_id)
  return {0, redis.call('HGETALL', KEYS[1])}
end
if ARGV[7] ~= '' and owner ~= ARGV[7] then return {0, redis.call('HGETALL', KEYS[1])} end
if ARGV[8] == '1' then
  local lease = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[7]) or '0')
  if lease > now then return {0, redis.call('HGETALL', KEYS[1])} end
end

redis.call('HDEL', KEYS[1], 'input_request_id', 'input_request_message', 'input_request_schema', 'input_requested_at')
if ARGV[2] == 'completed' then
  redis.call('HSET', KEYS[1], 'status', 'completed', 'result', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[3], 'failure_reason', ARGV[4])
end
local retention = tonumber(ARGV[5])
local expires = now + retention
redis.call('HSET', KEYS[1], 'finished_at', seconds(now), 'expires_at', seconds(expires))
touch(KEYS[1], now)
-- The expiry sweep deletes the task and its index entries at `expires`; the
-- key's own TTL, an hour later, is only a backstop should no sweep run.
redis.call('PEXPIRE', KEYS[1], retention + 3600000)
redis.call('PEXPIRE', KEYS[6], retention + 3600000)
redis.call('ZADD', KEYS[3], expires, task_id)
redis.call('SREM', KEYS[2], task_id)
if redis.call('HGET', KEYS[1], 'redirect_state') == 'pending' then redis.call('SADD', KEYS[5], task_id) end
return {1, publish_task(ARGV[6], task_id, KEYS[1])}

-- Records the latest progress of a running task; ignored once terminal.
--
-- KEYS[1] task hash
-- ARGV[1] fraction 0..1
-- ARGV[2] message
-- ARGV[3] events channel
-- Returns 1 recorded, 0 the task is terminal or gone
--@include lib

if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
local now = now_ms()
redis.call('HSET', KEYS[1], 'progress_fraction', ARGV[1], 'progress_message', ARGV[2],
  'progress_updated_at', seconds(now))
touch(KEYS[1], now)
publish_task(ARGV[3], redis.call('HGET', KEYS[1], 'task_id'), KEYS[1])
return 1

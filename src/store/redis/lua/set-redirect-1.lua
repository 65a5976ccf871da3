-- Sets or replaces the output redirect while its delivery has not begun.
-- Setting the same target again is a no-op (safe to run twice).
--
-- KEYS[1] task hash
-- ARGV[1] channel id
-- ARGV[2] platform
-- ARGV[3] max chars
-- ARGV[4] events channel
-- Returns {1, flat hash} set (or unchanged)
--         {-1} no such task
--         {-2, state} delivery has begun and the target differs
--@include lib

local current = redis.call('HMGET', KEYS[1], 'task_id', 'redirect_state',
  'redirect_channel_id', 'redirect_platform', 'redirect_max_chars')
if not current[1] then return {-1} end
local state = current[2]
if state and state ~= '' and state ~= 'pending' then
  if current[3] == ARGV[1] and current[4] == ARGV[2] and current[5] == ARGV[3] then
    return {1, redis.call('HGETALL', KEYS[1])}
  end
  return {-2, state}
end
redis.call('HSET', KEYS[1], 'redirect_channel_id', ARGV[1], 'redirect_platform', ARGV[2],
  'redirect_max_chars', ARGV[3], 'redirect_state', 'pending', 'redirect_attempts', 0,
  'redirect_last_error', '')
touch(KEYS[1], now_ms())
return {1, publish_task(ARGV[4], current[1], KEYS[1])}

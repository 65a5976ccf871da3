-- running -> input_required with the tool's question (ctx.requestInput).
--
-- KEYS[1] task hash
-- ARGV[1] question id (unique within the task's life)
-- ARGV[2] question text
-- ARGV[3] JSON Schema of the answer, as JSON text
-- ARGV[4] events channel
-- Returns {1, flat hash} the task now waits
--         {0, status} the task is not running (ended, or waiting already)
--         {-1} no such task
--@include lib

local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {-1} end
if status ~= 'running' then return {0, status} end
local now = now_ms()
redis.call('HSET', KEYS[1], 'status', 'input_required', 'input_request_id', ARGV[1],
  'input_request_message', ARGV[2], 'input_request_schema', ARGV[3], 'input_requested_at', seconds(now))
touch(KEYS[1], now)
-- Kept after the answer, so a stream resumed later replays the episode it missed.
local log = cjson.decode(redis.call('HGET', KEYS[1], 'input_log') or '[]')
log[#log + 1] = {id = ARGV[1], message = ARGV[2], schema = ARGV[3], at = now,
  asked = tonumber(redis.call('HGET', KEYS[1], 'version'))}
while #log > 16 do table.remove(log, 1) end
redis.call('HSET', KEYS[1], 'input_log', cjson.encode(log))
return {1, publish_task(ARGV[4], redis.call('HGET', KEYS[1], 'task_id'), KEYS[1])}

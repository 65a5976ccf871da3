-- input_required -> running with the answer, exactly once: of concurrent answers
-- to one question (on any replicas) the first applies, the rest find the task
-- running or waiting for another question. The answer stays in the hash
-- (input_answer_*), which is how it reaches the replica running the tool: that
-- replica sees the change on the events channel.
--
-- KEYS[1] task hash
-- ARGV[1] question id the answer is for
-- ARGV[2] the answer, JSON text
-- ARGV[3] events channel
-- Returns {1, flat hash} this answer applied
--         {0, flat hash} the task does not wait for that question
--         {-1} no such task
--@include lib

local fields = redis.call('HMGET', KEYS[1], 'status', 'input_request_id', 'task_id')
if not fields[1] then return {-1} end
if fields[1] ~= 'input_required' or fields[2] ~= ARGV[1] then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HDEL', KEYS[1], 'input_request_id', 'input_request_message', 'input_request_schema', 'input_requested_at')
redis.call('HSET', KEYS[1], 'status', 'running', 'input_answer_id', ARGV[1], 'input_answer_json', ARGV[2])
touch(KEYS[1], now_ms())
local log = cjson.decode(redis.call('HGET', KEYS[1], 'input_log') or '[]')
if #log > 0 and log[#log].id == ARGV[1] then
  log[#log].answered = tonumber(redis.call('HGET', KEYS[1], 'version'))
  redis.call('HSET', KEYS[1], 'input_log', cjson.encode(log))
end
return {1, publish_task(ARGV[3], fields[3], KEYS[1])}

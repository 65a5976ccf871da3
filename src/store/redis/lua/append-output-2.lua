-- Appends to a running task's output (ctx.output); ignored once terminal. The
-- replica running the tool bounds the output and sends the truncation marker
-- itself, so this only appends and counts.
--
-- KEYS[1] task hash
-- KEYS[2] the task's output (a string)
-- ARGV[1] text to append
-- ARGV[2] '1' when this piece ends with the truncation marker
-- ARGV[3] events channel
-- ARGV[4] the byte offset the piece starts at: what of it is stored already
--         (a retry after a lost reply) is not appended again
-- Returns 1 appended, 0 the task is terminal or gone, or the piece was stored already
--@include lib

local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' and status ~= 'input_required' then return 0 end
local stored = redis.call('STRLEN', KEYS[2])
local offset = tonumber(ARGV[4])
local text = ARGV[1]
if offset + #text <= stored then return 0 end
if offset < stored then text = string.sub(text, stored - offset + 1) end
local size = redis.call('APPEND', KEYS[2], text)
redis.call('HSET', KEYS[1], 'output_bytes', size)
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'output_truncated', '1') end
touch(KEYS[1], now_ms())
publish_task(ARGV[3], redis.call('HGET', KEYS[1], 'task_id'), KEYS[1])
return 1

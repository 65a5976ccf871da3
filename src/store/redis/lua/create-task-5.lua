-- Creates a RUNNING task, or returns the task that already holds the
-- (user_id, request_id) claim. Safe to run twice: a second run for the same
-- task id finds the hash and returns it.
--
-- KEYS[1] task hash            sg:task:<id>
-- KEYS[2] index of all tasks   sg:idx:all
-- KEYS[3] index of the user    sg:idx:user:<user_id>
-- KEYS[4] request-id claim     sg:req:<user_id>:<request_id> (unused when ARGV[3] is '')
-- KEYS[5] running set of this instance  sg:running:<instance>
-- ARGV[1] task id
-- ARGV[2] JSON object of the initial fields (tool_name, user_id, ..., owner)
-- ARGV[3] request id, or ''
-- ARGV[4] start time in ms (the tool started then), or '' for now
-- Returns {1, flat hash} created (or found created by an earlier run of this script)
--         {0, existing task id} the request id is claimed by another task
--@include lib

local task_id = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {1, redis.call('HGETALL', KEYS[1])}
end
if ARGV[3] ~= '' then
  local claimed = redis.call('GET', KEYS[4])
  if claimed and claimed ~= task_id then return {0, claimed} end
end

local now = now_ms()
local created = now
if ARGV[4] ~= '' then created = math.min(tonumber(ARGV[4]), now) end
-- Newest first in lexicographic order: the inverted creation time, then the id.
local list_key = string.format('%013d', 9999999999999 - created) .. ':' .. task_id

local fields = cjson.decode(ARGV[2])
local args = {}
for name, value in pairs(fields) do
  args[#args + 1] = name
  args[#args + 1] = tostring(value)
end
redis.call('HSET', KEYS[1], 'task_id', task_id, 'status', 'running',
  'created_at', seconds(created), 'updated_at', seconds(now), 'version', 1,
  'list_key', list_key, 'request_id', ARGV[3], unpack(args))
redis.call('ZADD', KEYS[2], 0, list_key)
redis.call('ZADD', KEYS[3], 0, list_key)
if ARGV[3] ~= '' then redis.call('SET', KEYS[4], task_id) end
redis.call('SADD', KEYS[5], task_id)
return {1, redis.call('HGETALL', KEYS[1])}

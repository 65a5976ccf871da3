-- Deletes a running task that its own instance never got to report: its
-- create may have run while the reply was lost, and the caller was answered
-- UNAVAILABLE. Only the owner discards, and only a running task. Safe to run
-- twice; a no-op when the create never ran.
--
-- KEYS[1] task hash
-- KEYS[2] index of all tasks
-- KEYS[3] index of the task's user
-- KEYS[4] request-id claim of the task
-- KEYS[5] running set of this instance
-- KEYS[6] the task's output
-- ARGV[1] task id
-- ARGV[2] this instance's id
-- Returns 1 deleted, 0 nothing to delete (absent, finished, or not ours)

local fields = redis.call('HMGET', KEYS[1], 'status', 'owner', 'list_key')
if fields[1] ~= 'running' or fields[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[6])
redis.call('ZREM', KEYS[2], fields[3])
redis.call('ZREM', KEYS[3], fields[3])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
redis.call('SREM', KEYS[5], ARGV[1])
return 1

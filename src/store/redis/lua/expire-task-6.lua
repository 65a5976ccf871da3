-- Deletes a task whose retention has passed, with its index entries and its
-- request-id claim. Safe to run twice.
--
-- KEYS[1] task hash
-- KEYS[2] index of all tasks
-- KEYS[3] index of the task's user
-- KEYS[4] request-id claim of the task ('' request id: any key, left alone)
-- KEYS[5] expiry schedule
-- KEYS[6] the task's output
-- ARGV[1] task id
-- ARGV[2] list key (index member) of the task
-- ARGV[3] events channel
-- Returns 1 deleted, 0 not due (the task is not terminal)
--@include lib

local status = redis.call('HGET', KEYS[1], 'status')
if status == 'running' then
  redis.call('ZREM', KEYS[5], ARGV[1])
  return 0
end
redis.call('DEL', KEYS[1], KEYS[6])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
redis.call('ZREM', KEYS[5], ARGV[1])
-- "<id> -" tells watchers the task is gone.
redis.call('PUBLISH', ARGV[3], ARGV[1] .. ' -')
return 1

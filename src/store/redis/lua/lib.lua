-- Shared helpers, spliced into a script where it says `--@include lib`.

-- Server time in milliseconds: every replica agrees on the clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Epoch seconds with milliseconds, as the seed's Python wrote time.time().
local function seconds(ms)
  return string.format('%.3f', ms / 1000)
end

-- Announces the task's new state on the events channel as "<task_id> <json>"
-- (replicas test the id before decoding) and returns the flat hash.
local function publish_task(channel, task_id, key)
  local flat = redis.call('HGETALL', key)
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  redis.call('PUBLISH', channel, task_id .. ' ' .. cjson.encode(fields))
  return flat
end

-- Stamps a change: version + 1 and updated_at, so readers can order snapshots.
local function touch(key, now)
  redis.call('HINCRBY', key, 'version', 1)
  redis.call('HSET', key, 'updated_at', seconds(now))
end

--- Compare-and-set status transitions of orders of one partition, each one event in one slot:
--- the order's new status, its `order.status` event on the partition's orders.status stream and
--- on the user's channel, and its entry in the partition's due set (when its next step is due).
--- KEYS: dueKey, the orders.status partition stream (historyKey, metaKey, pubsubChannel), then
---   per order: orderKey, the user channel's historyKey, metaKey, pubsubChannel.
--- ARGV: the write header (includes/streamAppend), statusChannel, n, then per order: id, userId,
---   userChannel, allowedFrom (comma-separated status names), toStatus ('' = back to the status
---   the order failed in: a retry), due (a delay in ms: the next step is due then; '-': nothing is
---   due, leave the due set; '': keep the entry as it is), extra (JSON members the event carries,
---   each starting with a comma: a note, a reason), reason (kept on a FAILED order).
--- Returns per order one of {'ok', from, prefix, to}, {'not_found'}, {'invalid_transition',
---   current, prefix}, {'owner', userId} (the caller named another user: nothing changed).
--- @include "includes/now"
--- @include "includes/replication"
--- @include "includes/streamAppend"
local out = {}
local k, a = 5, 8
for _ = 1, tonumber(ARGV[7]) do
  local id, userId, userCh, allowed, to, due = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local extra, reason = ARGV[a + 6], ARGV[a + 7]
  a = a + 8
  local okey = KEYS[k]
  local h = redis.call('HMGET', okey, 'p', 's', 'u', 'v', 'fs')
  if to == '' then to = h[5] end
  if not h[1] then
    out[#out + 1] = {'not_found'}
  elseif h[3] ~= userId then
    out[#out + 1] = {'owner', h[3]}
  elseif not to or not string.find(',' .. allowed .. ',', ',' .. h[2] .. ',', 1, true) then
    out[#out + 1] = {'invalid_transition', h[2], h[1]}
  else
    if to == 'FAILED' then
      redis.call('HSET', okey, 's', to, 'v', tonumber(h[4]) + 1, 'fs', h[2], 'fr', reason)
    else
      redis.call('HSET', okey, 's', to, 'v', tonumber(h[4]) + 1)
      if h[5] then redis.call('HDEL', okey, 'fs', 'fr') end
    end
    local json = h[1] .. ',"status":"' .. to .. '"' .. extra .. '}'
    stream_append(KEYS[2], KEYS[3], KEYS[4], ARGV[6], 'order.status', json, 1)
    stream_append(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], userCh, 'order.status', json, 0)
    if due == '-' then
      redis.call('ZREM', KEYS[1], id)
    elseif due ~= '' then
      redis.call('ZADD', KEYS[1], now + tonumber(due), id)
    end
    out[#out + 1] = {'ok', h[2], h[1], to}
  end
  k = k + 4
end
streams_done()
return out

--- Creates orders of one partition, each as one event in one slot: checks the user's
--- idempotency key, stores the order PENDING, appends its `order.created` event to the
--- partition's orders.created stream and to the user's channel, and puts it in the partition's
--- due set (its first step is due now).
--- KEYS: dueKey, the orders.created partition stream (historyKey, metaKey, pubsubChannel), then
---   per order: orderKey, the user channel's historyKey, metaKey, pubsubChannel, and its
---   idempotencyKey when it has one.
--- ARGV: the write header (includes/streamAppend), createdChannel, idemTtlMs, n, then per order:
---   id, jsonPrefix, userId, userChannel, hasIdem ("1"/"0").
--- Returns per order: id, 1 (created) or existingId, 0 (the user sent this key before).
--- @include "includes/now"
--- @include "includes/replication"
--- @include "includes/streamAppend"
local out = {}
local k, a = 5, 9
for _ = 1, tonumber(ARGV[8]) do
  local id, prefix, userId, userCh, hasIdem = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  a = a + 5
  local okey, uhist, umeta, uch = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  k = k + 4
  local existing = false
  if hasIdem == '1' then
    existing = redis.call('GET', KEYS[k])
    if not existing then redis.call('SET', KEYS[k], id, 'PX', ARGV[7]) end
    k = k + 1
  end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 0
  else
    redis.call('HSET', okey, 'p', prefix, 's', 'PENDING', 'u', userId, 'v', 1)
    local json = prefix .. ',"status":"PENDING"}'
    stream_append(KEYS[2], KEYS[3], KEYS[4], ARGV[6], 'order.created', json, 1)
    stream_append(uhist, umeta, uch, userCh, 'order.created', json, 0)
    redis.call('ZADD', KEYS[1], now, id)
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
streams_done()
return out

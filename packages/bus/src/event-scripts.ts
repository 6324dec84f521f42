/**
 * The write path's Redis scripts. Each touches the keys of one hash slot only, every one of them
 * passed in KEYS (none is built inside Lua), so all of them run on a Redis Cluster:
 *
 * - in a partition's slot: create orders ({@link ORDER_CREATE_LUA}), transition them
 *   ({@link ORDER_TRANSITION_LUA}), take over half-done events ({@link ORDER_CLAIM_LUA}) and
 *   record that events reached every channel ({@link ORDER_ACK_LUA});
 * - in a channel's slot: append events to the channel's history and publish them, once per event
 *   however often it is retried ({@link CHANNEL_APPEND_LUA}).
 *
 * An order step records the new event in the order hash as pending (`e<version>`) and leases it
 * to its caller until a deadline; the caller then appends it to each channel and acks it. A
 * caller that dies between the steps leaves the order in the partition's pending set, where the
 * repair sweep claims it once the lease has ended.
 */

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Appends events to one channel's capped history stream and publishes each, returning per event
 * its offset `<epoch>:<seq>`, `d` when it was appended before (its applied marker exists), or `x`
 * when its lease deadline has passed (only the repair sweep may append it now). A channel whose
 * meta is gone (flushed or expired) starts a new epoch with a fresh stream.
 * KEYS: historyKey, metaKey, pubsubChannel, then one appliedKey per event.
 * ARGV: channel, newEpoch, histSize, histTtlMs, metaTtlMs, pubcmd, appliedTtlMs, n, then per event
 * type, orderJson, deadlineMs.
 */
export const CHANNEL_APPEND_LUA = `${NOW_MS}
local hist, meta, ch = KEYS[1], KEYS[2], KEYS[3]
local m = redis.call('HMGET', meta, 'e', 's')
local epoch = m[1]
local seq = tonumber(m[2] or '0')
if not epoch then
  epoch = ARGV[2]
  seq = 0
  redis.call('DEL', hist)
  redis.call('HSET', meta, 'e', epoch)
end
local first = seq
local out = {}
for i = 1, tonumber(ARGV[8]) do
  local a = 9 + (i - 1) * 3
  if now > tonumber(ARGV[a + 2]) then
    out[i] = 'x'
  elseif not redis.call('SET', KEYS[3 + i], '1', 'NX', 'PX', ARGV[7]) then
    out[i] = 'd'
  else
    seq = seq + 1
    local offset = epoch .. ':' .. seq
    local frame = '{"type":"' .. ARGV[a] .. '","channel":"' .. ARGV[1] .. '","offset":"' .. offset .. '","data":' .. ARGV[a + 1] .. '}'
    redis.call('XADD', hist, 'MAXLEN', '~', ARGV[3], seq .. '-1', 'f', frame)
    redis.call(ARGV[6], ch, frame)
    out[i] = offset
  end
end
if seq > first then
  redis.call('HSET', meta, 's', seq)
  redis.call('PEXPIRE', meta, ARGV[5])
  redis.call('PEXPIRE', hist, ARGV[4])
end
return out
`;

/**
 * Creates orders in one partition: idempotency check, order hash with its `order.created` event
 * pending, pending-set entry, and one job-outbox entry for the batch (the job to queue).
 * KEYS: pendingKey, jobOutboxKey, jobDataKey, then per order its orderKey and, when it has one,
 * its idempotencyKey. ARGV: batchId, leaseMs, idemTtlMs, n, then per order id, jsonPrefix,
 * userId, hasIdem ("1"/"0").
 * Returns {nowMs, leaseEndMs, then per order: id, 1 (created) or existingId, 0 (key seen before)}.
 */
export const ORDER_CREATE_LUA = `${NOW_MS}
local leaseEnd = now + tonumber(ARGV[2])
local out = {now, leaseEnd}
local created = {}
local k = 4
for i = 0, tonumber(ARGV[4]) - 1 do
  local a = 5 + i * 4
  local id = ARGV[a]
  local okey = KEYS[k]
  k = k + 1
  local existing = false
  if ARGV[a + 3] == '1' then
    existing = redis.call('GET', KEYS[k])
    if not existing then redis.call('SET', KEYS[k], id, 'PX', ARGV[3]) end
    k = k + 1
  end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 0
  else
    redis.call('HSET', okey, 'p', ARGV[a + 1], 's', 'PENDING', 'u', ARGV[a + 2], 'v', 1, 'a', 0, 'e1', 'PENDING', 'd', leaseEnd)
    redis.call('ZADD', KEYS[1], leaseEnd, id)
    created[#created + 1] = id
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
if #created > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], table.concat(created, ','))
end
return out
`;

/**
 * Compare-and-set status transitions of orders in one partition, each recording its
 * `order.status` event as pending and leasing every still-pending event of the order to the caller.
 * KEYS: pendingKey, then one orderKey per order. ARGV: leaseMs, n, then per order id,
 * allowedFrom (comma-separated status names), toStatus.
 * Returns {nowMs, leaseEndMs, then per order one of {'ok', from, to, prefix, userId, acked,
 * status of each pending version acked+1..}, {'not_found'}, {'invalid_transition', current, prefix, userId}}.
 */
export const ORDER_TRANSITION_LUA = `${NOW_MS}
local leaseEnd = now + tonumber(ARGV[1])
local out = {now, leaseEnd}
for i = 1, tonumber(ARGV[2]) do
  local a = 3 + (i - 1) * 3
  local okey = KEYS[i + 1]
  local h = redis.call('HMGET', okey, 'p', 's', 'u', 'v', 'a')
  if not h[1] then
    out[#out + 1] = {'not_found'}
  else
    local cur, allowed = h[2], false
    for s in string.gmatch(ARGV[a + 1], '[^,]+') do
      if s == cur then allowed = true end
    end
    if not allowed then
      out[#out + 1] = {'invalid_transition', cur, h[1], h[3]}
    else
      local v, acked = tonumber(h[4]) + 1, tonumber(h[5])
      redis.call('HSET', okey, 's', ARGV[a + 2], 'v', v, 'e' .. v, ARGV[a + 2], 'd', leaseEnd)
      redis.call('ZADD', KEYS[1], leaseEnd, ARGV[a])
      local r = {'ok', cur, ARGV[a + 2], h[1], h[3], acked}
      for j = acked + 1, v do r[#r + 1] = redis.call('HGET', okey, 'e' .. j) end
      out[#out + 1] = r
    end
  end
end
return out
`;

/**
 * The repair sweep takes over orders whose lease ended with events still pending: renews the
 * lease for the caller and returns the pending events. Orders with nothing pending leave the set.
 * KEYS: pendingKey, then one orderKey per order. ARGV: leaseMs, then the order ids.
 * Returns {nowMs, leaseEndMs, then per order {'ok', prefix, userId, acked, statuses…} or {'skip'}}.
 */
export const ORDER_CLAIM_LUA = `${NOW_MS}
local leaseEnd = now + tonumber(ARGV[1])
local out = {now, leaseEnd}
for i = 2, #ARGV do
  local id, okey = ARGV[i], KEYS[i]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if not score or tonumber(score) > now then
    out[#out + 1] = {'skip'}
  else
    local h = redis.call('HMGET', okey, 'p', 'u', 'v', 'a')
    if not h[1] or tonumber(h[4]) >= tonumber(h[3]) then
      redis.call('ZREM', KEYS[1], id)
      out[#out + 1] = {'skip'}
    else
      redis.call('HSET', okey, 'd', leaseEnd)
      redis.call('ZADD', KEYS[1], leaseEnd, id)
      local r = {'ok', h[1], h[2], tonumber(h[4])}
      for j = tonumber(h[4]) + 1, tonumber(h[3]) do r[#r + 1] = redis.call('HGET', okey, 'e' .. j) end
      out[#out + 1] = r
    end
  end
end
return out
`;

/**
 * Records that orders' events up to a version are on every channel: forgets those pending
 * events, and takes an order out of the pending set once nothing of it is pending.
 * KEYS: pendingKey, then one orderKey per order. ARGV: per order id, ackedVersion.
 * Returns {nowMs, then per order the latest lease end handed out for it (0 when it is gone)}:
 * once that has passed, no writer can append those events any more.
 */
export const ORDER_ACK_LUA = `${NOW_MS}
local out = {now}
for i = 2, #KEYS do
  local a = 1 + (i - 2) * 2
  local okey, acked = KEYS[i], tonumber(ARGV[a + 1])
  local h = redis.call('HMGET', okey, 'v', 'a', 'd')
  if not h[1] then
    redis.call('ZREM', KEYS[1], ARGV[a])
    out[#out + 1] = 0
  else
    local prev = tonumber(h[2])
    if acked > prev then
      for j = prev + 1, acked do redis.call('HDEL', okey, 'e' .. j) end
      redis.call('HSET', okey, 'a', acked)
    end
    if acked >= tonumber(h[1]) then redis.call('ZREM', KEYS[1], ARGV[a]) end
    out[#out + 1] = tonumber(h[3])
  end
end
return out
`;

/**
 * Reads a channel's history after a sequence number, consistently with its meta.
 * KEYS: historyKey, metaKey. ARGV: afterSeq, maxCount.
 * Returns {epoch or '', lastSeq, entries...} where entries are flattened {id, frame} pairs.
 */
export const READ_HISTORY_LUA = `
local meta = redis.call('HMGET', KEYS[2], 'e', 's')
local out = {meta[1] or '', tonumber(meta[2] or '0')}
local after = tonumber(ARGV[1])
if meta[1] and tonumber(meta[2] or '0') > after then
  local entries = redis.call('XRANGE', KEYS[1], (after + 1) .. '-0', '+', 'COUNT', ARGV[2])
  for _, e in ipairs(entries) do
    table.insert(out, e[1])
    table.insert(out, e[2][2])
  end
end
return out
`;

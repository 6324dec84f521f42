import { KEY_PREFIX } from "./keys.js";

/**
 * Lua shared by the write scripts: appends an event frame to a channel's capped history stream
 * and publishes it, returning the offset it was stored at. Offsets are `<epoch>:<seq>`; a channel
 * whose meta is gone (flushed or expired) starts a new epoch with a fresh stream, so old offsets
 * are detected as stale instead of silently mis-resuming.
 */
const EMIT_LUA = `
local P = '${KEY_PREFIX}'
local function emit(ch, evtype, orderJson, newEpoch, histSize, histTtl, metaTtl, pubcmd)
  local hist = P .. 'hist:{' .. ch .. '}'
  local meta = P .. 'meta:{' .. ch .. '}'
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    epoch = newEpoch
    redis.call('DEL', hist)
    redis.call('HSET', meta, 'e', epoch)
  end
  local seq = redis.call('HINCRBY', meta, 's', 1)
  redis.call('PEXPIRE', meta, metaTtl)
  local offset = epoch .. ':' .. seq
  local frame = '{"type":"' .. evtype .. '","channel":"' .. ch .. '","offset":"' .. offset .. '","data":' .. orderJson .. '}'
  redis.call('XADD', hist, 'MAXLEN', '~', histSize, seq .. '-1', 'f', frame)
  redis.call('PEXPIRE', hist, histTtl)
  redis.call(pubcmd, P .. 'ch:{' .. ch .. '}', frame)
  return offset
end
`;

/**
 * Creates an order atomically: idempotency check, order hash, outbox entry, and the
 * `order.created` event on `orders.created` and the user's channel.
 * KEYS: orderKey, idemKey ("" = none), outboxKey.
 * ARGV: orderId, jsonPrefix, userId, idemTtlMs, nowMs, newEpoch, histSize, histTtlMs, metaTtlMs, pubcmd.
 * Returns {1, orderId, prefix, status, offsetAll, offsetUser} when created, or
 * {0, orderId, prefix, status} when the idempotency key already named an order.
 */
export const CREATE_ORDER_LUA = `${EMIT_LUA}
local orderKey, idemKey, outbox = KEYS[1], KEYS[2], KEYS[3]
if idemKey ~= '' then
  local existing = redis.call('GET', idemKey)
  if existing then
    local h = redis.call('HMGET', P .. 'order:{' .. existing .. '}', 'p', 's')
    return {0, existing, h[1] or '', h[2] or ''}
  end
end
local id, prefix, user = ARGV[1], ARGV[2], ARGV[3]
redis.call('HSET', orderKey, 'p', prefix, 's', 'PENDING', 'u', user)
if idemKey ~= '' then redis.call('SET', idemKey, id, 'PX', ARGV[4]) end
redis.call('ZADD', outbox, ARGV[5], id)
local json = prefix .. ',"status":"PENDING"}'
local o1 = emit('orders.created', 'order.created', json, ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10])
local o2 = emit('orders.user.' .. user, 'order.created', json, ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10])
return {1, id, prefix, 'PENDING', o1, o2}
`;

/**
 * Compare-and-set of an order's status plus its `order.status` event on `orders.status` and the
 * user's channel, in one atomic step: exactly one event per transition, whoever retries.
 * KEYS: orderKey. ARGV: allowedFrom (comma-separated names), toStatus, newEpoch, histSize,
 * histTtlMs, metaTtlMs, pubcmd.
 * Returns {'ok', from, to, prefix, userId, offsetAll, offsetUser}, {'not_found'} or
 * {'invalid_transition', current, prefix, userId}.
 */
export const TRANSITION_LUA = `${EMIT_LUA}
local h = redis.call('HMGET', KEYS[1], 'p', 's', 'u')
if not h[1] then return {'not_found'} end
local cur = h[2]
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == cur then allowed = true end
end
if not allowed then return {'invalid_transition', cur, h[1], h[3]} end
redis.call('HSET', KEYS[1], 's', ARGV[2])
local json = h[1] .. ',"status":"' .. ARGV[2] .. '"}'
local o1 = emit('orders.status', 'order.status', json, ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
local o2 = emit('orders.user.' .. h[3], 'order.status', json, ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
return {'ok', cur, ARGV[2], h[1], h[3], o1, o2}
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

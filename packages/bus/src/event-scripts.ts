/**
 * The write path's Redis scripts. Each touches the keys of one hash slot only, every one of them
 * passed in KEYS (none is built inside Lua), so all of them run on a Redis Cluster:
 *
 * - in a partition's slot: create orders ({@link ORDER_CREATE_LUA}), transition them
 *   ({@link ORDER_TRANSITION_LUA}), both appending the event to the partition's stream of its
 *   all-orders channel in the same script; take over half-done events ({@link ORDER_CLAIM_LUA})
 *   and record that events reached the user's channel ({@link ORDER_ACK_LUA});
 * - in a user channel's slot: append events to the channel's history and publish them, once per
 *   event however often it is retried ({@link CHANNEL_APPEND_LUA}).
 *
 * An order step records the new event in the order hash as pending (`e<version>`) and leases it
 * to its caller until a deadline; the caller then appends it to the user's channel and acks it. A
 * caller that dies between the steps leaves the order in the partition's pending set, where the
 * repair sweep claims it once the lease has ended.
 */

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * The replication identity of the node a script runs on, for the epoch rule of every stream: a
 * stream whose meta was last written by the primary this node was promoted from (meta field `r`,
 * the writer's `master_replid`, equals this node's `master_replid2`) starts a new epoch. After a
 * failover the promoted replica may lack the old primary's last events, and reusing their
 * sequence numbers would be a silent gap for a client that saw them; a new epoch makes every
 * client of the stream recover with `recovered:false` instead. A restart that kept the data (AOF)
 * changes `master_replid` but sets no `master_replid2`: the epoch stays and clients resume.
 */
const REPLICATION_LUA = `
local repl = redis.call('INFO', 'replication')
local replid, replid2 = string.match(repl, 'master_replid:(%w+)'), string.match(repl, 'master_replid2:(%w+)')
`;

/**
 * Appends events to user channels whose keys share one slot (on a single node: any channels), each to
 * the channel's capped history stream, published with its offset. Per event it returns the offset
 * `<epoch>:<seq>`, `d` when it was appended before (its applied marker exists), or `x` when its
 * lease deadline has passed (only the repair sweep may append it now). A channel whose meta is
 * gone (flushed or expired) starts a new epoch with a fresh stream, and so does one last written by
 * the primary this node was promoted from (REPLICATION_LUA). The TTLs of history and meta
 * are renewed when a tenth of the history TTL has passed since the last renewal (meta field `x`),
 * not on every append: history lives HISTORY_TTL_MS after the last event, give or take a tenth.
 * An event's payload (type, order JSON, lease deadline) is sent once however many channels it goes to.
 * KEYS: per channel historyKey, metaKey, pubsubChannel, then one appliedKey per event.
 * ARGV: newEpoch, histSize, histTtlMs, metaTtlMs, pubcmd, appliedTtlMs, number of payloads, then
 * per payload type, orderJson, deadlineMs; then the number of channels, then per channel its name,
 * its number of events and each event's payload number (1-based).
 */
export const CHANNEL_APPEND_LUA = `${NOW_MS}${REPLICATION_LUA}
local histSize, histTtl, metaTtl, pubcmd, apTtl = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local np = tonumber(ARGV[7])
local out = {}
local k, a = 1, 9 + np * 3
for c = 1, tonumber(ARGV[8 + np * 3]) do
  local hist, meta, ch = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  k = k + 3
  local name, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local m = redis.call('HMGET', meta, 'e', 's', 'x', 'r')
  local epoch, seq, renewed = m[1], tonumber(m[2] or '0'), tonumber(m[3] or '0')
  if epoch and m[4] ~= replid and m[4] == replid2 then epoch = nil end
  if not epoch then
    epoch, seq, renewed = ARGV[1], 0, 0
    redis.call('DEL', hist)
    redis.call('HSET', meta, 'e', epoch, 's', 0, 'r', replid)
  elseif m[4] ~= replid then
    redis.call('HSET', meta, 'r', replid)
  end
  local first = seq
  for i = 1, n do
    local p = 5 + tonumber(ARGV[a]) * 3
    if now > tonumber(ARGV[p + 2]) then
      out[#out + 1] = 'x'
    elseif not redis.call('SET', KEYS[k], '1', 'NX', 'PX', apTtl) then
      out[#out + 1] = 'd'
    else
      seq = seq + 1
      local offset = epoch .. ':' .. seq
      local frame = '{"type":"' .. ARGV[p] .. '","channel":"' .. name .. '","offset":"' .. offset .. '","data":' .. ARGV[p + 1] .. '}'
      redis.call('XADD', hist, 'MAXLEN', '~', histSize, seq .. '-1', 'f', frame)
      redis.call(pubcmd, ch, frame)
      out[#out + 1] = offset
    end
    k = k + 1
    a = a + 1
  end
  if seq > first then
    if now - renewed >= histTtl / 10 then
      redis.call('HSET', meta, 's', seq, 'x', now)
      redis.call('PEXPIRE', meta, metaTtl)
      redis.call('PEXPIRE', hist, histTtl)
    else
      redis.call('HSET', meta, 's', seq)
    end
  end
end
return out
`;

/**
 * Appends events to the partition's stream of an all-orders channel within an order step (the
 * stream lives in the partition's slot): atomic with the order's change, so that stream never has
 * a pending event and needs no applied markers. Its meta keeps no TTL (composite offsets name every
 * partition's epoch, and a quiet partition must not change it); its epoch follows REPLICATION_LUA.
 * KEYS (last three): historyKey, metaKey, pubsubChannel of the partition stream.
 * ARGV (last five): the channel name frames carry, newEpoch, histSize, histTtlMs, pubcmd.
 */
const PARTITION_STREAM_LUA = `${REPLICATION_LUA}
local fhk, fha = #KEYS - 2, #ARGV - 4
local fhHist, fhMeta, fhCh = KEYS[fhk], KEYS[fhk + 1], KEYS[fhk + 2]
local fhName, fhSize, fhTtl, fhPub = ARGV[fha], ARGV[fha + 2], ARGV[fha + 3], ARGV[fha + 4]
local fhEpoch, fhSeq
local function fh_append(typ, json)
  if not fhSeq then
    local m = redis.call('HMGET', fhMeta, 'e', 's', 'r')
    fhEpoch, fhSeq = m[1], tonumber(m[2] or '0')
    if fhEpoch and m[3] ~= replid and m[3] == replid2 then fhEpoch = nil end
    if not fhEpoch then
      fhEpoch, fhSeq = ARGV[fha + 1], 0
      redis.call('DEL', fhHist)
      redis.call('HSET', fhMeta, 'e', fhEpoch, 's', 0, 'r', replid)
    elseif m[3] ~= replid then
      redis.call('HSET', fhMeta, 'r', replid)
    end
  end
  fhSeq = fhSeq + 1
  local frame = '{"type":"' .. typ .. '","channel":"' .. fhName .. '","offset":"' .. fhEpoch .. ':' .. fhSeq .. '","data":' .. json .. '}'
  redis.call('XADD', fhHist, 'MAXLEN', '~', fhSize, fhSeq .. '-1', 'f', frame)
  redis.call(fhPub, fhCh, frame)
end
local function fh_done()
  if fhSeq then
    redis.call('HSET', fhMeta, 's', fhSeq)
    redis.call('PEXPIRE', fhHist, fhTtl)
  end
end
`;

/**
 * Creates orders in one partition: idempotency check, order hash with its `order.created` event
 * appended to the partition's `orders.created` stream and pending for the user's channel,
 * pending-set entry, and one job-outbox entry for the batch (the job to queue).
 * KEYS: pendingKey, jobOutboxKey, jobDataKey, then per order its orderKey and, when it has one,
 * its idempotencyKey, then the partition stream's keys (PARTITION_STREAM_LUA). ARGV: batchId,
 * leaseMs, idemTtlMs, n, then per order id, jsonPrefix, userId, hasIdem ("1"/"0"), then the
 * partition stream's arguments.
 * Returns {nowMs, leaseEndMs, then per order: id, 1 (created) or existingId, 0 (key seen before)}.
 */
export const ORDER_CREATE_LUA = `${NOW_MS}${PARTITION_STREAM_LUA}
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
    redis.call('HSET', okey, 'p', ARGV[a + 1], 's', 'PENDING', 'u', ARGV[a + 2], 'v', 1, 'a', 0, 'e', 'PENDING', 'd', leaseEnd)
    redis.call('ZADD', KEYS[1], leaseEnd, id)
    fh_append('order.created', ARGV[a + 1] .. ',"status":"PENDING"}')
    created[#created + 1] = id
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
if #created > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], table.concat(created, ','))
end
fh_done()
return out
`;

/**
 * Compare-and-set status transitions of orders in one partition, each appending its
 * `order.status` event to the partition's `orders.status` stream, recording it as pending for the
 * user's channel and leasing every still-pending event of the order to the caller.
 * KEYS: pendingKey, then one orderKey per order, then the partition stream's keys
 * (PARTITION_STREAM_LUA). ARGV: leaseMs, n, then per order id, allowedFrom (comma-separated
 * status names), toStatus, then the partition stream's arguments.
 * Returns {nowMs, leaseEndMs, then per order one of {'ok', from, to, prefix, userId, acked,
 * statuses of the pending versions acked+1.. comma-joined}, {'not_found'},
 * {'invalid_transition', current, prefix, userId}}.
 */
export const ORDER_TRANSITION_LUA = `${NOW_MS}${PARTITION_STREAM_LUA}
local leaseEnd = now + tonumber(ARGV[1])
local out = {now, leaseEnd}
for i = 1, tonumber(ARGV[2]) do
  local a = 3 + (i - 1) * 3
  local okey = KEYS[i + 1]
  local h = redis.call('HMGET', okey, 'p', 's', 'u', 'v', 'a', 'e')
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
      local pending = ARGV[a + 2]
      if h[6] and h[6] ~= '' then pending = h[6] .. ',' .. pending end
      redis.call('HSET', okey, 's', ARGV[a + 2], 'v', v, 'e', pending, 'd', leaseEnd)
      redis.call('ZADD', KEYS[1], leaseEnd, ARGV[a])
      fh_append('order.status', h[1] .. ',"status":"' .. ARGV[a + 2] .. '"}')
      out[#out + 1] = {'ok', cur, ARGV[a + 2], h[1], h[3], acked, pending}
    end
  end
end
fh_done()
return out
`;

/**
 * The repair sweep takes over orders whose lease ended with events still pending: renews the
 * lease for the caller and returns the pending events. Orders with nothing pending leave the set.
 * KEYS: pendingKey, then one orderKey per order. ARGV: leaseMs, then the order ids.
 * Returns {nowMs, leaseEndMs, then per order {'ok', prefix, userId, acked, pending statuses
 * comma-joined} or {'skip'}}.
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
    local h = redis.call('HMGET', okey, 'p', 'u', 'v', 'a', 'e')
    if not h[1] or tonumber(h[4]) >= tonumber(h[3]) then
      redis.call('ZREM', KEYS[1], id)
      out[#out + 1] = {'skip'}
    else
      redis.call('HSET', okey, 'd', leaseEnd)
      redis.call('ZADD', KEYS[1], leaseEnd, id)
      out[#out + 1] = {'ok', h[1], h[2], tonumber(h[4]), h[5]}
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
  local h = redis.call('HMGET', okey, 'v', 'a', 'd', 'e')
  if not h[1] then
    redis.call('ZREM', KEYS[1], ARGV[a])
    out[#out + 1] = 0
  else
    local prev = tonumber(h[2])
    if acked > prev then
      -- Drop the statuses of the acked versions from the front of the pending list.
      local rest = h[4] or ''
      for _ = prev + 1, acked do
        local comma = string.find(rest, ',', 1, true)
        if comma then rest = string.sub(rest, comma + 1) else rest = '' end
      end
      redis.call('HSET', okey, 'a', acked, 'e', rest)
    end
    if acked >= tonumber(h[1]) then redis.call('ZREM', KEYS[1], ARGV[a]) end
    out[#out + 1] = tonumber(h[3])
  end
end
return out
`;

/**
 * Removes batches from a partition's job outbox (their job is queued).
 * KEYS: jobOutboxKey, jobDataKey. ARGV: the batch ids. Returns how many were there.
 */
export const MARK_QUEUED_LUA = `
redis.call('HDEL', KEYS[2], unpack(ARGV))
return redis.call('ZREM', KEYS[1], unpack(ARGV))
`;

/**
 * A channel's position, fixing its epoch when it has none (used for partition streams only, whose
 * meta keeps no TTL). KEYS: metaKey. ARGV: newEpoch. Returns {epoch, lastSeq}.
 */
export const STREAM_POSITION_LUA = `
redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'e', 's')
return {m[1], tonumber(m[2] or '0')}
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

-- Appending events to channel streams: each event becomes one frame, built here and only here,
-- appended to the stream's capped history at the stream's next sequence number and published
-- with that offset on its pub/sub channel. A stream's meta (`e` epoch, `s` last sequence, `x`
-- last TTL renewal, `r` writer's replid) is read once per script and written back once by
-- streams_done(). A stream whose meta is gone (flushed or expired), or was last written by the
-- primary this node was promoted from, starts a new epoch with a fresh history.
-- Needs `now` (includes/now) and `replid`, `replid2` (includes/replication).
-- ARGV[1..5], the header of every write script: newEpoch, histSize, histTtlMs, metaTtlMs, pubcmd.
local newEpoch, histSize, histTtl, metaTtl, pubcmd = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local streams, touched = {}, {}

-- `keep` = 1: the meta keeps no TTL (an all-orders partition stream, whose epoch a composite
-- offset names and a quiet partition must not lose).
local function stream_append(hist, meta, ch, name, typ, json, keep)
  local st = streams[meta]
  if not st then
    local m = redis.call('HMGET', meta, 'e', 's', 'x', 'r')
    st = {hist = hist, meta = meta, epoch = m[1], seq = tonumber(m[2] or '0'), renewed = tonumber(m[3] or '0'), keep = keep}
    if st.epoch and m[4] ~= replid and m[4] == replid2 then st.epoch = nil end
    if not st.epoch then
      st.epoch, st.seq, st.renewed, st.fresh = newEpoch, 0, 0, true
      redis.call('DEL', hist)
    elseif m[4] ~= replid then
      st.fresh = true
    end
    streams[meta] = st
    touched[#touched + 1] = st
  end
  st.seq = st.seq + 1
  local offset = st.epoch .. ':' .. st.seq
  local frame = '{"type":"' .. typ .. '","channel":"' .. name .. '","offset":"' .. offset .. '","data":' .. json .. '}'
  redis.call('XADD', hist, 'MAXLEN', '~', histSize, st.seq .. '-1', 'f', frame)
  redis.call(pubcmd, ch, frame)
  return offset
end

-- Writes back every touched stream's meta; renews TTLs when a tenth of the history TTL has
-- passed since the last renewal, so history lives HISTORY_TTL_MS after its last event, give or
-- take a tenth.
local function streams_done()
  for _, st in ipairs(touched) do
    local renew = now - st.renewed >= histTtl / 10
    if st.fresh then
      redis.call('HSET', st.meta, 'e', st.epoch, 's', st.seq, 'r', replid, 'x', now)
    elseif renew then
      redis.call('HSET', st.meta, 's', st.seq, 'x', now)
    else
      redis.call('HSET', st.meta, 's', st.seq)
    end
    if st.fresh or renew then
      redis.call('PEXPIRE', st.hist, histTtl)
      if st.keep ~= 1 then redis.call('PEXPIRE', st.meta, metaTtl) end
    end
  end
end

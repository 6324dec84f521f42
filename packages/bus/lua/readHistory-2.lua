--- Reads a channel's history after a sequence number, consistently with its meta.
--- KEYS: historyKey, metaKey. ARGV: afterSeq, maxCount.
--- Returns {epoch or '', lastSeq, entries...} where entries are flattened {id, frame} pairs.
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

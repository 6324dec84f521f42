--- A stream's position, fixing its epoch when it has none (for all-orders partition streams,
--- whose meta keeps no TTL). KEYS: metaKey. ARGV: newEpoch. Returns {epoch, lastSeq}.
redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
local m = redis.call('HMGET', KEYS[1], 'e', 's')
return {m[1], tonumber(m[2] or '0')}

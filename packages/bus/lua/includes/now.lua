-- `now`: the Redis server's clock in epoch milliseconds (every score and TTL decision uses it).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- The replication identity of the node this script runs on, for the epoch rule of every stream: a
-- stream whose meta was last written by the primary this node was promoted from (meta field `r`,
-- the writer's master_replid, equals this node's master_replid2) starts a new epoch. After a
-- failover the promoted replica may lack the old primary's last events, and reusing their
-- sequence numbers would be a silent gap for a client that saw them; a new epoch makes every
-- client of the stream recover with `recovered:false` instead. A restart that kept the data (AOF)
-- changes master_replid but sets no master_replid2: the epoch stays and clients resume.
-- (Plain finds of the 40-character ids: a Lua pattern match costs more than the INFO call.)
local repl = redis.call('INFO', 'replication')
local at1 = string.find(repl, 'master_replid:', 1, true)
local at2 = string.find(repl, 'master_replid2:', 1, true)
local replid = at1 and string.sub(repl, at1 + 14, at1 + 53)
local replid2 = at2 and string.sub(repl, at2 + 15, at2 + 54)

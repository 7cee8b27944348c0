import { luaScript } from '../redis/index.js';

/**
 * Applies one projection batch atomically: fencing (lease token) and ordering (the checkpoint the batch
 * builds on is the stored one) are checked first, then the state writes, the checkpoint, the stream versions and a
 * PUBLISH — all or nothing, so a crash between batches loses nothing and applies nothing twice.
 *
 * Redis does not roll back a script that fails half-way, so a write Redis refuses (WRONGTYPE, say) must
 * not fail the script: the batch would be retried on top of its own first half. It is parked instead (its
 * event's position, the error, the write) and the rest of the batch goes on. Answers how many were parked.
 *
 * The `#!lua` line makes it a flagged script: a Redis out of memory refuses it before its first command
 * (an unflagged script would be refused at its first write, which a pcall below could take for a refused
 * write and park). The notification is published with ARGV 8: PUBLISH, or SPUBLISH on a Cluster.
 *
 * KEYS: 1 checkpoint hash, 2 lease, 3 stream-versions hash, 4 parked stream, 5.. the keys the writes touch.
 * ARGV: 1 lease token, 2 the checkpoint the batch builds on, 3 new checkpoint, 4 newest recordedAt ms, 5 appliedAt ms,
 *       6 channel, 7 message, 8 publish command, 9 position of the newest event applied ('' if none), 10 number
 *       of stream versions, then stream/revision pairs, then the number of writes, then per write: command, key
 *       index, event position, argument count, arguments.
 */
export const applyBatchScript = luaScript(`#!lua
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return redis.error_reply('STALE_LEASE lease is held by another process') end
local current = redis.call('HGET', KEYS[1], 'position') or '0'
-- Equal, not just "after": a Redis that went back in time (failover to a lagging replica, a restore) must
-- send the projector back to what Redis now holds, or the events in between would never be applied.
if current ~= ARGV[2] then return redis.error_reply('BEHIND_CHECKPOINT ' .. current) end
local i = 10
local versions = tonumber(ARGV[i])
-- One HSET per 500 streams (unpack has a stack limit), not one per stream.
local done = 0
while done < versions do
  local count = math.min(500, versions - done)
  redis.call('HSET', KEYS[3], unpack(ARGV, i + 1, i + 2 * count))
  i = i + 2 * count
  done = done + count
end
i = i + 1
local writes = tonumber(ARGV[i])
local parked = 0
for _ = 1, writes do
  local command, key, position, argc = ARGV[i + 1], KEYS[tonumber(ARGV[i + 2])], ARGV[i + 3], tonumber(ARGV[i + 4])
  -- The arguments straight from ARGV: no table per write unless Redis refuses it.
  local reply = redis.pcall(command, key, unpack(ARGV, i + 5, i + 4 + argc))
  if type(reply) == 'table' and reply.err then
    local args = {}
    for a = 1, argc do args[a] = ARGV[i + 4 + a] end
    local write = cjson.encode({ command = command, key = key, args = args })
    redis.call('XADD', KEYS[4], '*', 'position', position, 'error', reply.err, 'write', write)
    parked = parked + 1
  end
  i = i + 4 + argc
end
local fields = {'position', ARGV[3], 'appliedAt', ARGV[5]}
if ARGV[4] ~= '' then fields[#fields + 1] = 'recordedAt'; fields[#fields + 1] = ARGV[4] end
if ARGV[9] ~= '' then fields[#fields + 1] = 'eventPosition'; fields[#fields + 1] = ARGV[9] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call(ARGV[8], ARGV[6], ARGV[7])
return parked`);

/**
 * The lease scripts may run while Redis is out of memory (PEXPIRE and DEL do not grow it): the holder keeps
 * its lease through an OOM and goes on once memory frees, instead of every process losing it.
 */
export const renewLeaseScript = luaScript(`#!lua flags=allow-oom
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`);

export const releaseLeaseScript = luaScript(`#!lua flags=allow-oom
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/**
 * KEYS: 1 the projection's state hash. ARGV: 1 lifetime ms, then field/value pairs.
 * May run out of memory too: a projection failing on OOM must still be able to say so.
 */
export const publishStateScript = luaScript(`#!lua flags=allow-oom
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return redis.call('PEXPIRE', KEYS[1], ARGV[1])`);

/**
 * KEYS: 1 lease, 2 the generation's checkpoint hash, 3 its stream-versions hash. ARGV: 1 lease token, 2 why,
 * 3 the stream-versions hash's fault field, 4 channel, 5 message (an `untrusted` notification), 6 publish command.
 * Marks a generation as not to be trusted (its checkpoint is ahead of the event store): a read-your-writes wait
 * never answers `fresh` from it, and a rebuild may replace it whatever its checkpoint says. The mark is in both
 * hashes, so a check of a position and a check of a stream version each read it with what they compare, and
 * every process hears of it at once (a process that trusted the generation stops answering fresh from it).
 */
export const markFaultScript = luaScript(`#!lua flags=allow-oom
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'fault', ARGV[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[2])
redis.call(ARGV[6], ARGV[4], ARGV[5])
return 1`);

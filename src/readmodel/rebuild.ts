import { luaScript, type Redis } from '../redis/index.js';
import { builtByVersion } from './generations.js';
import type { ReadModelKeys } from './keys.js';
import { encodeNotification } from './notifications.js';

/**
 * How long an old generation outlives the flip. Query processes trust a cached active generation for up
 * to 1 s (GENERATION_CACHE_MS in read-model-access.ts) when they miss the flip notification, and a read in flight
 * resolved its keys before the flip: both must still find the old keys.
 */
export const UNLINK_GRACE_MS = 2000;

/**
 * KEYS: 1 lease, 2 rebuilding, 3 active, 4 built-by versions, 5 old generation's checkpoint, 6 new one's.
 * ARGV: 1 lease token, 2 new generation, 3 old generation, 4 code version, 5 channel, 6 message, 7 publish command.
 * Flips only for the lease holder, only the rebuild under way, only from the generation the caller ran, and
 * only once the new generation is at least as far as the old one: a reader that saw an order in the old
 * generation must not miss it in the new one.
 */
const flipScript = luaScript(`#!lua
local function greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'STALE_LEASE' end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 'NOT_REBUILDING' end
if (redis.call('GET', KEYS[3]) or '1') ~= ARGV[3] then return 'ACTIVE_MOVED' end
local old = redis.call('HGET', KEYS[5], 'position') or '0'
local new = redis.call('HGET', KEYS[6], 'position') or '0'
-- An old generation marked untrusted (ahead of a restored store) is replaced whatever it says.
if redis.call('HEXISTS', KEYS[5], 'fault') == 0 and greater(old, new) then return 'BEHIND' end
redis.call('SET', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[4], 'g' .. ARGV[2], ARGV[4])
redis.call(ARGV[7], ARGV[5], ARGV[6])
return 'FLIPPED'`);

export type FlipOutcome = 'FLIPPED' | 'STALE_LEASE' | 'NOT_REBUILDING' | 'ACTIVE_MOVED' | 'BEHIND';

export interface FlipRequest {
  projection: string;
  version: number;
  from: number;
  to: number;
  leaseToken: string;
}

/** Makes the rebuilt generation the active one in one step (see flipScript for when it refuses). */
export const flipToRebuilt = async (
  redis: Redis,
  keys: ReadModelKeys,
  { projection, version, from, to, leaseToken }: FlipRequest,
): Promise<FlipOutcome> =>
  (await redis.runScript(
    flipScript,
    [
      keys.lease(projection),
      keys.rebuilding(projection),
      keys.active(projection),
      keys.versions(projection),
      keys.generation(projection, from).checkpoint,
      keys.generation(projection, to).checkpoint,
    ],
    [
      leaseToken,
      String(to),
      String(from),
      String(version),
      keys.notifications(projection),
      encodeNotification({ kind: 'flipped', projection, generation: to }),
      redis.publishCommand,
    ],
  )) as FlipOutcome;

/**
 * KEYS: 1 rebuilding, 2 generation counter, 3 built-by versions. ARGV: 1 generation, 2 code version.
 * Moves a rebuild that another version began to a fresh generation number, built by this version; the
 * abandoned one is deleted in the background like any leftover. Refused if the rebuild moved meanwhile.
 */
const restartRebuildScript = luaScript(`#!lua
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('REBUILD_MOVED') end
local next = redis.call('INCR', KEYS[2])
-- Never a number handed out before, even if the counter was behind (set by hand).
if next <= tonumber(ARGV[1]) then
  next = tonumber(ARGV[1]) + 1
  redis.call('SET', KEYS[2], next)
end
redis.call('SET', KEYS[1], next)
redis.call('HSET', KEYS[3], 'g' .. next, ARGV[2])
return tostring(next)`);

export type RebuildClaim =
  | { claim: 'fresh-or-resumed'; generation: number }
  | { claim: 'restarted'; generation: number; abandoned: number }
  | { claim: 'left-for-newer'; generation: number };

/**
 * Claims a rebuild generation for this code version before building it. A rebuild begun by the same
 * version resumes from its checkpoint (the holder that began it died or lost the lease); one begun by an
 * older version would end up half old, half new, so it starts over in a fresh generation (nothing is
 * deleted here: the abandoned generation is a leftover for the background unlink). Call it with the lease.
 */
export const claimRebuild = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
  version: number,
): Promise<RebuildClaim> => {
  await redis.primary.hSetNX(keys.versions(projection), `g${generation}`, String(version));
  const builtBy = await builtByVersion(redis, keys, projection, generation);
  if (builtBy === version) return { claim: 'fresh-or-resumed', generation };
  // During a rolling deploy an older process must not rebuild a newer version's generation with old code.
  if (builtBy !== undefined && builtBy > version) return { claim: 'left-for-newer', generation };
  const fresh = await redis.runScript(
    restartRebuildScript,
    [keys.rebuilding(projection), keys.generationCounter(projection), keys.versions(projection)],
    [String(generation), String(version)],
  );
  return { claim: 'restarted', generation: Number(fresh), abandoned: generation };
};

/**
 * Generations other than the active one and the one being rebuilt that still have a checkpoint: leftovers
 * of a holder that died before unlinking, or of an abandoned rebuild.
 */
export const leftoverGenerations = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
): Promise<number[]> => {
  const [active, rebuilding, counter] = await Promise.all([
    redis.primary.get(keys.active(projection)),
    redis.primary.get(keys.rebuilding(projection)),
    redis.primary.get(keys.generationCounter(projection)),
  ]);
  const candidates: number[] = [];
  for (let generation = 1; generation <= Number(counter ?? active ?? '1'); generation++) {
    if (String(generation) !== (active ?? '1') && String(generation) !== rebuilding)
      candidates.push(generation);
  }
  const exists = await Promise.all(
    candidates.map((generation) => redis.primary.exists(keys.generation(projection, generation).checkpoint)),
  );
  return candidates.filter((_, i) => exists[i] === 1);
};

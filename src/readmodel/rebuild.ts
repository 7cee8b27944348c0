import { luaScript, type Redis } from '../redis';
import { builtByVersion, unlinkGeneration } from './generations';
import type { ReadModelKeys } from './keys';
import { encodeNotification } from './notifications';

/**
 * How long an old generation outlives the flip. Query processes trust a cached active generation for up
 * to 1 s (GENERATION_CACHE_MS in consistency.ts) when they miss the flip notification, and a read in flight
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
 * Claims a rebuild generation for this code version before building it. A rebuild begun by the same
 * version resumes from its checkpoint (the holder that began it died or lost the lease); one begun by
 * another version would end up half old, half new, so it starts over. Call it while holding the lease.
 */
export const claimRebuild = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
  version: number,
): Promise<'fresh-or-resumed' | 'restarted' | 'left-for-newer'> => {
  await redis.primary.hSetNX(keys.versions(projection), `g${generation}`, String(version));
  const builtBy = await builtByVersion(redis, keys, projection, generation);
  if (builtBy === version) return 'fresh-or-resumed';
  // During a rolling deploy an older process must not rebuild a newer version's generation with old code.
  if (builtBy !== undefined && builtBy > version) return 'left-for-newer';
  await unlinkGeneration(redis, keys, projection, generation);
  await redis.primary.hSet(keys.versions(projection), `g${generation}`, String(version));
  return 'restarted';
};

/** Generations below the active one that still have keys: leftovers of a holder that died before unlinking. */
export const leftoverGenerations = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  active: number,
): Promise<number[]> => {
  const leftovers: number[] = [];
  for (let generation = 1; generation < active; generation++) {
    if (await redis.primary.exists(keys.generation(projection, generation).checkpoint))
      leftovers.push(generation);
  }
  return leftovers;
};

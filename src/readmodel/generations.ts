import { anyKeyWithPrefix, luaScript, type Redis, scanPrefix } from '../redis/index.js';
import type { ReadModelKeys } from './keys.js';
import { ReadModelStateLost } from './untrusted.js';

/** The generation queries read; 1 before anything was ever projected. */
export const readActiveGeneration = async (redis: Redis, keys: ReadModelKeys, projection: string) => {
  const active = await redis.primary.get(keys.active(projection));
  return active === null ? 1 : Number(active);
};

/**
 * KEYS: 1 active, 2 generation counter, 3 built-by versions. ARGV: 1 code version.
 * First start: generation 1 becomes active, built by this version. An active pointer that is missing while
 * the counter or the versions exist was lost: it is reported, never quietly recreated as generation 1.
 */
const ensureActiveScript = luaScript(`#!lua
local active = redis.call('GET', KEYS[1])
if active then
  redis.call('HSETNX', KEYS[3], 'g' .. active, ARGV[1])
  return active
end
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then
  return redis.error_reply('LOST_ACTIVE the active-generation pointer is missing while the projection has generations')
end
redis.call('SET', KEYS[1], '1')
redis.call('SET', KEYS[2], '1')
redis.call('HSET', KEYS[3], 'g1', ARGV[1])
return '1'`);

/** The active generation, made generation 1 on the very first start; throws ReadModelStateLost. */
export const ensureActiveGeneration = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  version: number,
): Promise<number> => {
  try {
    const active = await redis.runScript(
      ensureActiveScript,
      [keys.active(projection), keys.generationCounter(projection), keys.versions(projection)],
      [String(version)],
    );
    return Number(active);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.startsWith('LOST_ACTIVE'))
      throw new ReadModelStateLost(
        `${projection}: ${message.slice('LOST_ACTIVE '.length)} (evicted or deleted?); rebuild the projection`,
      );
    throw error;
  }
};

/** The code version that built (or, for a rebuild under way, is building) a generation. */
export const builtByVersion = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
) => {
  const version = await redis.primary.hGet(keys.versions(projection), `g${generation}`);
  return version === null ? undefined : Number(version);
};

export const rebuildingGeneration = async (redis: Redis, keys: ReadModelKeys, projection: string) => {
  const generation = await redis.primary.get(keys.rebuilding(projection));
  return generation === null ? undefined : Number(generation);
};

/**
 * KEYS: 1 rebuilding, 2 generation counter, 3 active. One step, so concurrent requests (two admins, two
 * processes starting with a new version) all answer the same generation and no number is handed out twice.
 * A rebuild asked before the first start makes generation 1 the active one first, as the first start would;
 * so does one asked to recover from a lost active pointer, until the rebuilt generation replaces it.
 */
const requestRebuildScript = luaScript(`#!lua
local under_way = redis.call('GET', KEYS[1])
if under_way then return under_way end
if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[3], '1') end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], redis.call('GET', KEYS[3])) end
local next = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], next)
return tostring(next)`);

/**
 * Asks for a rebuild into a fresh generation; a rebuild already under way is answered with its generation.
 * Any process may ask (admin API, CLI): the lease holder of the projection picks the request up on its
 * next tick (at most leaseTtl/5, 1 s by default) and runs it beside the active generation.
 */
export const requestRebuild = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
): Promise<number> => {
  const generation = await redis.runScript(
    requestRebuildScript,
    [keys.rebuilding(projection), keys.generationCounter(projection), keys.active(projection)],
    [],
  );
  return Number(generation);
};

/**
 * True when a generation whose checkpoint is missing still has keys: the checkpoint was lost (evicted,
 * deleted), and starting again from 0 would apply every event twice. A fresh generation has none.
 */
export const generationHasKeys = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
): Promise<boolean> => {
  const generationKeys = keys.generation(projection, generation);
  if ((await redis.primary.exists([generationKeys.streamVersions, generationKeys.parked])) > 0) return true;
  return anyKeyWithPrefix(redis, generationKeys.base);
};

/**
 * KEYS: 1 lease, 2 active, 3 rebuilding, 4 built-by versions, 5.. the keys to unlink.
 * ARGV: 1 lease token, 2 generation, 3 `last` on the step that ends the unlink.
 * One bounded step of deleting an old generation: fenced by the lease, and refused while the generation is
 * active or being rebuilt, checked on every step (a failover or a restore can take a flip back and make the
 * old generation the active one again). May run out of memory: it frees memory.
 */
const unlinkStepScript = luaScript(`#!lua flags=allow-oom
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'STALE_LEASE' end
if (redis.call('GET', KEYS[2]) or '1') == ARGV[2] then return 'ACTIVE' end
if redis.call('GET', KEYS[3]) == ARGV[2] then return 'REBUILDING' end
local unlinked = 0
if #KEYS > 4 then unlinked = redis.call('UNLINK', unpack(KEYS, 5)) end
if ARGV[3] == 'last' then redis.call('HDEL', KEYS[4], 'g' .. ARGV[2]) end
return unlinked`);

export interface UnlinkOutcome {
  unlinked: number;
  /** Why it stopped before the end: the lease moved, or the generation is (again) active or being rebuilt. */
  refused?: 'STALE_LEASE' | 'ACTIVE' | 'REBUILDING' | 'STOPPED';
}

/**
 * Deletes a generation's keys in bounded steps (one SCAN batch of every primary each, never KEYS), each step
 * a script fenced by the lease (see unlinkStepScript); `stop` ends it between steps. The checkpoint goes
 * last, so an unlink cut short still leaves the mark by which the next holder finds the leftovers.
 */
export const unlinkGeneration = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
  leaseToken: () => string,
  stop: () => boolean = () => false,
): Promise<UnlinkOutcome> => {
  const generationKeys = keys.generation(projection, generation);
  const fixed = [
    keys.lease(projection),
    keys.active(projection),
    keys.rebuilding(projection),
    keys.versions(projection),
  ];
  const step = async (batch: string[], last: boolean): Promise<number | UnlinkOutcome['refused']> => {
    if (stop()) return 'STOPPED';
    const reply = await redis.runScript(
      unlinkStepScript,
      [...fixed, ...batch],
      [leaseToken(), String(generation), last ? 'last' : ''],
    );
    return typeof reply === 'string' ? (reply as UnlinkOutcome['refused']) : Number(reply);
  };
  let unlinked = 0;
  let refused: UnlinkOutcome['refused'];
  await scanPrefix(redis, generationKeys.base, async (batch) => {
    const outcome = await step(
      batch.filter((key) => key !== generationKeys.checkpoint),
      false,
    );
    if (typeof outcome !== 'number') {
      refused = outcome;
      return false;
    }
    unlinked += outcome;
    return true;
  });
  if (refused !== undefined) return { unlinked, refused };
  const outcome = await step([generationKeys.checkpoint], true);
  return typeof outcome === 'number' ? { unlinked: unlinked + outcome } : { unlinked, refused: outcome };
};

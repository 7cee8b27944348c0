import { createHash } from 'node:crypto';
import type { ReadModelKeys } from './keys';
import type { RedisClient } from './redis';
import { type RedisScript, runScript } from './scripts';

/** A Lua script with its sha, for runScript (EVALSHA, loading it on NOSCRIPT). */
export const luaScript = (source: string): RedisScript => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});

/** The generation queries read; 1 before anything was ever projected. */
export const readActiveGeneration = async (redis: RedisClient, keys: ReadModelKeys, projection: string) => {
  const active = await redis.get(keys.active(projection));
  return active === null ? 1 : Number(active);
};

/** First start of a projection: generation 1 is active and was built by this code version. */
export const ensureActiveGeneration = async (
  redis: RedisClient,
  keys: ReadModelKeys,
  projection: string,
  version: number,
): Promise<number> => {
  await redis.set(keys.active(projection), '1', { condition: 'NX' });
  await redis.set(keys.generationCounter(projection), '1', { condition: 'NX' });
  const active = await readActiveGeneration(redis, keys, projection);
  await redis.hSetNX(keys.versions(projection), `g${active}`, String(version));
  return active;
};

/** The code version that built (or, for a rebuild under way, is building) a generation. */
export const builtByVersion = async (
  redis: RedisClient,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
) => {
  const version = await redis.hGet(keys.versions(projection), `g${generation}`);
  return version === null ? undefined : Number(version);
};

export const rebuildingGeneration = async (redis: RedisClient, keys: ReadModelKeys, projection: string) => {
  const generation = await redis.get(keys.rebuilding(projection));
  return generation === null ? undefined : Number(generation);
};

/**
 * KEYS: 1 rebuilding, 2 generation counter, 3 active. One step, so concurrent requests (two admins, two
 * processes starting with a new version) all answer the same generation and no number is handed out twice.
 * The counter starts at the active generation when it is missing (a rebuild asked before the first start).
 */
const requestRebuildScript = luaScript(`
local under_way = redis.call('GET', KEYS[1])
if under_way then return under_way end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], redis.call('GET', KEYS[3]) or '1')
end
local next = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], next)
return tostring(next)`);

/**
 * Asks for a rebuild into a fresh generation; a rebuild already under way is answered with its generation.
 * Any process may ask (admin API, CLI): the lease holder of the projection picks the request up on its
 * next tick (at most leaseTtl/5, 1 s by default) and runs it beside the active generation.
 */
export const requestRebuild = async (
  redis: RedisClient,
  keys: ReadModelKeys,
  projection: string,
): Promise<number> => {
  const generation = await runScript(
    redis,
    requestRebuildScript,
    [keys.rebuilding(projection), keys.generationCounter(projection), keys.active(projection)],
    [],
  );
  return Number(generation);
};

/**
 * Deletes a generation's keys in the background: SCAN + UNLINK, never KEYS. The checkpoint goes last, so
 * an unlink cut short (crash) still leaves the mark by which the next holder finds the leftovers.
 */
export const unlinkGeneration = async (
  redis: RedisClient,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
): Promise<number> => {
  const generationKeys = keys.generation(projection, generation);
  const pattern = `${generationKeys.base.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let unlinked = 0;
  for await (const batch of redis.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    const others = batch.filter((key) => key !== generationKeys.checkpoint);
    if (others.length > 0) unlinked += await redis.unlink(others);
  }
  unlinked += await redis.unlink(generationKeys.checkpoint);
  await redis.hDel(keys.versions(projection), `g${generation}`);
  return unlinked;
};

import type { ReadModelKeys } from './keys';
import type { RedisClient } from './redis';

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

/** Asks for a rebuild into a fresh generation; a rebuild already under way is answered with its generation. */
export const requestRebuild = async (
  redis: RedisClient,
  keys: ReadModelKeys,
  projection: string,
): Promise<number> => {
  const existing = await rebuildingGeneration(redis, keys, projection);
  if (existing !== undefined) return existing;
  await redis.set(keys.generationCounter(projection), '1', { condition: 'NX' });
  const next = await redis.incr(keys.generationCounter(projection));
  const set = await redis.set(keys.rebuilding(projection), String(next), { condition: 'NX' });
  if (set === 'OK') return next;
  return (await rebuildingGeneration(redis, keys, projection)) ?? next; // lost a race to another request
};

/** Deletes a generation's keys in the background: SCAN + UNLINK, never KEYS. */
export const unlinkGeneration = async (
  redis: RedisClient,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
): Promise<number> => {
  const pattern = `${keys.generation(projection, generation).base.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let unlinked = 0;
  for await (const batch of redis.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    if (batch.length > 0) unlinked += await redis.unlink(batch);
  }
  return unlinked;
};

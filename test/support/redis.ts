import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { openRedis, type Redis } from '../../src/redis';

/** A plain node-redis client, as `createClient` makes it: what tests look at Redis with. */
export type PlainRedis = ReturnType<typeof createClient>;

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test run uses, so tests never see each other's keys or the shared instance's. */
export const uniqueRedisPrefix = (label = 'test'): string =>
  `sluice-test:${label}:${randomUUID().slice(0, 8)}:`;

/** Removes every key under a prefix (SCAN + UNLINK; never KEYS). */
export const deleteKeysWithPrefix = async (prefix: string, url = TEST_REDIS_URL): Promise<void> => {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
};

/** The service's Redis seam on one node (what src/app.ts opens for REDIS_URL), connected. */
export const openTestSeam = async (url = TEST_REDIS_URL): Promise<Redis> => {
  const redis = openRedis({ kind: 'single', url });
  if (!(await redis.connect(5000))) throw new Error(`Redis at ${url} did not answer`);
  return redis;
};

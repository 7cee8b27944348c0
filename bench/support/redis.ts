import { randomUUID } from 'node:crypto';
import { deleteKeysWithPrefix } from '../../test/support/redis';

export const BENCH_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other run uses, so a benchmark never touches anyone else's keys on the shared Redis. */
export const benchPrefix = (bench: string): string => `sluice-bench:${bench}:${randomUUID().slice(0, 8)}:`;

/** Removes every key under the prefix (SCAN + UNLINK). */
export const cleanUpPrefix = (prefix: string): Promise<void> => deleteKeysWithPrefix(prefix, BENCH_REDIS_URL);

/** The environment of a service under test: its own store file and Redis prefix, the bench's Redis. */
export const serviceEnv = (storeUrl: string, prefix: string, logLevel: string): Record<string, string> => ({
  EVENTSTORE_URL: storeUrl,
  REDIS_URL: BENCH_REDIS_URL,
  REDIS_PREFIX: prefix,
  LOG_LEVEL: logLevel,
});

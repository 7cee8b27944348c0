import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { deleteKeysWithPrefix } from '../../test/support/redis';
import { elapsedMs, now } from './report';

export const BENCH_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other run uses, so a benchmark never touches anyone else's keys on the shared Redis. */
export const benchPrefix = (bench: string): string => `sluice-bench:${bench}:${randomUUID().slice(0, 8)}:`;

/** Removes every key under the prefix (SCAN + UNLINK). */
export const cleanUpPrefix = (prefix: string): Promise<void> => deleteKeysWithPrefix(prefix, BENCH_REDIS_URL);

export interface HsetBaseline {
  /** node-redis, HSET with 2 fields, pipelined in chunks of `chunk` commands. */
  nodeRedisPerSec: number;
  /** redis-benchmark (C client), HSET with 1 field, -P 100; undefined when the binary is missing. */
  redisBenchmarkPerSec?: number;
}

/** The write limit of the same Redis for a Node client: `count` pipelined HSETs through node-redis. */
export const nodeRedisHsetPerSec = async (prefix: string, count: number, chunk = 1000): Promise<number> => {
  const client = createClient({ url: BENCH_REDIS_URL });
  await client.connect();
  try {
    // Warm up the connection and the server's allocator outside the timing.
    await client.hSet(`${prefix}hset:warm`, { status: 'pending', version: '0' });
    const started = now();
    for (let first = 0; first < count; first += chunk) {
      const pipeline = client.multi();
      for (let i = first; i < Math.min(count, first + chunk); i++) {
        pipeline.hSet(`${prefix}hset:${i}`, { status: 'pending', version: String(i) });
      }
      await pipeline.execAsPipeline();
    }
    return count / (elapsedMs(started) / 1000);
  } finally {
    client.destroy();
  }
};

/** redis-benchmark's pipelined HSET on keys under our prefix (`-r` spreads them over `count` keys). */
export const redisBenchmarkHsetPerSec = (prefix: string, count: number): number | undefined => {
  const { hostname, port } = new URL(BENCH_REDIS_URL);
  const run = spawnSync(
    'redis-benchmark',
    [
      ...['-h', hostname, '-p', port || '6379', '-n', String(count), '-P', '100', '-r', String(count), '-q'],
      ...['HSET', `${prefix}rb:__rand_int__`, 'status', 'pending'],
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (run.error || run.status !== 0) return undefined;
  // "HSET ...: 512820.53 requests per second, p50=..." (the last rate on the line wins over progress output)
  const rates = [...run.stdout.matchAll(/([\d.]+) requests per second/g)];
  const rate = Number(rates.at(-1)?.[1]);
  return Number.isFinite(rate) ? rate : undefined;
};

export const hsetBaseline = async (prefix: string, count = 100_000): Promise<HsetBaseline> => {
  const nodeRedisPerSec = await nodeRedisHsetPerSec(prefix, count);
  const redisBenchmarkPerSec = redisBenchmarkHsetPerSec(prefix, count);
  await cleanUpPrefix(prefix);
  return { nodeRedisPerSec, ...(redisBenchmarkPerSec === undefined ? {} : { redisBenchmarkPerSec }) };
};

// The write limit of the same Redis, measured in the same run: what projection and rebuild throughput is
// compared with.
import { spawnSync } from 'node:child_process';
import { createClient } from 'redis';
import { BENCH_REDIS_URL, cleanUpPrefix } from './redis';
import { elapsedMs, fmtInt, fmtRatio, now } from './report';

export interface HsetBaseline {
  /** node-redis, HSET with 2 fields, pipelined in chunks of `chunk` commands. */
  nodeRedisPerSec: number;
  /** redis-benchmark (C client), HSET of 1 field, -P 100; undefined when the binary is missing. */
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

/**
 * redis-benchmark's pipelined HSET into one hash under our prefix (`-r` spreads the fields). Ten times
 * `count` requests: at ~1M/s, 100k requests take ~0.1 s and its millisecond timer rounds the rate.
 */
export const redisBenchmarkHsetPerSec = (prefix: string, count: number): number | undefined => {
  const { hostname, port } = new URL(BENCH_REDIS_URL);
  const requests = String(count * 10);
  const run = spawnSync(
    'redis-benchmark',
    [
      ...['-h', hostname, '-p', port || '6379', '-n', requests, '-P', '100', '-r', String(count), '-q'],
      ...['HSET', `${prefix}rb:hash`, 'field:__rand_int__', 'pending'],
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (run.error || run.status !== 0) return undefined;
  // "HSET ...: 512820.53 requests per second, p50=..." (the last rate on the line wins over progress output)
  const rates = [...run.stdout.matchAll(/([\d.]+) requests per second/g)];
  const rate = Number(rates.at(-1)?.[1]);
  return Number.isFinite(rate) ? rate : undefined;
};

const ROUNDS = 3;

/** Best of three rounds of node-redis's pipelined HSET alone (a couple of seconds, for pairing with one run). */
export const bestNodeRedisHset = async (prefix: string, count = 100_000): Promise<number> => {
  let best = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      best = Math.max(best, await nodeRedisHsetPerSec(prefix, count));
      await cleanUpPrefix(prefix);
    }
  } finally {
    await cleanUpPrefix(prefix);
  }
  return best;
};

/** Best of three rounds of each: a limit is what Redis can do, and one round swings with the shared machine. */
export const hsetBaseline = async (prefix: string, count = 100_000): Promise<HsetBaseline> => {
  let nodeRedisPerSec = 0;
  let redisBenchmarkPerSec: number | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      nodeRedisPerSec = Math.max(nodeRedisPerSec, await nodeRedisHsetPerSec(prefix, count));
      const cBased = redisBenchmarkHsetPerSec(prefix, count);
      if (cBased !== undefined) redisBenchmarkPerSec = Math.max(redisBenchmarkPerSec ?? 0, cBased);
      await cleanUpPrefix(prefix);
    }
  } finally {
    await cleanUpPrefix(prefix);
  }
  return { nodeRedisPerSec, ...(redisBenchmarkPerSec === undefined ? {} : { redisBenchmarkPerSec }) };
};

/**
 * The shared machine's speed drifts over a long run, so the limit is measured before ours and again after
 * it; ratios use the higher of the two (the stricter comparison).
 */
export const strictest = (before: HsetBaseline, after: HsetBaseline): HsetBaseline => {
  const cBased = [before.redisBenchmarkPerSec, after.redisBenchmarkPerSec].filter((r) => r !== undefined);
  return {
    nodeRedisPerSec: Math.max(before.nodeRedisPerSec, after.nodeRedisPerSec),
    ...(cBased.length > 0 ? { redisBenchmarkPerSec: Math.max(...cBased) } : {}),
  };
};

const fmtRate = (rate: number | undefined) => (rate === undefined ? 'binary missing' : fmtInt(rate));

export const baselineRows = (before: HsetBaseline, after: HsetBaseline) => [
  {
    what: 'baseline: node-redis, 100k HSET (2 fields), pipelined 1000 at a time (best of 3)',
    'before ours, per s': fmtInt(before.nodeRedisPerSec),
    'after ours, per s': fmtInt(after.nodeRedisPerSec),
  },
  {
    what: 'baseline: redis-benchmark HSET (1 field), -P 100, -n 1000000 (best of 3)',
    'before ours, per s': fmtRate(before.redisBenchmarkPerSec),
    'after ours, per s': fmtRate(after.redisBenchmarkPerSec),
  },
];

/** Ratio columns: ours against each baseline. */
export const versus = (perSec: number, hset: HsetBaseline) => ({
  'vs node-redis HSET': fmtRatio(perSec, hset.nodeRedisPerSec),
  'vs redis-benchmark HSET': hset.redisBenchmarkPerSec ? fmtRatio(perSec, hset.redisBenchmarkPerSec) : 'n/a',
});

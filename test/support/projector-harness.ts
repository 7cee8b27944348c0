import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import type { NewEvent, RecordedEvent } from '../../src/eventstore';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import type { ProjectorOptions } from '../../src/readmodel';
import {
  defineProjection,
  type Projection,
  Projector,
  type ReadModelKeys,
  readModelKeys,
} from '../../src/readmodel';
import type { Redis } from '../../src/redis';
import {
  deleteKeysWithPrefix,
  openTestSeam,
  type PlainRedis,
  TEST_REDIS_URL,
  uniqueRedisPrefix,
} from './redis';

/** A sale on a till: what the daily-revenue-like test projection counts. */
export interface Sale {
  day: string;
  cents: number;
}

/**
 * Counters per day with HINCRBY, like projections/daily-revenue.ts: applying an event twice shows up as a
 * wrong total. `Noted` events pass the filter but have no handler; streams not starting with `till-` are
 * filtered out by the subscription.
 */
export const tillRevenue = (name = 'till-revenue', failOn?: (event: RecordedEvent) => boolean): Projection =>
  defineProjection<{ type: 'Sold'; data: Sale }>({
    name,
    version: 1,
    streams: ['till-'],
    handlers: {
      Sold: (event, w) => {
        if (failOn?.(event as RecordedEvent)) throw new Error(`cannot count sale ${event.revision}`);
        const day = `day:${event.data.day}`;
        w.hincrby(day, 'sales', 1).hincrby(day, 'cents', event.data.cents);
      },
    },
  }) as Projection; // the projector dispatches on event.type, as with projections/index.ts

export const sold = (sale: Sale): NewEvent => ({ id: randomUUID(), type: 'Sold', data: sale, metadata: {} });
export const noted = (): NewEvent => ({ id: randomUUID(), type: 'Noted', data: {}, metadata: {} });

/** The counters the projection must hold, computed from the events themselves. */
export const truthOf = (sales: Sale[]): Record<string, { sales: string; cents: string }> => {
  const days: Record<string, { sales: number; cents: number }> = {};
  for (const { day, cents } of sales) {
    const counters = days[day] ?? { sales: 0, cents: 0 };
    counters.sales += 1;
    counters.cents += cents;
    days[day] = counters;
  }
  return Object.fromEntries(
    Object.entries(days).map(([day, c]) => [day, { sales: String(c.sales), cents: String(c.cents) }]),
  );
};

export const DAYS = ['2024-05-01', '2024-05-02', '2024-05-03'];

/** A deterministic sale for the i-th event, spread over a few days and prices. */
export const saleNo = (i: number): Sale => ({ day: DAYS[i % DAYS.length]!, cents: 100 + ((i * 37) % 900) });

/** Everything one projector test needs: a temp SQLite store, Redis, a private prefix. */
export interface ProjectorBench {
  store: SqliteEventStore;
  storePath: string;
  /** A plain client, for the test to look at (or tamper with) what the projector wrote. */
  redis: PlainRedis;
  /** The service's Redis seam on the same Redis, for the code under test. */
  seam: Redis;
  prefix: string;
  keys: ReadModelKeys;
  /** Writes the lease as a holder would and answers its token. */
  takeLease: (projection: string) => Promise<string>;
  /** A projector of generation 1 on this bench; events reach it as stored unless `upcast` says otherwise. */
  projector: (
    options: Partial<ProjectorOptions> & Pick<ProjectorOptions, 'projection' | 'leaseToken'>,
  ) => Projector;
  /** The counters stored for each day of the generation. */
  countersOf: (projection: string, generation?: number) => Promise<Record<string, Record<string, string>>>;
  checkpointOf: (projection: string, generation?: number) => Promise<bigint>;
  dispose: () => Promise<void>;
}

export const openProjectorBench = async (
  label: string,
  { redisUrl = TEST_REDIS_URL } = {},
): Promise<ProjectorBench> => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-projector-'));
  const storePath = join(dir, 'events.sqlite');
  const store = SqliteEventStore.open(storePath);
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => {}); // tests that stop Redis look at it once it is back
  await redis.connect();
  const seam = await openTestSeam(redisUrl);
  const prefix = uniqueRedisPrefix(label);
  const keys = readModelKeys(prefix);
  const projectors: Projector[] = [];
  const generationKeys = (projection: string, generation = 1) => keys.generation(projection, generation);
  return {
    store,
    storePath,
    redis,
    seam,
    prefix,
    keys,
    // On the projector's own connection: a SET sent from inside a handler lands before that batch's apply.
    takeLease: async (projection) => {
      const token = randomUUID();
      await seam.primary.set(keys.lease(projection), token);
      return token;
    },
    projector: (options) => {
      const projector = new Projector({
        generation: 1,
        store,
        redis: seam,
        keys,
        upcast: (event) => event,
        ...options,
      });
      projectors.push(projector);
      return projector;
    },
    countersOf: async (projection, generation) => {
      const counters: Record<string, Record<string, string>> = {};
      for (const day of DAYS) {
        const stored = await redis.hGetAll(generationKeys(projection, generation).key(`day:${day}`));
        if (Object.keys(stored).length > 0) counters[day] = { ...stored };
      }
      return counters;
    },
    checkpointOf: async (projection, generation) =>
      BigInt((await redis.hGet(generationKeys(projection, generation).checkpoint, 'position')) ?? '0'),
    dispose: async () => {
      await Promise.all(projectors.map((p) => p.stop().catch(() => {})));
      await store.close();
      if (redis.isOpen) redis.destroy();
      await seam.close();
      await deleteKeysWithPrefix(prefix, redisUrl).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Polls a condition the test observes (not the product) until it holds, or fails after `timeoutMs`. */
export const eventually = async <T>(
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  { timeoutMs = 10_000, everyMs = 25, what = 'condition' } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline)
      throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
    last = await probe();
  }
  return last;
};

const stringify = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))?.slice(0, 500) ?? 'undefined';

/** Every key under `prefix` with its value, by type (hash → object, zset → [member, score] pairs, …). */
export const snapshotKeys = async (redis: PlainRedis, prefix: string): Promise<Record<string, unknown>> => {
  const snapshot: Record<string, unknown> = {};
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    for (const key of batch) snapshot[key.slice(prefix.length)] = await redisValue(redis, key);
  }
  return Object.fromEntries(Object.entries(snapshot).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
};

/** A key's value in a comparable form, whatever its type. */
export const redisValue = async (redis: PlainRedis, key: string): Promise<unknown> => {
  const type = await redis.type(key);
  if (type === 'hash') return { ...(await redis.hGetAll(key)) };
  if (type === 'zset')
    return (await redis.zRangeWithScores(key, 0, -1)).map(({ value, score }) => [value, score]);
  if (type === 'set') return (await redis.sMembers(key)).sort();
  if (type === 'stream') return (await redis.xRange(key, '-', '+')).map(({ message }) => ({ ...message }));
  if (type === 'string') return redis.get(key);
  return type;
};

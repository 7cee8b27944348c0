import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import type { EventStore } from '../../src/eventstore';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { createOrderCommandHandlers, upcastOrderEvent } from '../../src/orders';
import {
  defineProjection,
  type Projection,
  ProjectionRunner,
  type ProjectionRunnerOptions,
  type ReadModelKeys,
  readModelKeys,
} from '../../src/readmodel';
import type { Redis } from '../../src/redis';
import { berlin, LATER, orderCommand, PLACED_AT } from '../support/orders';
import { redisValue } from '../support/projector-harness';
import {
  deleteKeysWithPrefix,
  openTestSeam,
  type PlainRedis,
  TEST_REDIS_URL,
  uniqueRedisPrefix,
} from '../support/redis';

/** Everything a rebuild test needs: a temp SQLite store, Redis, a private prefix, runners it stops. */
export interface RebuildBench {
  store: EventStore;
  /** A plain client, for the test to look at what the runners wrote. */
  redis: PlainRedis;
  /** The service's Redis seam on the same Redis, for the code under test. */
  seam: Redis;
  prefix: string;
  keys: ReadModelKeys;
  /** A runner with a short lease (ticks every 100 ms), stopped by dispose(). */
  runner: (projection: Projection, options?: Partial<ProjectionRunnerOptions>) => ProjectionRunner;
  /** Places `count` orders through the command bus; some are then confirmed, shipped or cancelled. */
  placeOrders: (count: number) => Promise<string[]>;
  active: (projection: string) => Promise<number>;
  /** The generation's keys (relative to it) with their values; the checkpoint reduced to its position. */
  modelOf: (
    projection: string,
    generation: number,
    under?: ReadModelKeys,
  ) => Promise<Record<string, unknown>>;
  keyCount: (projection: string, generation: number) => Promise<number>;
  dispose: () => Promise<void>;
}

export const openRebuildBench = async (label: string): Promise<RebuildBench> => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rebuild-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  const redis = createClient({ url: TEST_REDIS_URL });
  await redis.connect();
  const seam = await openTestSeam();
  const prefix = uniqueRedisPrefix(label);
  const keys = readModelKeys(prefix);
  const runners: ProjectionRunner[] = [];
  const bus = createOrderCommandHandlers({ store });

  const placeOne = async (i: number): Promise<string> => {
    const orderId = randomUUID();
    const customerId = `customer-${i % 7}`;
    const items = [{ sku: `SKU-${i % 5}`, quantity: 1 + (i % 3), unitPrice: (100 + ((i * 37) % 900)) / 100 }];
    const at = new Date(Date.parse(PLACED_AT) + i * 3_600_000).toISOString(); // spread over days
    await bus.dispatch(
      orderCommand('PlaceOrder', {
        orderId,
        at,
        customerId,
        items,
        shippingAddress: berlin,
        currency: 'EUR',
      }),
    );
    if (i % 4 === 1 || i % 4 === 2) await bus.dispatch(orderCommand('ConfirmOrder', { orderId, at: LATER }));
    if (i % 4 === 2) await bus.dispatch(orderCommand('ShipOrder', { orderId, at: LATER }));
    if (i % 4 === 3) await bus.dispatch(orderCommand('CancelOrder', { orderId, at: LATER }));
    return orderId;
  };

  const generationKeys = async (projection: string, generation: number, under = keys): Promise<string[]> => {
    const base = under.generation(projection, generation).base;
    const found: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${base}*`, COUNT: 1000 })) found.push(...batch);
    return found.sort();
  };

  return {
    store,
    redis,
    seam,
    prefix,
    keys,
    runner: (projection, options = {}) => {
      const runner = new ProjectionRunner({
        projection,
        store,
        redis: seam,
        keys,
        upcast: upcastOrderEvent,
        leaseTtlMs: 500,
        ...options,
      }).start();
      runners.push(runner);
      return runner;
    },
    placeOrders: async (count) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i += 10) {
        const chunk = Array.from({ length: Math.min(10, count - i) }, (_, j) => placeOne(i + j));
        ids.push(...(await Promise.all(chunk)));
      }
      return ids;
    },
    active: async (projection) => Number((await redis.get(keys.active(projection))) ?? '1'),
    modelOf: async (projection, generation, under = keys) => {
      const generationBase = under.generation(projection, generation);
      const model: Record<string, unknown> = {};
      for (const key of await generationKeys(projection, generation, under)) {
        const relative = key.slice(generationBase.base.length);
        model[relative] =
          key === generationBase.checkpoint
            ? await redis.hGet(key, 'position')
            : await redisValue(redis, key);
      }
      return model;
    },
    keyCount: async (projection, generation) => (await generationKeys(projection, generation)).length,
    dispose: async () => {
      await Promise.all(runners.map((runner) => runner.stop().catch(() => {})));
      await store.close();
      redis.destroy();
      await seam.close();
      await deleteKeysWithPrefix(prefix).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Polls what the test observes (not the product) until it holds, or fails after `timeoutMs`. */
export const eventually = async <T>(
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  { timeoutMs = 10_000, everyMs = 20, what = 'condition' } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline)
      throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    last = await probe();
  }
  return last;
};

/** Blocks the event loop for `ms`: a handler that is slow on purpose, so a rebuild takes a while. */
const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
};

/**
 * Counts orders: one hash per order and a counter, so an event applied twice or missed shows up.
 * `version` and the key names change between versions (a version bump that changes meaning).
 */
export const orderTally = (version: number, options: { slowMs?: () => number } = {}): Projection =>
  defineProjection<{ type: 'OrderPlaced'; data: { orderId: string; customerId: string } }>({
    name: 'order-tally',
    version,
    streams: ['order-'],
    handlers: {
      OrderPlaced: ({ data }, w) => {
        spin(options.slowMs?.() ?? 0);
        w.hset(`v${version}:order:${data.orderId}`, { customerId: data.customerId }).incrby(
          `v${version}:placed`,
          1,
        );
      },
    },
  }) as Projection;

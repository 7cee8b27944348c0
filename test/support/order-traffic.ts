import type { EventStore } from '../../src/eventstore';
import { orderProjections as allProjections, upcastOrderEvent, utcDay } from '../../src/orders';
import type { OrderEvent } from '../../src/orders/events';
import { type ReadModelKeys, readModelKeys } from '../../src/readmodel';
import { GENERATION_KEYS } from '../../src/readmodel/keys';
import { generationPrefix } from '../../src/readmodel/projection';
import { type Redis, type RedisCommands, scanPrefix } from '../../src/redis';
import { eventually, snapshotKeys } from './projector-harness';
import type { PlainRedis } from './redis';

const post = (baseUrl: string, path: string, body?: unknown, method = 'POST') =>
  fetch(baseUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const price = () => (100 + Math.floor(Math.random() * 9900)) / 100; // 1.00–99.99, two decimals

/** What the writer did: every answer's status, so a test can tell commands that failed. */
export interface TrafficReport {
  statuses: Record<number, number>;
  commands: number;
}

/**
 * One order's life over HTTP: place, maybe add an item, then confirm and ship, cancel, or leave it.
 * Each worker drives its own orders one command at a time, so every transition it asks for is valid.
 */
const orderLife = async (baseUrl: string, record: (status: number) => void): Promise<void> => {
  const placed = await post(baseUrl, '/orders', {
    customerId: pick(['c-ann', 'c-bob', 'c-cat', 'c-dan']),
    items: [
      { sku: pick(['sku-a', 'sku-b']), quantity: 1 + Math.floor(Math.random() * 3), unitPrice: price() },
    ],
    shippingAddress: { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' },
  });
  record(placed.status);
  if (placed.status !== 201) return;
  const { orderId } = (await placed.json()) as { orderId: string };
  const step = async (path: string, body?: unknown, method?: string) => {
    const res = await post(baseUrl, `/orders/${orderId}${path}`, body, method);
    record(res.status);
    await res.body?.cancel();
  };
  if (Math.random() < 0.4) await step('/items', { sku: 'sku-c', quantity: 2, unitPrice: price() });
  const fate = Math.random();
  if (fate < 0.2) return; // stays pending
  if (fate < 0.35) return step('', { reason: 'changed my mind' }, 'DELETE');
  await step('/confirm');
  if (fate < 0.5) return step('', {}, 'DELETE');
  await step('/ship', { trackingNumber: `T-${orderId.slice(0, 8)}` });
};

/** `workers` concurrent writers sending order lives until stop() is called. */
export const startOrderTraffic = (baseUrl: string, workers = 3) => {
  const report: TrafficReport = { statuses: {}, commands: 0 };
  const record = (status: number) => {
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
    report.commands += 1;
  };
  let running = true;
  const worker = async () => {
    while (running) await orderLife(baseUrl, record).catch(() => record(0));
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return {
    report,
    stop: async (): Promise<TrafficReport> => {
      running = false;
      await all;
      return report;
    },
  };
};

/** The active generation as Redis holds it (1 before the first start), read by the test itself. */
const activeOf = async (redis: PlainRedis, keys: ReadModelKeys, name: string) =>
  Number((await redis.get(keys.active(name))) ?? '1');

/** Waits until every projection's active generation has applied everything up to the store's head. */
export const waitCaughtUp = async (
  redis: PlainRedis,
  prefix: string,
  store: EventStore,
  timeoutMs = 15_000,
) => {
  const keys = readModelKeys(prefix);
  const head = await store.headPosition();
  await eventually(
    () =>
      Promise.all(
        allProjections.map(async ({ name }) => {
          const generation = await activeOf(redis, keys, name);
          return BigInt((await redis.hGet(keys.generation(name, generation).checkpoint, 'position')) ?? '0');
        }),
      ),
    (checkpoints) => checkpoints.every((c) => c >= head),
    { timeoutMs, everyMs: 100, what: `every projection at head ${head} (prefix ${prefix})` },
  );
  return head;
};

/**
 * Each projection's whole read model (its active generation's keys, relative to the generation), with the
 * checkpoint hash reduced to what must match between two builds (appliedAt is a wall-clock time).
 */
export const readModelOf = async (redis: PlainRedis, prefix: string) => {
  const keys = readModelKeys(prefix);
  const models: Record<string, Record<string, unknown>> = {};
  for (const { name } of allProjections) {
    const generation = await activeOf(redis, keys, name);
    const model = await snapshotKeys(redis, generationPrefix(prefix, name, generation));
    const { position, recordedAt } = (model._checkpoint ?? {}) as Record<string, string>;
    model._checkpoint = { position, recordedAt };
    models[name] = model;
  }
  return models;
};

/** Daily counters computed straight from the events, as the daily-revenue hashes must hold them. */
export const dailyRevenueFromEvents = async (store: EventStore) => {
  const days: Record<string, Record<string, number>> = {};
  const add = (iso: string, field: string, by: number) => {
    const key = `day:${utcDay(iso)}`;
    const day = days[key] ?? {};
    day[field] = (day[field] ?? 0) + by;
    days[key] = day;
  };
  const head = await store.headPosition();
  const subscription = store.subscribeAll({ from: 'start', filter: { streamPrefixes: ['order-'] } });
  try {
    for await (const message of subscription) {
      if (message.kind === 'event') {
        const event = upcastOrderEvent(message.event) as unknown as OrderEvent;
        if (event.type === 'OrderPlaced') add(event.data.placedAt, 'placed', 1);
        if (event.type === 'OrderCancelled') add(event.data.cancelledAt, 'cancelled', 1);
        if (event.type === 'OrderShipped') {
          add(event.data.shippedAt, 'shipped', 1);
          add(event.data.shippedAt, `revenue:${event.data.minorUnits}`, event.data.totalMinor);
        }
      }
      const position = message.kind === 'event' ? message.event.position : message.position;
      if (position >= head) break;
    }
  } finally {
    await subscription.close();
  }
  return Object.fromEntries(
    Object.entries(days).map(([day, c]) => [
      day,
      Object.fromEntries(Object.entries(c).map(([field, n]) => [field, String(n)])),
    ]),
  );
};

/** A key's value in a comparable form, read through the service's Redis seam (any topology). */
const valueVia = async (commands: RedisCommands, key: string): Promise<unknown> => {
  const type = await commands.type(key);
  if (type === 'hash') return { ...(await commands.hGetAll(key)) };
  if (type === 'zset')
    return (await commands.zRangeWithScores(key, 0, -1)).map(({ value, score }) => [value, score]);
  if (type === 'set') return (await commands.sMembers(key)).sort();
  if (type === 'stream') return (await commands.xRange(key, '-', '+')).map(({ message }) => ({ ...message }));
  if (type === 'string') return commands.get(key);
  return type;
};

/**
 * readModelOf on any topology: each projection's active generation, found by SCAN on every primary and read
 * through the seam (on a Cluster the projections live on different nodes).
 */
export const readModelVia = async (redis: Redis, prefix: string) => {
  const keys = readModelKeys(prefix);
  const models: Record<string, Record<string, unknown>> = {};
  for (const { name } of allProjections) {
    const generation = Number((await redis.primary.get(keys.active(name))) ?? '1');
    const base = generationPrefix(prefix, name, generation);
    const found: string[] = [];
    await scanPrefix(redis, base, (batch) => {
      found.push(...batch);
      return true;
    });
    const model: Record<string, unknown> = {};
    for (const key of found.sort()) {
      // The answer to an admin replay is bookkeeping of that call, not part of the model.
      if (!key.slice(base.length).startsWith(GENERATION_KEYS.replayResult('')))
        model[key.slice(base.length)] = await valueVia(redis.primary, key);
    }
    const { position, recordedAt } = (model._checkpoint ?? {}) as Record<string, string>;
    model._checkpoint = { position, recordedAt };
    models[name] = model;
  }
  return models;
};

/** waitCaughtUp through the seam: every projection's active generation at the store's head. */
export const waitCaughtUpVia = async (
  redis: Redis,
  prefix: string,
  store: EventStore,
  timeoutMs = 30_000,
) => {
  const keys = readModelKeys(prefix);
  const head = await store.headPosition();
  await eventually(
    () =>
      Promise.all(
        allProjections.map(async ({ name }) => {
          const generation = Number((await redis.primary.get(keys.active(name))) ?? '1');
          const position = await redis.primary.hGet(keys.generation(name, generation).checkpoint, 'position');
          return BigInt(position ?? '0');
        }),
      ).catch(() => [] as bigint[]),
    (checkpoints) => checkpoints.length > 0 && checkpoints.every((c) => c >= head),
    { timeoutMs, everyMs: 100, what: `every projection at head ${head} (prefix ${prefix})` },
  );
  return head;
};

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { orderProjections as allProjections } from '../../src/orders';
import {
  dailyRevenueFromEvents,
  readModelOf,
  startOrderTraffic,
  waitCaughtUp,
} from '../support/order-traffic';
import { eventually } from '../support/projector-harness';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const KILLS = 3;
const randomBetween = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('projector SIGKILLed again and again while an API process keeps taking orders (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kill-'));
  const eventStoreUrl = `sqlite:${join(dir, 'events.sqlite')}`;
  const prefix = uniqueRedisPrefix('kill');
  const freshPrefix = uniqueRedisPrefix('kill-fresh');
  const redis = createClient({ url: TEST_REDIS_URL });
  const processes: ServiceProcess[] = [];
  const start = async (role: string, redisPrefix = prefix) => {
    const service = await startServiceProcess({
      ROLE: role,
      EVENTSTORE_URL: eventStoreUrl,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      // A short lease: the restarted projector takes over from the killed one within a second.
      PROJECTION_LEASE_TTL_MS: '1000',
    });
    processes.push(service);
    return service;
  };
  const projectorsStarted = (service: ServiceProcess) =>
    service.logs.filter((l) => typeof l === 'object' && l.msg === 'projector started').length;

  beforeAll(async () => {
    await redis.connect();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await Promise.all([prefix, freshPrefix].map((p) => deleteKeysWithPrefix(p).catch(() => {})));
    redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`given orders flowing in, when the projector process is SIGKILLed ${KILLS} times and restarted, then the read model equals one built from scratch and the revenue equals the events`, async () => {
    const [api, firstProjector] = await Promise.all([start('api'), start('projector')]);
    const traffic = startOrderTraffic(api.baseUrl);
    let projector = firstProjector;
    for (let kill = 1; kill <= KILLS; kill++) {
      await eventually(
        () => projectorsStarted(projector),
        (n) => n === allProjections.length,
        {
          what: 'the projector holding every lease',
        },
      );
      await sleep(randomBetween(300, 1500));
      const { signal } = await projector.kill('SIGKILL');
      expect(signal).toBe('SIGKILL');
      projector = await start('projector');
    }
    await Promise.all([start('projector', freshPrefix), sleep(1000)]);
    const report = await traffic.stop();

    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    try {
      const head = await waitCaughtUp(redis, prefix, store);
      await waitCaughtUp(redis, freshPrefix, store);
      expect(report.statuses[201]).toBeGreaterThan(20);
      expect(Object.keys(report.statuses).sort()).toEqual(['200', '201']);

      const survived = await readModelOf(redis, prefix);
      const fromScratch = await readModelOf(redis, freshPrefix);
      expect(Object.keys(survived['order-view']!).length).toBe((report.statuses[201] ?? 0) + 2);
      for (const { name } of allProjections)
        expect({ name, model: survived[name] }).toEqual({ name, model: fromScratch[name] });
      const { _checkpoint, _streams, ...days } = survived['daily-revenue']!;
      expect(days).toEqual(await dailyRevenueFromEvents(store));
      expect(_checkpoint).toMatchObject({ position: String(head) });
    } finally {
      await store.close();
    }
  }, 60_000);
});

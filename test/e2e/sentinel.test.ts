import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { openRedis, type Redis } from '../../src/redis';
import { tourTheApi } from '../support/api-tour';
import { json, validOrder } from '../support/app';
import { readModelVia, startOrderTraffic, waitCaughtUpVia } from '../support/order-traffic';
import { eventually } from '../support/projector-harness';
import { uniqueRedisPrefix } from '../support/redis';
import { type RedisSentinelProcesses, startRedisSentinel } from '../support/redis-topologies';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const ADMIN_TOKEN = 'sentinel-admin-token-0123456789';

const hgetallCalls = (info: string) => Number(/^cmdstat_hgetall:calls=(\d+)/m.exec(info)?.[1] ?? 0);

describe('the read side behind Redis Sentinel: a primary, a replica, three sentinels (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sentinel-e2e-'));
  const storePath = join(dir, 'events.sqlite');
  const prefix = uniqueRedisPrefix('sentinel');
  let sentinel: RedisSentinelProcesses;
  let service: ServiceProcess;
  let redis: Redis;
  const env = () => ({
    EVENTSTORE_URL: `sqlite:${storePath}`,
    REDIS_URL: '', // the test run's own Redis is in the environment: empty is unset
    REDIS_SENTINELS: sentinel.seeds,
    REDIS_SENTINEL_MASTER: sentinel.masterName,
    REDIS_READ_FROM: 'replica',
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN,
    CONSISTENCY_TIMEOUT_MS: '5000',
  });

  beforeAll(async () => {
    sentinel = await startRedisSentinel({ replicas: 1 });
    service = await startServiceProcess(env());
    redis = openRedis({
      kind: 'sentinel',
      masterName: sentinel.masterName,
      sentinels: sentinel.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      auth: { tls: false },
    });
    expect(await redis.connect(10_000)).toBe(true);
  }, 90_000);
  afterAll(async () => {
    await service?.kill('SIGKILL');
    await redis?.close();
    await sentinel?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given REDIS_SENTINELS and replica reads, then every command and query of the API works, read-your-writes fresh, and the replica served reads', async () => {
    const master = await sentinel.currentMaster();
    const replica = sentinel.dataNodes.find((node) => node.port !== master.port)!;
    const before = hgetallCalls(await sentinel.cli(replica, 'INFO', 'commandstats'));

    await tourTheApi(service.baseUrl, ADMIN_TOKEN, 'sentinel-tour');

    // Replication never sends a read: these HGETALLs are queries that the replica served.
    expect(hgetallCalls(await sentinel.cli(replica, 'INFO', 'commandstats'))).toBeGreaterThan(before);
  }, 60_000);

  it('given commands flowing, when the primary is SIGKILLed and the sentinels fail over, then no command fails, queries answer 503 at most during the failover, and afterwards the read model equals a clean rebuild with zero lag', async () => {
    const known: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${service.baseUrl}/orders`, json(validOrder({ customerId: 'c-failover' })));
      const { orderId, version } = (await res.json()) as { orderId: string; version: number };
      await fetch(`${service.baseUrl}/orders/${orderId}?minVersion=${version}`);
      known.push(orderId);
    }
    const traffic = startOrderTraffic(service.baseUrl, 3);
    const reads: Array<{ at: number; status: number }> = [];
    let reading = true;
    const reader = (async () => {
      for (let i = 0; reading; i++) {
        const res = await fetch(`${service.baseUrl}/orders/${known[i % known.length]}`).catch(
          () => undefined,
        );
        reads.push({ at: Date.now(), status: res?.status ?? 0 });
        await res?.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await new Promise((r) => setTimeout(r, 1500));
    const old = await sentinel.currentMaster();
    const killedAt = Date.now();
    await old.kill();
    await sentinel.waitForNewMaster(old);
    const promotedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000)); // commands keep flowing on the promoted replica
    const report = await traffic.stop();
    reading = false;
    await reader;

    expect(Object.keys(report.statuses).sort()).toEqual(['200', '201']);
    expect(report.commands).toBeGreaterThan(20);
    const failed = reads.filter((r) => r.status !== 200);
    const unexpected = failed.filter((r) => r.status !== 503);
    const errors = service.logs.filter((l) => typeof l === 'object' && l.msg === 'unhandled error');
    expect({ unexpected, errors }).toEqual({ unexpected: [], errors: [] });
    for (const { at } of failed) {
      expect(at).toBeGreaterThanOrEqual(killedAt);
      expect(at).toBeLessThanOrEqual(promotedAt + 3000);
    }

    // Notifications follow the failover: a write after it is read fresh, woken by the new primary.
    const after = (await (
      await fetch(`${service.baseUrl}/orders`, json(validOrder({ customerId: 'c-after' })))
    ).json()) as { orderId: string; version: number };
    const read = await fetch(`${service.baseUrl}/orders/${after.orderId}?minVersion=${after.version}`);
    expect(read.headers.get('x-consistency')).toBe('fresh');

    const store = SqliteEventStore.open(storePath);
    try {
      const head = await waitCaughtUpVia(redis, prefix, store);
      const rows = await eventually(
        async () =>
          (await (
            await fetch(`${service.baseUrl}/admin/projections`, {
              headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
            })
          ).json()) as Array<{ status: string; lagEvents: number; checkpoint: string }>,
        (r) => r.every((row) => row.status === 'running' && row.lagEvents === 0),
        { what: 'every projection live with zero lag', timeoutMs: 15_000 },
      );
      expect(rows.every((row) => BigInt(row.checkpoint) >= head)).toBe(true);

      const freshPrefix = uniqueRedisPrefix('sentinel-fresh');
      const fresh = await startServiceProcess({ ...env(), REDIS_PREFIX: freshPrefix, ROLE: 'projector' });
      try {
        await waitCaughtUpVia(redis, freshPrefix, store);
        expect(await readModelVia(redis, prefix)).toEqual(await readModelVia(redis, freshPrefix));
      } finally {
        await fresh.kill('SIGTERM');
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});

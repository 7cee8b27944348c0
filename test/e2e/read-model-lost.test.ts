import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readModelKeys } from '../../src/readmodel';
import { json, validOrder } from '../support/app';
import { adminRows, readiness, rowOf } from '../support/ops-probes';
import { eventually } from '../support/projector-harness';
import { deleteKeysWithPrefix, type PlainRedis, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const ADMIN_TOKEN = 'lost-admin-token-0123456789';

describe('a checkpoint or active pointer that vanishes (eviction, a hand) is reported as lost, never taken as "start from 0"', () => {
  let dir: string;
  let prefix: string;
  let redis: PlainRedis;
  let service: ServiceProcess;
  const today = new Date().toISOString().slice(0, 10);
  const report = async () => {
    const res = await fetch(`${service.baseUrl}/reports/daily-revenue?from=${today}&to=${today}`);
    return ((await res.json()) as { days: Array<{ placed: number }> }).days[0]!.placed;
  };
  const place = async () => {
    const res = await fetch(`${service.baseUrl}/orders`, json(validOrder({ customerId: 'c-lost' })));
    return (await res.json()) as { position: string };
  };
  const rebuildAndRecover = async (name: string, expectedPlaced: number) => {
    const asked = await fetch(`${service.baseUrl}/admin/projections/${name}/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(asked.status).toBe(202);
    const { generation } = (await asked.json()) as { generation: number };
    const row = await eventually(
      async () => rowOf(await adminRows(service.baseUrl, ADMIN_TOKEN), name),
      (r) => r.generation === generation && r.status === 'running' && r.lagEvents === 0,
      { what: `${name} rebuilt into generation ${generation}`, timeoutMs: 20_000 },
    );
    expect(row.lastError).toBeUndefined();
    expect(await report()).toBe(expectedPlaced);
    expect((await readiness(service.baseUrl)).status).toBe(200);
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-lost-'));
    prefix = uniqueRedisPrefix('lost');
    redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    service = await startServiceProcess({
      EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN,
      PROJECTION_LEASE_TTL_MS: '1000',
    });
    let last = { position: '0' };
    for (let i = 0; i < 3; i++) last = await place();
    await fetch(
      `${service.baseUrl}/reports/daily-revenue?from=${today}&to=${today}&minPosition=${last.position}`,
    );
    expect(await report()).toBe(3);
  });
  afterEach(async () => {
    await service.kill('SIGKILL');
    await deleteKeysWithPrefix(prefix);
    redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given daily-revenue running, when its checkpoint is deleted while its counters remain, then it is faulted as lost and counts nothing twice; an admin rebuild recovers the exact counts', async () => {
    const keys = readModelKeys(prefix);
    await redis.del(keys.generation('daily-revenue', 1).checkpoint);
    await place();

    const row = await eventually(
      async () => rowOf(await adminRows(service.baseUrl, ADMIN_TOKEN), 'daily-revenue'),
      (r) => r.status === 'faulted',
      { what: 'daily-revenue faulted', timeoutMs: 10_000 },
    );
    expect(row.lastError).toMatch(/checkpoint of daily-revenue generation 1 is missing.*rebuild/);
    const ready = await readiness(service.baseUrl);
    expect(ready.status).toBe(503);
    expect(ready.body.components.projections?.error).toContain('daily-revenue');
    expect(
      service.logs.some((l) => typeof l === 'object' && l.level === 50 && l.cause === 'lost-state'),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 1000)); // a projector starting from 0 would have re-counted by now
    expect(await report()).toBe(3); // not 3 + 4: nothing was applied again from the start

    await rebuildAndRecover('daily-revenue', 4);
  }, 60_000);

  it('given daily-revenue running, when its active-generation pointer is deleted, then it is faulted as lost; an admin rebuild recovers', async () => {
    const keys = readModelKeys(prefix);
    await redis.del(keys.active('daily-revenue'));

    const row = await eventually(
      async () => rowOf(await adminRows(service.baseUrl, ADMIN_TOKEN), 'daily-revenue'),
      (r) => r.status === 'faulted',
      { what: 'daily-revenue faulted', timeoutMs: 10_000 },
    );
    expect(row.lastError).toMatch(/active-generation pointer is missing/);
    expect((await readiness(service.baseUrl)).status).toBe(503);

    await place();
    await rebuildAndRecover('daily-revenue', 4);
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, validOrder } from '../support/app';
import { adminRows, counterSum, metricValue, readiness, rowOf } from '../support/ops-probes';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import { eventually } from '../support/projector-harness';
import type { PlainRedis } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const ROOT = new URL('../..', import.meta.url).pathname;
const ADMIN_TOKEN = 'memory-admin-token-0123456789';
const NAMES = ['customer-orders', 'daily-revenue', 'order-view', 'orders-index'];

describe('Redis memory: an evicting policy, a policy changed at run time, out of memory (private redis-server)', () => {
  let redisServer: PrivateRedis;
  let redis: PlainRedis;
  let dir: string;
  let service: ServiceProcess | undefined;
  beforeEach(async () => {
    redisServer = await startPrivateRedis();
    redis = createClient({ url: redisServer.url });
    await redis.connect();
    dir = mkdtempSync(join(tmpdir(), 'sluice-memory-'));
  });
  afterEach(async () => {
    await service?.kill('SIGKILL');
    service = undefined;
    redis.destroy();
    await redisServer.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({
    EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: 'memory:',
    ADMIN_TOKEN,
  });
  const place = async (baseUrl: string) => {
    const res = await fetch(`${baseUrl}/orders`, json(validOrder({ customerId: 'c-memory' })));
    expect(res.status).toBe(201); // commands never need Redis, full or not
    return (await res.json()) as { orderId: string; version: number; position: string };
  };

  it('given maxmemory-policy allkeys-lru, when the service starts, then it exits 1 with one line naming the setting and the fix', async () => {
    await redis.configSet('maxmemory-policy', 'allkeys-lru');

    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env() },
      encoding: 'utf8',
      timeout: 20_000,
    });

    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/maxmemory-policy allkeys-lru/);
    expect(lines[0]).toMatch(/noeviction/);
    expect(result.stdout).not.toContain('sluice listening');
    expect(await redis.dbSize()).toBe(0); // nothing was projected before it refused
  });

  it('given a running service, when the policy is changed to allkeys-lru, then projectors stop applying with the cause visible; when it is set back, they catch up', async () => {
    service = await startServiceProcess(env());
    const first = await place(service.baseUrl);
    expect(
      (await fetch(`${service.baseUrl}/orders/${first.orderId}?minVersion=0`)).headers.get('x-consistency'),
    ).toBe('fresh');

    await redis.configSet('maxmemory-policy', 'allkeys-lru');
    const rows = await eventually(
      () => adminRows(service!.baseUrl, ADMIN_TOKEN),
      (r) => r.every((row) => row.status === 'faulted'),
      { what: 'every projection faulted', timeoutMs: 15_000 },
    );
    for (const row of rows) expect(row.lastError).toMatch(/maxmemory-policy allkeys-lru.*noeviction/);
    const during = await place(service.baseUrl);
    await new Promise((r) => setTimeout(r, 1000)); // a projector would have applied it by now
    expect((await fetch(`${service.baseUrl}/orders/${during.orderId}`)).status).toBe(404);
    const ready = await readiness(service.baseUrl);
    expect(ready.status).toBe(503);
    expect(ready.body.components.projections?.status).toBe('down');
    for (const name of NAMES) expect(ready.body.components.projections?.error).toContain(name);
    expect(await metricValue(service.baseUrl, 'sluice_projection_faulted', '{projection="order-view"}')).toBe(
      1,
    );
    expect(
      service.logs.some(
        (l) =>
          typeof l === 'object' && l.level === 50 && String(l.cause).includes('maxmemory-policy allkeys-lru'),
      ),
    ).toBe(true);

    await redis.configSet('maxmemory-policy', 'noeviction');
    await eventually(
      () => fetch(`${service!.baseUrl}/orders/${during.orderId}?minVersion=0`),
      (res) => res.status === 200,
      { what: 'the order placed meanwhile to be projected', timeoutMs: 20_000, everyMs: 200 },
    );
    await eventually(
      () => adminRows(service!.baseUrl, ADMIN_TOKEN),
      (r) => r.every((row) => row.status === 'running' && row.lagEvents === 0),
      { what: 'every projection running again', timeoutMs: 15_000 },
    );
    expect((await readiness(service.baseUrl)).status).toBe(200);
  }, 60_000);

  it('given noeviction and a small maxmemory, when applies hit OOM, then the projections are faulted with the cause (admin, /ready, a metric, an error line) and retry; when memory is raised, they catch up', async () => {
    service = await startServiceProcess(env());
    await place(service.baseUrl);
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    await redis.configSet('maxmemory', String(used + 64 * 1024));

    const placed: Array<{ orderId: string; version: number }> = [];
    await eventually(
      async () => {
        placed.push(await place(service!.baseUrl), await place(service!.baseUrl));
        return adminRows(service!.baseUrl, ADMIN_TOKEN);
      },
      (r) => r.some((row) => row.status === 'faulted' && /OOM/.test(row.lastError ?? '')),
      { what: 'a projection faulted on OOM', timeoutMs: 30_000, everyMs: 50 },
    );
    const faulted = (await adminRows(service.baseUrl, ADMIN_TOKEN)).filter((row) => row.status === 'faulted');
    expect(faulted.length).toBeGreaterThan(0);
    const ready = await readiness(service.baseUrl);
    expect(ready.status).toBe(503);
    for (const row of faulted) expect(ready.body.components.projections?.error).toContain(row.name);
    expect(
      await counterSum(service.baseUrl, 'sluice_projection_failures_total', 'cause="oom"'),
    ).toBeGreaterThan(0);
    expect(service.logs.some((l) => typeof l === 'object' && l.level === 50 && l.cause === 'oom')).toBe(true);

    await redis.configSet('maxmemory', '0');
    for (const { orderId, version } of placed) {
      const res = await eventually(
        () => fetch(`${service!.baseUrl}/orders/${orderId}?minVersion=${version}`),
        (r) => r.status === 200,
        { what: `order ${orderId} projected after memory was freed`, timeoutMs: 20_000, everyMs: 200 },
      );
      expect(res.headers.get('x-consistency')).toBe('fresh');
    }
    const rows = await eventually(
      () => adminRows(service!.baseUrl, ADMIN_TOKEN),
      (r) => r.every((row) => row.status === 'running' && row.lagEvents === 0),
      { what: 'every projection running again', timeoutMs: 15_000 },
    );
    expect(rowOf(rows, 'order-view').lastError).toBeUndefined();
    expect((await readiness(service.baseUrl)).status).toBe(200);
  }, 90_000);
});

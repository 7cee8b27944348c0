import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, validOrder } from '../support/app';
import { counterSum, readiness } from '../support/ops-probes';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import { eventually } from '../support/projector-harness';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const NAMES = ['customer-orders', 'daily-revenue', 'order-view', 'orders-index'];

describe('a Redis that refuses the service is never a silent failure (private redis-server, real process)', () => {
  let redisServer: PrivateRedis;
  let dir: string;
  let service: ServiceProcess | undefined;
  beforeEach(async () => {
    redisServer = await startPrivateRedis();
    dir = mkdtempSync(join(tmpdir(), 'sluice-refused-'));
  });
  afterEach(async () => {
    await service?.kill('SIGKILL');
    service = undefined;
    await redisServer.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (redisUrl: string) =>
    startServiceProcess({
      EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: 'refused:',
    });

  it('given a Redis that requires a password the service does not have (NOAUTH), then each projection logs an error with its cause, /ready names Redis and every projection, a metric counts it, and commands still work', async () => {
    const admin = createClient({ url: redisServer.url });
    await admin.connect();
    await admin.configSet('requirepass', 'Sekret-Pw-42');
    admin.destroy();

    service = await start(redisServer.url);

    const ready = await eventually(
      () => readiness(service!.baseUrl),
      (r) => NAMES.every((name) => r.body.components.projections?.error?.includes(name)),
      { what: '/ready naming every projection', timeoutMs: 10_000 },
    );
    expect(ready.status).toBe(503);
    expect(ready.body.components.redis).toMatchObject({
      status: 'down',
      error: expect.stringMatching(/NOAUTH/),
    });
    expect(ready.body.components.projections?.error).toMatch(/NOAUTH/);
    for (const name of NAMES) {
      expect(
        service.logs.some(
          (l) => typeof l === 'object' && l.level === 50 && l.projection === name && l.cause === 'noauth',
        ),
      ).toBe(true);
    }
    expect(
      await counterSum(service.baseUrl, 'sluice_projection_failures_total', 'cause="noauth"'),
    ).toBeGreaterThan(0);
    expect((await fetch(`${service.baseUrl}/orders`, json(validOrder()))).status).toBe(201);
  }, 30_000);

  it('given a running projector, when Redis forgets every script (SCRIPT FLUSH), then it loads them again and goes on', async () => {
    service = await start(redisServer.url);
    const place = async () =>
      (await (await fetch(`${service!.baseUrl}/orders`, json(validOrder()))).json()) as {
        orderId: string;
        version: number;
      };
    const first = await place();
    expect((await fetch(`${service.baseUrl}/orders/${first.orderId}?minVersion=0`)).status).toBe(200);
    const admin = createClient({ url: redisServer.url });
    await admin.connect();
    await admin.scriptFlush();
    admin.destroy();

    const second = await place();
    const res = await fetch(`${service.baseUrl}/orders/${second.orderId}?minVersion=0`);
    expect(res.headers.get('x-consistency')).toBe('fresh');
    expect((await readiness(service.baseUrl)).status).toBe(200);
  }, 30_000);
});

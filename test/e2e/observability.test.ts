import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, validOrder } from '../support/app';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const SECRET = `token-${crypto.randomUUID()}`;

describe('health, readiness, metrics and logs of a running service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-obs-'));
  const prefix = uniqueRedisPrefix('obs');
  let service: ServiceProcess;
  let orderId: string;

  beforeAll(async () => {
    service = await startServiceProcess({
      EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN: SECRET,
    });
    const placed = await fetch(
      `${service.baseUrl}/orders`,
      json(validOrder(), { 'x-correlation-id': 'corr-obs-1', 'idempotency-key': 'obs-key-1' }),
    );
    orderId = ((await placed.json()) as { orderId: string }).orderId;
    // A replay appends nothing, so it must not count as an append.
    await fetch(`${service.baseUrl}/orders`, json(validOrder(), { 'idempotency-key': 'obs-key-1' }));
    await fetch(`${service.baseUrl}/orders/${orderId}/ship`, json({})); // 409: pending cannot ship
    await fetch(`${service.baseUrl}/orders/${orderId}?minVersion=0`);
    await fetch(`${service.baseUrl}/admin/projections`, { headers: { authorization: `Bearer ${SECRET}` } });
  });
  afterAll(async () => {
    await service.kill('SIGTERM');
    await deleteKeysWithPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('given the service is alive, then /health answers 200', async () => {
    const res = await fetch(`${service.baseUrl}/health`);
    expect(res.status).toBe(200);
  });

  it('given the store and Redis answer, then /ready is 200 and names each component', async () => {
    const res = await fetch(`${service.baseUrl}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      components: {
        eventStore: { status: 'up' },
        redis: { status: 'up' },
        projections: { status: 'up' },
        lag: { status: 'up' },
      },
    });
  });

  it('given some traffic, then /metrics has latency by route and status, commands by outcome, and projection figures', async () => {
    const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
    expect(text).toMatch(
      /sluice_http_request_duration_seconds_bucket\{[^}]*method="POST",route="\/orders",status="201"/,
    );
    expect(text).toMatch(/sluice_commands_total\{type="PlaceOrder",outcome="ok"\} 2/);
    expect(text).toMatch(/sluice_commands_total\{type="ShipOrder",outcome="invalid-transition"\} 1/);
    expect(text).toMatch(/sluice_appends_total 1/);
    for (const projection of ['order-view', 'customer-orders', 'orders-index', 'daily-revenue']) {
      for (const metric of ['checkpoint', 'lag_events', 'lag_ms', 'events_applied', 'parked']) {
        expect(text).toMatch(new RegExp(`sluice_projection_${metric}\\{projection="${projection}"\\} \\d+`));
      }
    }
  });

  it('given requests, then each got one structured log line with method, route, status, ms and correlation id', () => {
    const requestLines = service.logs.filter(
      (l): l is Record<string, unknown> => typeof l === 'object' && l.msg === 'request',
    );
    const placed = requestLines.find((l) => l.method === 'POST' && l.route === '/orders');
    expect(placed).toMatchObject({ status: 201, correlationId: 'corr-obs-1' });
    expect(typeof placed?.ms).toBe('number');
    expect(requestLines.filter((l) => l.correlationId === 'corr-obs-1')).toHaveLength(1);
  });

  it('given the projectors, then each logged that it caught up and went live', () => {
    const caughtUp = service.logs
      .filter(
        (l): l is Record<string, unknown> =>
          typeof l === 'object' && l.msg === 'projection caught up; now live',
      )
      .map((l) => l.projection)
      .sort();
    expect(caughtUp).toEqual(['customer-orders', 'daily-revenue', 'order-view', 'orders-index']);
  });

  it('given an admin call with the token, then no log line contains the token', () => {
    expect(service.logs.some((l) => JSON.stringify(l).includes(SECRET))).toBe(false);
  });
});

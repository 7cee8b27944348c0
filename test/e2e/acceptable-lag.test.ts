import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config';
import { startTestApp } from '../support/app';
import { deleteKeysWithPrefix, uniqueRedisPrefix } from '../support/redis';
import { placeOrder } from './commands.requests';

const ADMIN_TOKEN = 'acceptable-lag-admin-token';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface Row {
  name: string;
  lagMs: number;
  acceptableLagMs: number;
  overAcceptableLag: boolean;
}

describe('the lag each projection accepts (real HTTP, Redis and SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lag-'));
  const shared = {
    EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
    REDIS_PREFIX: uniqueRedisPrefix('lag'),
  };
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteKeysWithPrefix(shared.REDIS_PREFIX);
  });

  it('given the definitions and ACCEPTABLE_LAG_MS for one projection, then /admin/projections and /metrics show each lag beside what it accepts', async () => {
    const t = await startTestApp(
      { ...shared, ADMIN_TOKEN, ACCEPTABLE_LAG_MS: 'daily-revenue=1234' },
      { keepData: true },
    );
    try {
      const rows = (await (await t.http('/admin/projections', { headers: admin })).json()) as Row[];
      const accepts = Object.fromEntries(rows.map((r) => [r.name, r.acceptableLagMs]));
      expect(accepts).toEqual({
        'order-view': 2000, // its definition
        'customer-orders': 2000,
        'orders-index': 5000,
        'daily-revenue': 1234, // ACCEPTABLE_LAG_MS over its definition's 60 s
      });
      expect(rows.every((r) => r.overAcceptableLag === false)).toBe(true);

      const metrics = await (await t.http('/metrics')).text();
      expect(metrics).toMatch(/^sluice_projection_acceptable_lag_ms\{projection="order-view"\} 2000$/m);
      expect(metrics).toMatch(/^sluice_projection_acceptable_lag_ms\{projection="daily-revenue"\} 1234$/m);
      expect(metrics).toMatch(/^sluice_projection_lag_ms\{projection="order-view"\} \d+$/m);
      expect(
        ((await (await t.http('/ready')).json()) as { components: { lag: { status: string } } }).components
          .lag.status,
      ).toBe('up');
    } finally {
      await t.stop();
    }
  });

  it('given a projection behind by more than it accepts, then /ready names it with its lag and stays 200', async () => {
    // One process projects an order, then only an API runs (no projectors) and appends another.
    const writer = await startTestApp({ ...shared }, { keepData: true });
    try {
      const { orderId } = await placeOrder(writer);
      await (await writer.http(`/orders/${orderId}?minVersion=0`)).arrayBuffer();
    } finally {
      await writer.stop();
    }
    await new Promise((r) => setTimeout(r, 300));
    const api = await startTestApp(
      { ...shared, ROLE: 'api', ADMIN_TOKEN, ACCEPTABLE_LAG_MS: 'order-view=100' },
      { keepData: true },
    );
    try {
      await placeOrder(api);
      const ready = await api.http('/ready');
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as {
        status: string;
        components: Record<string, { status: string; error?: string }>;
      };
      expect(body.status).toBe('ready');
      expect(body.components.lag?.status).toBe('degraded');
      expect(body.components.lag?.error).toMatch(/^order-view is \d+ ms behind \(accepts 100 ms\)/);
      expect(body.components.lag?.error).not.toMatch(/daily-revenue/); // it accepts a minute

      const rows = (await (await api.http('/admin/projections', { headers: admin })).json()) as Row[];
      const orderView = rows.find((r) => r.name === 'order-view')!;
      expect(orderView.overAcceptableLag).toBe(true);
      expect(orderView.lagMs).toBeGreaterThan(100);
    } finally {
      await api.stop();
    }
  });

  it('given ACCEPTABLE_LAG_MS naming no projection, then start-up stops with one line naming it and the known ones', async () => {
    await expect(startTestApp({ ACCEPTABLE_LAG_MS: 'order-veiw=100' })).rejects.toThrow(ConfigError);
    await expect(startTestApp({ ACCEPTABLE_LAG_MS: 'order-veiw=100' })).rejects.toThrow(
      /^invalid ACCEPTABLE_LAG_MS: no projection is named order-veiw \(there are order-view, /,
    );
  });
});

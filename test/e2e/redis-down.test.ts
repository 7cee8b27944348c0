import { afterEach, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import { eventually } from '../support/projector-harness';

interface Placed {
  orderId: string;
  version: number;
  position: string;
}

interface Day {
  placed: number;
  cancelled: number;
  shipped: number;
  revenue: number;
}

const today = () => new Date().toISOString().slice(0, 10);
// Two days, so a run across midnight (UTC) still sees every order.
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const totals = (days: Day[]) =>
  days.reduce(
    (sum, d) => ({
      placed: sum.placed + d.placed,
      cancelled: sum.cancelled + d.cancelled,
      shipped: sum.shipped + d.shipped,
      revenue: Math.round((sum.revenue + d.revenue) * 100) / 100,
    }),
    { placed: 0, cancelled: 0, shipped: 0, revenue: 0 },
  );

/**
 * The service in this process against a redis-server of its own, which the tests stop and start again on
 * the same port. Two recoveries: with an append-only file the read model survives and the projectors
 * resume from their checkpoints; without one Redis comes back empty and the projectors rebuild it.
 */
describe.each([
  { survives: true, label: 'with its append-only file (resume from the checkpoints)' },
  { survives: false, label: 'empty (rebuild from the event store)' },
])('Redis down and back $label', ({ survives }) => {
  let redisServer: PrivateRedis;
  let t: TestApp;
  afterEach(async () => {
    await redisServer.start(); // so stop() can clean its keys
    await t.stop();
    await redisServer.dispose();
  });

  const place = async (customerId: string): Promise<Placed> => {
    const res = await t.http('/orders', json(validOrder({ customerId })));
    expect(res.status).toBe(201);
    return (await res.json()) as Placed;
  };
  const command = async (orderId: string, path: string, method = 'POST', body: unknown = {}) => {
    const res = await t.http(`/orders/${orderId}${path}`, { ...json(body), method });
    expect(res.status).toBe(200);
    return (await res.json()) as Placed;
  };

  it('given Redis stops, then queries answer 503 problem+json with Retry-After and commands keep succeeding; when Redis is back, then every order written meanwhile becomes readable', async () => {
    redisServer = await startPrivateRedis({ appendOnly: survives });
    t = await startTestApp({}, { redisUrl: redisServer.url });
    const before = await place('c-before');
    expect((await t.http(`/orders/${before.orderId}?minVersion=0`)).headers.get('x-consistency')).toBe(
      'fresh',
    );

    await redisServer.stop();
    for (const path of [
      `/orders/${before.orderId}`,
      '/customers/c-before/orders',
      `/reports/daily-revenue?from=${today()}&to=${today()}`,
    ]) {
      const res = await t.http(path);
      expect({ path, status: res.status }).toEqual({ path, status: 503 });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await res.json()) as { status: number }).status).toBe(503);
    }
    const whileDown = [await place('c-down'), await place('c-down'), await place('c-down')];
    await command(whileDown[0]!.orderId, '/confirm');
    const shipped = await command(whileDown[0]!.orderId, '/ship', 'POST', { trackingNumber: 'T-1' });
    const cancelled = await command(whileDown[1]!.orderId, '', 'DELETE', { reason: 'no longer needed' });
    expect((await t.http('/ready')).status).toBe(503);

    await redisServer.start();

    const read = (placed: Placed) => t.http(`/orders/${placed.orderId}?minVersion=${placed.version}`);
    const fresh = await eventually(
      () => read(shipped),
      (res) => res.status === 200 && res.headers.get('x-consistency') === 'fresh',
      { timeoutMs: 15_000, everyMs: 200, what: 'the order shipped while Redis was down to be readable' },
    );
    expect(await fresh.json()).toMatchObject({ status: 'shipped', version: 2, trackingNumber: 'T-1' });
    expect(await (await read(cancelled)).json()).toMatchObject({ status: 'cancelled', version: 1 });
    expect(await (await read(whileDown[2]!)).json()).toMatchObject({ status: 'pending', version: 0 });
    expect((await read(before)).status).toBe(200);
    const list = await t.http(`/customers/c-down/orders?minPosition=${whileDown[2]!.position}`);
    expect(list.headers.get('x-consistency')).toBe('fresh');
    const ids = ((await list.json()) as { items: Placed[] }).items.map((o) => o.orderId).sort();
    expect(ids).toEqual(whileDown.map((o) => o.orderId).sort());
    const report = await t.http(
      `/reports/daily-revenue?from=${yesterday()}&to=${today()}&minPosition=${cancelled.position}`,
    );
    expect(totals(((await report.json()) as { days: Day[] }).days)).toEqual({
      placed: 4,
      cancelled: 1,
      shipped: 1,
      revenue: 44.98, // validOrder(): 2 × 19.99 + 5.00
    });
  }, 45_000);
});

describe('Redis down when the service starts', () => {
  it('given no Redis at start-up, when the service starts, then it listens, takes orders and answers 503 to queries; when Redis comes up, then the orders become readable', async () => {
    const redisServer = await startPrivateRedis();
    await redisServer.stop();
    const startedAt = Date.now();
    const t = await startTestApp({}, { redisUrl: redisServer.url });
    try {
      expect(Date.now() - startedAt).toBeLessThan(10_000); // it does not wait for Redis
      const res = await t.http('/orders', json(validOrder({ customerId: 'c-early' })));
      expect(res.status).toBe(201);
      const placed = (await res.json()) as Placed;
      expect((await t.http(`/orders/${placed.orderId}`)).status).toBe(503);

      await redisServer.start();

      const read = await eventually(
        () => t.http(`/orders/${placed.orderId}?minVersion=0`),
        (r) => r.status === 200 && r.headers.get('x-consistency') === 'fresh',
        { timeoutMs: 15_000, everyMs: 200, what: 'the order placed before Redis was up' },
      );
      expect(await read.json()).toMatchObject({ orderId: placed.orderId, status: 'pending' });
    } finally {
      await redisServer.start();
      await t.stop();
      await redisServer.dispose();
    }
  }, 45_000);
});

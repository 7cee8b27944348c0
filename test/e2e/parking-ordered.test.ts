import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderProjections as allProjections, orders } from '../../src/orders';
import type { Projection } from '../../src/readmodel';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { readModelOf, waitCaughtUp } from '../support/order-traffic';
import { eventually } from '../support/projector-harness';

const TOKEN = 'parking-ordered-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/** The orders whose OrderConfirmed every projection refuses while the fault lasts. */
const poisoned = new Set<string>();

/** Each real projection, failing on the confirmation of a poisoned order (a bug, fixed later). */
const failingOnConfirm = (projection: Projection): Projection => ({
  ...projection,
  handlers: {
    ...projection.handlers,
    OrderConfirmed: (event: { data: { orderId: string } }, w: unknown) => {
      if (poisoned.has(event.data.orderId)) throw new Error(`cannot confirm ${event.data.orderId} yet`);
      (projection.handlers as Record<string, (e: unknown, w: unknown) => void>).OrderConfirmed?.(event, w);
    },
  } as Projection['handlers'],
});

interface Answer {
  orderId: string;
  version: number;
  position: string;
}

describe('ordered parking: once an event of an order is parked, its later events wait behind it; a replay applies them in order (in-process service, real Redis and SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      { ADMIN_TOKEN: TOKEN, CONSISTENCY_TIMEOUT_MS: '600' },
      {
        modules: [{ ...orders, projections: orders.projections.map(failingOnConfirm) }],
        leaseTtlMs: 1000,
        keepData: true,
      },
    );
  });
  afterAll(async () => t.stop());

  const command = async (path: string, body?: unknown, method = 'POST') => {
    const res = await t.http(path, { ...json(body ?? {}), method });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Answer;
  };
  const view = async (orderId: string, minVersion?: number) => {
    const res = await t.http(
      `/orders/${orderId}${minVersion === undefined ? '' : `?minVersion=${minVersion}`}`,
    );
    return {
      consistency: res.headers.get('x-consistency'),
      body: (await res.json()) as Record<string, unknown>,
    };
  };
  const listed = async (customerId: string, status: string) =>
    (
      (await (await t.http(`/customers/${customerId}/orders?status=${status}`)).json()) as { items: Answer[] }
    ).items.map((o) => o.orderId);

  it('given an order whose confirmation every projection fails on, when it is shipped and other orders go on, then its view never skips or goes back, reads for its versions are stale, and after the fix a replay makes everything equal a clean rebuild', async () => {
    const stuck = await command('/orders', validOrder({ customerId: 'c-stuck' }));
    const other = await command('/orders', validOrder({ customerId: 'c-other' }));
    poisoned.add(stuck.orderId);
    const confirmed = await command(`/orders/${stuck.orderId}/confirm`);
    const shipped = await command(`/orders/${stuck.orderId}/ship`, { trackingNumber: 'T-1' });
    const otherConfirmed = await command(`/orders/${other.orderId}/confirm`);

    // Other streams go on.
    expect(await view(other.orderId, otherConfirmed.version)).toMatchObject({
      consistency: 'fresh',
      body: { status: 'confirmed' },
    });
    // The stuck order shows its last good state, and no read for the later versions is fresh.
    const parkedNow = await eventually(
      async () =>
        (await (await t.http('/admin/projections/order-view/parked', { headers: auth })).json()) as Array<{
          error: string;
        }>,
      (entries) => entries.length === 2,
      { what: 'the confirmation and the shipment parked in order-view' },
    );
    expect(parkedNow[0]!.error).toBe(`cannot confirm ${stuck.orderId} yet`);
    expect(parkedNow[1]!.error).toMatch(/^held behind the event of order-/);
    for (const version of [confirmed.version, shipped.version]) {
      expect(await view(stuck.orderId, version)).toMatchObject({
        consistency: 'stale',
        body: { status: 'pending', version: 0 },
      });
    }
    expect(await listed('c-stuck', 'pending')).toEqual([stuck.orderId]);
    expect(await listed('c-stuck', 'shipped')).toEqual([]);

    poisoned.delete(stuck.orderId); // the fix
    for (const { name } of allProjections) {
      const res = await t.http(`/admin/projections/${name}/parked/replay`, { method: 'POST', headers: auth });
      expect(res.status).toBe(200);
      const outcome = (await res.json()) as { replayed: number; failed: number; remaining: number };
      expect({ name, ...outcome }).toEqual({ name, replayed: 2, failed: 0, remaining: 0 });
    }

    expect(await view(stuck.orderId, shipped.version)).toMatchObject({
      consistency: 'fresh',
      body: { status: 'shipped', version: 2, trackingNumber: 'T-1' },
    });
    expect(await listed('c-stuck', 'pending')).toEqual([]);
    expect(await listed('c-stuck', 'shipped')).toEqual([stuck.orderId]);

    // A clean rebuild from the store (another process, a fresh prefix) holds the same model.
    const clean = await startTestApp(
      { EVENTSTORE_URL: t.config.eventStoreUrl, ROLE: 'projector' },
      { keepData: false },
    );
    try {
      await waitCaughtUp(t.redis, clean.prefix, t.app.store);
      const withoutParking = (models: Record<string, Record<string, unknown>>) =>
        Object.fromEntries(
          Object.entries(models).map(([name, model]) => [
            name,
            Object.fromEntries(Object.entries(model).filter(([key]) => !/^_(parked|replay)/.test(key))),
          ]),
        );
      expect(withoutParking(await readModelOf(t.redis, t.prefix))).toEqual(
        withoutParking(await readModelOf(t.redis, clean.prefix)),
      );
    } finally {
      await clean.stop();
    }
  }, 60_000);
});

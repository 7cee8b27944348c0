import { expect } from 'vitest';
import { eventually } from './projector-harness';

interface Answer {
  orderId: string;
  version: number;
  position: string;
}

interface View {
  orderId: string;
  status: string;
  version: number;
  totalAmount: number;
  items: Array<{ sku: string; quantity: number; unitPrice: number }>;
  shippingAddress: { city: string };
  trackingNumber?: string;
  cancellationReason?: string;
}

const address = (city: string) => ({ line1: '1 Main Street', city, postalCode: '10115', country: 'DE' });

/**
 * Every command and query of the HTTP API against a running service, each write read back with
 * read-your-writes (`fresh` demanded), plus the admin API and the operations routes. Shared by the
 * end-to-end files of each Redis topology: the same contract must hold on one Redis, Sentinel and Cluster.
 */
export const tourTheApi = async (baseUrl: string, adminToken: string, customerId: string) => {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
  };
  const command = async (method: string, path: string, body: unknown, expected: number) => {
    const res = await call(method, path, body);
    expect({ path, status: res.status, body: res.body }).toMatchObject({ path, status: expected });
    expect(res.headers.get('etag')).toBe(`"${res.body.version}"`);
    return res.body as Answer;
  };
  const freshView = async (answer: Answer) => {
    const res = await call('GET', `/orders/${answer.orderId}?minVersion=${answer.version}`);
    expect({ status: res.status, consistency: res.headers.get('x-consistency') }).toEqual({
      status: 200,
      consistency: 'fresh',
    });
    expect(res.body.version).toBe(answer.version);
    return res.body as View;
  };

  // Commands: place, add an item, change the address, confirm, ship; another placed and cancelled.
  const placed = await command(
    'POST',
    '/orders',
    {
      customerId,
      items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 19.99 }],
      shippingAddress: address('Berlin'),
    },
    201,
  );
  expect(placed.version).toBe(0);
  expect(await freshView(placed)).toMatchObject({ status: 'pending', totalAmount: 39.98 });
  const added = await command(
    'POST',
    `/orders/${placed.orderId}/items`,
    { sku: 'SKU-2', quantity: 1, unitPrice: 5 },
    200,
  );
  expect((await freshView(added)).totalAmount).toBe(44.98);
  const moved = await command('PUT', `/orders/${placed.orderId}/shipping-address`, address('Hamburg'), 200);
  expect((await freshView(moved)).shippingAddress.city).toBe('Hamburg');
  const confirmed = await command('POST', `/orders/${placed.orderId}/confirm`, undefined, 200);
  expect((await freshView(confirmed)).status).toBe('confirmed');
  const shipped = await command('POST', `/orders/${placed.orderId}/ship`, { trackingNumber: '1Z999' }, 200);
  expect(await freshView(shipped)).toMatchObject({ status: 'shipped', trackingNumber: '1Z999', version: 4 });

  const other = await command(
    'POST',
    '/orders',
    { customerId, items: [{ sku: 'SKU-3', quantity: 3, unitPrice: 10 }], shippingAddress: address('Bonn') },
    201,
  );
  const cancelled = await command('DELETE', `/orders/${other.orderId}`, { reason: 'too late' }, 200);
  expect(await freshView(cancelled)).toMatchObject({ status: 'cancelled', cancellationReason: 'too late' });

  // The rules hold as on any Redis: If-Match, an invalid transition, an unknown order.
  expect(
    (await call('POST', `/orders/${placed.orderId}/confirm`, undefined, { 'if-match': '"0"' })).status,
  ).toBe(412);
  expect((await call('POST', `/orders/${other.orderId}/confirm`)).status).toBe(409);
  expect((await call('GET', '/orders/00000000-0000-4000-8000-000000000000')).status).toBe(404);

  // Lists and the report, each fresh at the newest position.
  const newest = cancelled.position;
  const customerOrders = await call('GET', `/customers/${customerId}/orders?minPosition=${newest}`);
  expect(customerOrders.headers.get('x-consistency')).toBe('fresh');
  expect(customerOrders.body.items.map((o: View) => o.orderId)).toEqual([other.orderId, placed.orderId]);
  const shippedOnly = await call(
    'GET',
    `/customers/${customerId}/orders?status=shipped&minPosition=${newest}`,
  );
  expect(shippedOnly.body.items.map((o: View) => o.orderId)).toEqual([placed.orderId]);
  const firstPage = await call('GET', `/customers/${customerId}/orders?limit=1&minPosition=${newest}`);
  expect(firstPage.body.items).toHaveLength(1);
  const secondPage = await call(
    'GET',
    `/customers/${customerId}/orders?limit=1&cursor=${encodeURIComponent(firstPage.body.nextCursor)}`,
  );
  expect(secondPage.body).toMatchObject({ items: [{ orderId: placed.orderId }], nextCursor: null });

  const cancelledList = await call('GET', `/orders?status=cancelled&sort=-totalAmount&minPosition=${newest}`);
  expect(cancelledList.headers.get('x-consistency')).toBe('fresh');
  expect(cancelledList.body.items.map((o: View) => o.orderId)).toContain(other.orderId);
  const byTotal = await call('GET', `/orders?sort=totalAmount&limit=100&minPosition=${newest}`);
  const totals = byTotal.body.items.map((o: View) => o.totalAmount);
  expect(totals).toEqual([...totals].sort((a: number, b: number) => a - b));

  const today = new Date().toISOString().slice(0, 10);
  const report = await call('GET', `/reports/daily-revenue?from=${today}&to=${today}&minPosition=${newest}`);
  expect(report.headers.get('x-consistency')).toBe('fresh');
  expect(report.body.days).toHaveLength(1);
  expect(report.body.days[0].shipped).toBeGreaterThanOrEqual(1);
  expect(report.body.days[0].revenue).toBeGreaterThanOrEqual(44.98);

  // Operations and the admin API.
  expect((await call('GET', '/health')).status).toBe(200);
  const ready = await call('GET', '/ready');
  expect({ status: ready.status, body: ready.body }).toMatchObject({
    status: 200,
    body: { status: 'ready' },
  });
  const metrics = await fetch(`${baseUrl}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/sluice_projection_lag_events\{projection="order-view"\} 0/);

  const auth = { authorization: `Bearer ${adminToken}` };
  const rows = await eventually(
    async () =>
      (await call('GET', '/admin/projections', undefined, auth)).body as Array<Record<string, unknown>>,
    (r) => r.every((row) => row.status === 'running' && row.lagEvents === 0),
    { what: 'every projection running with zero lag' },
  );
  expect(rows.map((r) => r.name).sort()).toEqual([
    'customer-orders',
    'daily-revenue',
    'order-view',
    'orders-index',
  ]);
  const generationBefore = rows.find((r) => r.name === 'customer-orders')!.generation as number;
  const rebuild = await call('POST', '/admin/projections/customer-orders/rebuild', undefined, auth);
  expect(rebuild.status).toBe(202);
  expect(rebuild.body.generation).toBeGreaterThan(generationBefore);
  await eventually(
    async () =>
      (await call('GET', '/admin/projections', undefined, auth)).body as Array<Record<string, unknown>>,
    (r) => r.find((row) => row.name === 'customer-orders')?.generation === rebuild.body.generation,
    { what: 'the rebuilt generation to become active', timeoutMs: 20_000 },
  );
  const afterRebuild = await call('GET', `/customers/${customerId}/orders`);
  expect(afterRebuild.body.items.map((o: View) => o.orderId)).toEqual([other.orderId, placed.orderId]);
  expect((await call('GET', '/admin/projections/order-view/parked', undefined, auth)).body).toEqual([]);
  expect((await call('POST', '/admin/projections/order-view/parked/replay', undefined, auth)).body).toEqual({
    replayed: 0,
    failed: 0,
    remaining: 0,
  });
  return { placed: shipped, cancelled };
};

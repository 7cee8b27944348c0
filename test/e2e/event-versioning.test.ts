import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp } from '../support/app';

describe('events written by the first design (OrderPlaced v1) are read as v2 everywhere', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.stop());

  const appendV1 = async (orderId: string, customerId: string) =>
    t.app.store.append(
      `order-${orderId}`,
      [
        {
          id: crypto.randomUUID(),
          type: 'OrderPlaced',
          // v1: float dollar prices, a free-form address, no currency, no total, no schemaVersion.
          data: {
            orderId,
            customerId,
            items: [
              { sku: 'OLD-1', quantity: 3, price: 0.1 },
              { sku: 'OLD-2', quantity: 1, price: 12.5 },
            ],
            address: '12 Old Road, Springfield, 12345, us',
            placedAt: '2025-06-01T12:00:00.000Z',
          },
          metadata: {},
        },
      ],
      { expectedRevision: 'no_stream' },
    );

  it('given a v1 OrderPlaced in the store, when it is projected, then the view has the v2 shape', async () => {
    const orderId = crypto.randomUUID();
    await appendV1(orderId, 'legacy-1');
    const res = await t.http(`/orders/${orderId}?minVersion=0`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-consistency')).toBe('fresh');
    expect(await res.json()).toMatchObject({
      orderId,
      customerId: 'legacy-1',
      status: 'pending',
      currency: 'USD',
      totalAmount: 12.8, // 3 × 0.10 + 12.50, in cents: 30 + 1250
      items: [
        { sku: 'OLD-1', quantity: 3, unitPrice: 0.1 },
        { sku: 'OLD-2', quantity: 1, unitPrice: 12.5 },
      ],
      shippingAddress: { line1: '12 Old Road', city: 'Springfield', postalCode: '12345', country: 'US' },
      createdAt: '2025-06-01T12:00:00.000Z',
    });
  });

  it('given a v1 OrderPlaced in the store, when commands run on it, then the aggregate sees v2 (totals in cents)', async () => {
    const orderId = crypto.randomUUID();
    await appendV1(orderId, 'legacy-2');
    const added = await t.http(
      `/orders/${orderId}/items`,
      json({ sku: 'NEW-1', quantity: 2, unitPrice: 0.2 }),
    );
    expect(added.status).toBe(200);
    const { version } = (await added.json()) as { version: number };
    expect(version).toBe(1);
    const confirmed = await t.http(`/orders/${orderId}/confirm`, {
      method: 'POST',
      headers: { 'if-match': '"1"' },
    });
    expect(confirmed.status).toBe(200);
    const view = (await (await t.http(`/orders/${orderId}?minVersion=2`)).json()) as {
      totalAmount: number;
      status: string;
    };
    expect(view).toMatchObject({ status: 'confirmed', totalAmount: 13.2 }); // 1280 + 2 × 20 cents
  });
});

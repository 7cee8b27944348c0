import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import {
  eventsOf,
  expectProblem,
  expectSuccess,
  jsonAs,
  placeOrder,
  viewAt,
  withMethod,
} from './commands.requests';

type Line = { sku: string; quantity: number; unitPrice: number };

/** What the contract says an order's lines become: the same sku at the same price adds up, else a new line. */
const linesAfter = (lines: Line[], added: Line): Line[] => {
  const same = lines.find((line) => line.sku === added.sku && line.unitPrice === added.unitPrice);
  if (!same) return [...lines, added];
  return lines.map((line) => (line === same ? { ...line, quantity: line.quantity + added.quantity } : line));
};
const totalOf = (lines: Line[]) =>
  lines.reduce((cents, l) => cents + l.quantity * Math.round(l.unitPrice * 100), 0) / 100;

describe('commands over HTTP: every success the contract promises', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.stop());

  it('given a valid order, when it is placed, then 201 with Location, ETag "0" and the answer names the appended event', async () => {
    const body = validOrder({ customerId: 'placer-1', currency: 'eur' });
    const res = await t.http('/orders', json(body));
    const answer = await expectSuccess(res, 201);
    expect(answer.orderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.version).toBe(0);
    expect(res.headers.get('location')).toBe(`/orders/${answer.orderId}`);

    const [placed, ...rest] = await eventsOf(t, answer.orderId);
    expect(rest).toEqual([]);
    expect(placed).toMatchObject({ type: 'OrderPlaced', revision: 0n, position: BigInt(answer.position) });
    expect(placed!.data).toMatchObject({
      orderId: answer.orderId,
      customerId: body.customerId,
      currency: 'EUR',
      items: body.items.map(({ sku, quantity, unitPrice }) => ({
        sku,
        quantity,
        unitPriceMinor: Math.round(unitPrice * 100),
      })),
    });
  });

  it('given a pending order, when items are added, then the same sku and price merge and another price is a new line', async () => {
    const placed = await placeOrder(t);
    let lines: Line[] = validOrder().items;
    const additions: Line[] = [
      { sku: 'SKU-1', quantity: 3, unitPrice: 19.99 }, // same sku and price as a placed line: merges
      { sku: 'SKU-1', quantity: 1, unitPrice: 18.5 }, // same sku, other price: a new line
      { sku: 'SKU-9', quantity: 4, unitPrice: 0.05 }, // a new sku
    ];
    let version = placed.version;
    for (const added of additions) {
      const answer = await expectSuccess(await t.http(`/orders/${placed.orderId}/items`, json(added)), 200);
      expect(answer).toMatchObject({ orderId: placed.orderId, version: version + 1 });
      version = answer.version;
      lines = linesAfter(lines, added);
    }

    const view = await viewAt(t, placed.orderId, version);
    expect(view.version).toBe(version);
    expect(view.items).toEqual(lines);
    expect(view.totalAmount).toBe(totalOf(lines));
    expect((await eventsOf(t, placed.orderId)).map((e) => e.type)).toEqual([
      'OrderPlaced',
      ...additions.map(() => 'OrderItemAdded'),
    ]);
  });

  it('given a pending, then a confirmed, then a shipped order, when the address is changed, then 200, 200 and 409', async () => {
    const placed = await placeOrder(t);
    const path = `/orders/${placed.orderId}/shipping-address`;
    const first = {
      line1: '2 Side Street',
      line2: 'Flat 3',
      city: 'Paris',
      postalCode: '75001',
      country: 'fr',
    };
    const whilePending = await expectSuccess(await t.http(path, jsonAs('PUT', first)), 200);
    expect(whilePending.version).toBe(1);
    expect((await viewAt(t, placed.orderId, 1)).shippingAddress).toEqual({ ...first, country: 'FR' });

    await expectSuccess(await t.http(`/orders/${placed.orderId}/confirm`, { method: 'POST' }), 200);
    const second = { line1: '9 Quay', city: 'Lyon', postalCode: '69001', country: 'FR' };
    const whileConfirmed = await expectSuccess(await t.http(path, jsonAs('PUT', second)), 200);
    expect(whileConfirmed.version).toBe(3);
    expect((await viewAt(t, placed.orderId, 3)).shippingAddress).toEqual(second);

    await expectSuccess(await t.http(`/orders/${placed.orderId}/ship`, { method: 'POST' }), 200);
    const problem = await expectProblem(await t.http(path, jsonAs('PUT', first)), 409);
    expect(problem.type).toMatch(/\/invalid-transition$/);
    expect(problem.detail).toContain('shipped');
    expect(await eventsOf(t, placed.orderId)).toHaveLength(5);
  });

  it('given pending orders, when confirmed and shipped with and without a tracking number, then each step is 200 and the view says so', async () => {
    for (const shipBody of [{ trackingNumber: '1Z999AA10123456784' }, undefined]) {
      const placed = await placeOrder(t);
      const confirmed = await expectSuccess(
        await t.http(`/orders/${placed.orderId}/confirm`, { method: 'POST' }),
        200,
      );
      expect(confirmed.version).toBe(1);
      expect((await viewAt(t, placed.orderId, 1)).status).toBe('confirmed');

      const init = shipBody === undefined ? { method: 'POST' } : json(shipBody);
      const shipped = await expectSuccess(await t.http(`/orders/${placed.orderId}/ship`, init), 200);
      expect(shipped.version).toBe(2);
      const view = await viewAt(t, placed.orderId, 2);
      expect(view.status).toBe('shipped');
      expect(view.trackingNumber).toBe(shipBody?.trackingNumber);
    }
  });

  it('given pending and confirmed orders, when cancelled with a reason, an empty body, or no body and no content-type, then 200 each time', async () => {
    const reason = 'the customer changed their mind';
    const cancellations: Array<{ init: RequestInit; reason?: string; confirmFirst: boolean }> = [
      { init: jsonAs('DELETE', { reason }), reason, confirmFirst: false },
      {
        init: withMethod('DELETE', { headers: { 'content-type': 'application/json' }, body: '' }),
        confirmFirst: true,
      },
      { init: { method: 'DELETE' }, confirmFirst: false },
    ];
    for (const { init, reason: expectedReason, confirmFirst } of cancellations) {
      const placed = await placeOrder(t);
      if (confirmFirst)
        await expectSuccess(await t.http(`/orders/${placed.orderId}/confirm`, { method: 'POST' }), 200);
      const cancelled = await expectSuccess(await t.http(`/orders/${placed.orderId}`, init), 200);
      const expectedVersion = confirmFirst ? 2 : 1;
      expect(cancelled).toMatchObject({ orderId: placed.orderId, version: expectedVersion });
      const view = await viewAt(t, placed.orderId, expectedVersion);
      expect(view.status).toBe('cancelled');
      expect(view.cancellationReason).toBe(expectedReason);
      const events = await eventsOf(t, placed.orderId);
      expect(events.at(-1)).toMatchObject({ type: 'OrderCancelled', position: BigInt(cancelled.position) });
    }
  });

  it('given an X-Correlation-Id, when commands run, then it is echoed and every event keeps it with its commandId and causationId', async () => {
    const correlationId = `checkout-${crypto.randomUUID()}`;
    const headers = { 'x-correlation-id': correlationId };
    const placeRes = await t.http('/orders', json(validOrder(), headers));
    expect(placeRes.headers.get('x-correlation-id')).toBe(correlationId);
    const { orderId } = await expectSuccess(placeRes, 201);
    const addRes = await t.http(
      `/orders/${orderId}/items`,
      json({ sku: 'X', quantity: 1, unitPrice: 1 }, headers),
    );
    expect(addRes.headers.get('x-correlation-id')).toBe(correlationId);
    await expectSuccess(addRes, 200);

    const events = await eventsOf(t, orderId);
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event.metadata).toMatchObject({
        correlationId,
        commandId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      // An event is caused by the command that appended it.
      expect(event.metadata.causationId).toBe(event.metadata.commandId);
    }
    expect(events[0]!.metadata.commandId).not.toBe(events[1]!.metadata.commandId);
  });

  it('given no X-Correlation-Id, when a command runs, then one is generated, echoed and stored in its event', async () => {
    const res = await t.http('/orders', json(validOrder()));
    const generated = res.headers.get('x-correlation-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const { orderId } = await expectSuccess(res, 201);
    const [event] = await eventsOf(t, orderId);
    expect(event!.metadata.correlationId).toBe(generated);
  });
});

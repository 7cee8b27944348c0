import { describe, expect, it } from 'vitest';
import { orderView } from '../../src/orders';
import { anAddress, anOrder, writesOf } from '../support/order-events';

const order = () =>
  anOrder({
    orderId: 'o-1',
    customerId: 'c-1',
    placedAt: '2024-03-01T10:00:00.000Z',
    items: [{ sku: 'sku-1', quantity: 2, unitPriceCents: 1999 }],
  });

describe('order-view projection', () => {
  it('writes the whole view when an order is placed', () => {
    const writes = writesOf(orderView, order().placed());
    expect(writes).toEqual([
      {
        command: 'HSET',
        key: 'order:o-1',
        args: [
          ...['orderId', 'o-1', 'customerId', 'c-1', 'status', 'pending'],
          ...['items', JSON.stringify([{ sku: 'sku-1', quantity: 2, unitPrice: 19.99 }])],
          ...['totalCents', '3998', 'currency', 'USD', 'shippingAddress', JSON.stringify(anAddress())],
          ...[
            'createdAt',
            '2024-03-01T10:00:00.000Z',
            'updatedAt',
            '2024-03-01T10:00:00.000Z',
            'version',
            '0',
          ],
        ],
      },
    ]);
  });

  it('replaces items and total when an item is added', () => {
    const o = order();
    const [, added] = writesOf(
      orderView,
      o.placed(),
      o.itemAdded({ sku: 'sku-2', quantity: 1, unitPriceCents: 5 }, '2024-03-01T11:00:00.000Z'),
    );
    const items = [
      { sku: 'sku-1', quantity: 2, unitPrice: 19.99 },
      { sku: 'sku-2', quantity: 1, unitPrice: 0.05 },
    ];
    expect(added).toEqual({
      command: 'HSET',
      key: 'order:o-1',
      args: [
        ...['items', JSON.stringify(items), 'totalCents', '4003'],
        ...['updatedAt', '2024-03-01T11:00:00.000Z', 'version', '1'],
      ],
    });
  });

  it('records the new address', () => {
    const o = order();
    const address = anAddress({ city: 'Shelbyville', line2: 'Apt 2' });
    const [, changed] = writesOf(
      orderView,
      o.placed(),
      o.addressChanged(address, '2024-03-02T00:00:00.000Z'),
    );
    expect(changed?.args).toEqual([
      ...['shippingAddress', JSON.stringify(address)],
      ...['updatedAt', '2024-03-02T00:00:00.000Z', 'version', '1'],
    ]);
  });

  it('moves the status through confirmed and shipped, keeping the tracking number', () => {
    const o = order();
    const writes = writesOf(
      orderView,
      o.placed(),
      o.confirmed('2024-03-02T00:00:00.000Z'),
      o.shipped('2024-03-03T00:00:00.000Z', 'TRACK-1'),
    );
    expect(writes.slice(1).map((w) => w.args)).toEqual([
      ['status', 'confirmed', 'updatedAt', '2024-03-02T00:00:00.000Z', 'version', '1'],
      [
        'status',
        'shipped',
        'trackingNumber',
        'TRACK-1',
        'updatedAt',
        '2024-03-03T00:00:00.000Z',
        'version',
        '2',
      ],
    ]);
  });

  it('writes no tracking number when the shipment has none', () => {
    const o = order();
    const [, , shipped] = writesOf(
      orderView,
      o.placed(),
      o.confirmed('2024-03-02T00:00:00Z'),
      o.shipped('2024-03-03T00:00:00Z'),
    );
    expect(shipped?.args).not.toContain('trackingNumber');
  });

  it('records a cancellation with its reason', () => {
    const o = order();
    const [, cancelled] = writesOf(
      orderView,
      o.placed(),
      o.cancelled('2024-03-02T00:00:00.000Z', 'changed my mind'),
    );
    expect(cancelled?.args).toEqual([
      ...['status', 'cancelled', 'cancellationReason', 'changed my mind'],
      ...['updatedAt', '2024-03-02T00:00:00.000Z', 'version', '1'],
    ]);
  });
});

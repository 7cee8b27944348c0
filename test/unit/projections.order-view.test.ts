import { describe, expect, it } from 'vitest';
import { orderView, toOrderView } from '../../src/orders';
import { anAddress, anOrder, writesOf } from '../support/order-events';

const order = () =>
  anOrder({
    orderId: 'o-1',
    customerId: 'c-1',
    placedAt: '2024-03-01T10:00:00.000Z',
    items: [{ sku: 'sku-1', quantity: 2, unitPriceMinor: 1999 }],
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
          ...[
            'totalMinor',
            '3998',
            'minorUnits',
            '2',
            'currency',
            'USD',
            'shippingAddress',
            JSON.stringify(anAddress()),
          ],
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
      o.itemAdded({ sku: 'sku-2', quantity: 1, unitPriceMinor: 5 }, '2024-03-01T11:00:00.000Z'),
    );
    const items = [
      { sku: 'sku-1', quantity: 2, unitPrice: 19.99 },
      { sku: 'sku-2', quantity: 1, unitPrice: 0.05 },
    ];
    expect(added).toEqual({
      command: 'HSET',
      key: 'order:o-1',
      args: [
        ...['items', JSON.stringify(items), 'totalMinor', '4003'],
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

describe('reading a stored view', () => {
  const stored = {
    orderId: 'o-1',
    customerId: 'c-1',
    status: 'pending',
    items: JSON.stringify([{ sku: 'a', quantity: 2, unitPrice: 1.234 }]),
    currency: 'KWD',
    shippingAddress: JSON.stringify(anAddress()),
    createdAt: '2024-03-01T10:00:00.000Z',
    updatedAt: '2024-03-01T10:00:00.000Z',
    version: '0',
  };

  it('turns the total in minor units into a decimal with the order’s decimals', () => {
    expect(toOrderView({ ...stored, totalMinor: '2468', minorUnits: '3' })?.totalAmount).toBe(2.468);
    expect(
      toOrderView({ ...stored, currency: 'JPY', totalMinor: '1500', minorUnits: '0' })?.totalAmount,
    ).toBe(1500);
  });

  it('reads a view written by the previous version (totalCents) while the new generation is rebuilt', () => {
    expect(toOrderView({ ...stored, totalCents: '4498' })?.totalAmount).toBe(44.98);
  });

  it('answers null while the total is not there yet', () => {
    expect(toOrderView(stored)).toBeNull();
  });
});

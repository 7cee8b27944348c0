import { describe, expect, it } from 'vitest';
import { dailyRevenue } from '../../src/orders';
import { anOrder, writesOf } from '../support/order-events';

const hincrby = (date: string, field: string, by: number) => ({
  command: 'HINCRBY',
  key: `day:${date}`,
  args: [field, String(by)],
});

describe('daily-revenue projection', () => {
  it('counts a placed order on its UTC day', () => {
    const placed = anOrder({ orderId: 'o-1', placedAt: '2024-03-01T23:30:00-02:00' }).placed();
    expect(writesOf(dailyRevenue, placed)).toEqual([hincrby('2024-03-02', 'placed', 1)]);
  });

  it('books revenue on the day the order ships, at its total then', () => {
    const o = anOrder({ orderId: 'o-1', placedAt: '2024-03-01T10:00:00Z' });
    const writes = writesOf(
      dailyRevenue,
      o.placed(),
      o.itemAdded({ sku: 'b', quantity: 2, unitPriceCents: 1250 }, '2024-03-01T11:00:00Z'),
      o.confirmed('2024-03-02T09:00:00Z'),
      o.shipped('2024-03-04T08:00:00Z', 'T-1'),
    );
    expect(writes).toEqual([
      hincrby('2024-03-01', 'placed', 1),
      hincrby('2024-03-04', 'shipped', 1),
      hincrby('2024-03-04', 'revenueCents', 3500),
    ]);
  });

  it('counts a cancellation on the day it happened, without revenue', () => {
    const o = anOrder({ orderId: 'o-1', placedAt: '2024-03-01T10:00:00Z' });
    o.placed();
    expect(writesOf(dailyRevenue, o.cancelled('2024-03-05T00:00:00Z', 'late'))).toEqual([
      hincrby('2024-03-05', 'cancelled', 1),
    ]);
  });

  it('ignores items, address and confirmation', () => {
    const o = anOrder({ orderId: 'o-1' });
    o.placed();
    const events = [
      o.itemAdded({ sku: 'b', quantity: 1, unitPriceCents: 1 }, '2024-03-01T11:00:00Z'),
      o.addressChanged({ line1: 'x', city: 'y', postalCode: 'z', country: 'DE' }, '2024-03-01T12:00:00Z'),
      o.confirmed('2024-03-01T13:00:00Z'),
    ];
    expect(writesOf(dailyRevenue, ...events)).toEqual([]);
  });
});

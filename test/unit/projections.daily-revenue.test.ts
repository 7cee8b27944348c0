import { describe, expect, it } from 'vitest';
import { dailyRevenue, revenueOf } from '../../src/orders';
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
      o.itemAdded({ sku: 'b', quantity: 2, unitPriceMinor: 1250 }, '2024-03-01T11:00:00Z'),
      o.confirmed('2024-03-02T09:00:00Z'),
      o.shipped('2024-03-04T08:00:00Z', 'T-1'),
    );
    expect(writes).toEqual([
      hincrby('2024-03-01', 'placed', 1),
      hincrby('2024-03-04', 'shipped', 1),
      hincrby('2024-03-04', 'revenue:2', 3500),
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
      o.itemAdded({ sku: 'b', quantity: 1, unitPriceMinor: 1 }, '2024-03-01T11:00:00Z'),
      o.addressChanged({ line1: 'x', city: 'y', postalCode: 'z', country: 'DE' }, '2024-03-01T12:00:00Z'),
      o.confirmed('2024-03-01T13:00:00Z'),
    ];
    expect(writesOf(dailyRevenue, ...events)).toEqual([]);
  });

  it('sums revenue per number of decimals, so yen and dinars each stay in their own minor unit', () => {
    const yen = anOrder({
      orderId: 'o-y',
      currency: 'JPY',
      minorUnits: 0,
      items: [{ sku: 'a', quantity: 2, unitPriceMinor: 1500 }],
    });
    const dinar = anOrder({
      orderId: 'o-k',
      currency: 'KWD',
      minorUnits: 3,
      items: [{ sku: 'a', quantity: 1, unitPriceMinor: 1234 }],
    });
    yen.placed();
    dinar.placed();
    expect(
      writesOf(dailyRevenue, yen.shipped('2024-03-04T08:00:00Z'), dinar.shipped('2024-03-04T09:00:00Z')),
    ).toEqual([
      hincrby('2024-03-04', 'shipped', 1),
      hincrby('2024-03-04', 'revenue:0', 3000),
      hincrby('2024-03-04', 'shipped', 1),
      hincrby('2024-03-04', 'revenue:3', 1234),
    ]);
  });
});

describe("reading a day's revenue", () => {
  it('adds the sums of each number of decimals exactly, at the largest', () => {
    expect(
      revenueOf({ shipped: '3', 'revenue:0': '3000', 'revenue:2': '1999', 'revenue:3': '1234' }),
    ).toEqual({
      revenue: 3021.224,
      revenueDecimal: '3021.224',
    });
  });

  it('keeps every unit past 2^53 in the decimal string', () => {
    const huge = (2n ** 53n + 1n).toString(); // 9007199254740993 hundredths
    expect(revenueOf({ 'revenue:2': huge, 'revenue:0': '1' }).revenueDecimal).toBe('90071992547410.93');
  });

  it('reads a generation built by the previous version (revenueCents, hundredths) while the new one is rebuilt', () => {
    expect(revenueOf({ placed: '1', revenueCents: '4498' })).toEqual({
      revenue: 44.98,
      revenueDecimal: '44.98',
    });
  });

  it('answers zero for a day without shipments', () => {
    expect(revenueOf({ placed: '2' })).toEqual({ revenue: 0, revenueDecimal: '0.00' });
  });
});

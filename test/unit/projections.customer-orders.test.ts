import { describe, expect, it } from 'vitest';
import { customerOrders } from '../../src/orders';
import { anOrder, writesOf } from '../support/order-events';

const placedAt = '2024-03-01T10:00:00.000Z';
const score = String(Date.parse(placedAt));
const order = () => anOrder({ orderId: 'o-1', customerId: 'c-1', placedAt });

const zadd = (key: string) => ({ command: 'ZADD', key, args: [score, 'o-1'] });
const zrem = (key: string) => ({ command: 'ZREM', key, args: ['o-1'] });

describe('customer-orders projection', () => {
  it('lists a placed order under the customer and under pending, scored by createdAt', () => {
    expect(writesOf(customerOrders, order().placed())).toEqual([
      zadd('customer:c-1'),
      zadd('customer:c-1:pending'),
    ]);
  });

  it('moves a confirmed order from pending to confirmed and leaves the full list alone', () => {
    const o = order();
    o.placed();
    const moved = writesOf(customerOrders, o.confirmed('2024-03-02T00:00:00Z'));
    expect(moved).toEqual([
      zrem('customer:c-1:pending'),
      zrem('customer:c-1:shipped'),
      zrem('customer:c-1:cancelled'),
      zadd('customer:c-1:confirmed'),
    ]);
  });

  it('moves a shipped order into shipped, out of every other status', () => {
    const o = order();
    o.placed();
    o.confirmed('2024-03-02T00:00:00Z');
    expect(writesOf(customerOrders, o.shipped('2024-03-03T00:00:00Z'))).toEqual([
      zrem('customer:c-1:pending'),
      zrem('customer:c-1:confirmed'),
      zrem('customer:c-1:cancelled'),
      zadd('customer:c-1:shipped'),
    ]);
  });

  it('moves a cancelled order into cancelled, keeping its createdAt score', () => {
    const o = order();
    o.placed();
    const writes = writesOf(customerOrders, o.cancelled('2024-04-01T00:00:00Z', 'no'));
    expect(writes.at(-1)).toEqual(zadd('customer:c-1:cancelled'));
    expect(writes.filter((w) => w.command === 'ZREM').map((w) => w.key)).toContain('customer:c-1:pending');
  });

  it('ignores events that do not change the lists', () => {
    const o = order();
    o.placed();
    const added = o.itemAdded({ sku: 'x', quantity: 1, unitPriceMinor: 1 }, '2024-03-01T11:00:00Z');
    expect(writesOf(customerOrders, added)).toEqual([]);
  });

  it('refuses an event whose time is not a time, so it is parked instead of breaking the batch', () => {
    const placed = anOrder({ orderId: 'o-1', placedAt: 'yesterday' }).placed();
    expect(() => writesOf(customerOrders, placed)).toThrow(/ISO 8601/);
  });
});

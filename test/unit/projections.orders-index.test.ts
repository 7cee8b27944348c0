import { describe, expect, it } from 'vitest';
import { ordersIndex } from '../../src/orders';
import { anOrder, writesOf } from '../support/order-events';

const placedAt = '2024-03-01T10:00:00.000Z';
const createdScore = String(Date.parse(placedAt));
const order = () =>
  anOrder({ orderId: 'o-1', placedAt, items: [{ sku: 'a', quantity: 3, unitPriceMinor: 250 }] });

const zadd = (key: string, score: string) => ({ command: 'ZADD', key, args: [score, 'o-1'] });

describe('orders-index projection', () => {
  it('indexes a placed order by createdAt and by total, in all and in pending', () => {
    expect(writesOf(ordersIndex, order().placed())).toEqual([
      zadd('created:all', createdScore),
      zadd('total:all', '7.5'),
      zadd('created:pending', createdScore),
      zadd('total:pending', '7.5'),
    ]);
  });

  it('rescores the total lists when an item is added', () => {
    const o = order();
    o.placed();
    const added = o.itemAdded({ sku: 'b', quantity: 2, unitPriceMinor: 125 }, '2024-03-01T11:00:00Z');
    expect(writesOf(ordersIndex, added)).toEqual([zadd('total:all', '10'), zadd('total:pending', '10')]);
  });

  it('moves a status change between status lists with the current total', () => {
    const o = order();
    o.placed();
    o.itemAdded({ sku: 'b', quantity: 1, unitPriceMinor: 50 }, '2024-03-01T11:00:00Z');
    const writes = writesOf(ordersIndex, o.confirmed('2024-03-02T00:00:00Z'));
    const removedFrom = writes.filter((w) => w.command === 'ZREM').map((w) => w.key);
    expect(removedFrom.sort()).toEqual(
      [
        'created:pending',
        'total:pending',
        'created:shipped',
        'total:shipped',
        'created:cancelled',
        'total:cancelled',
      ].sort(),
    );
    expect(writes.filter((w) => w.command === 'ZADD')).toEqual([
      zadd('created:confirmed', createdScore),
      zadd('total:confirmed', '8'),
    ]);
  });

  it('takes a cancelled order out of every other status and keeps it in all', () => {
    const o = order();
    o.placed();
    o.confirmed('2024-03-02T00:00:00Z');
    const writes = writesOf(ordersIndex, o.cancelled('2024-03-03T00:00:00Z'));
    expect(writes.some((w) => w.key.endsWith(':all'))).toBe(false);
    expect(writes.filter((w) => w.command === 'ZREM').map((w) => w.key)).toContain('total:confirmed');
    expect(writes.filter((w) => w.command === 'ZADD').map((w) => w.key)).toEqual([
      'created:cancelled',
      'total:cancelled',
    ]);
  });

  it('moves a shipped order into shipped', () => {
    const o = order();
    o.placed();
    o.confirmed('2024-03-02T00:00:00Z');
    const writes = writesOf(ordersIndex, o.shipped('2024-03-03T00:00:00Z'));
    expect(writes.filter((w) => w.command === 'ZADD').map((w) => w.key)).toEqual([
      'created:shipped',
      'total:shipped',
    ]);
    expect(writes.filter((w) => w.command === 'ZREM').map((w) => w.key)).toContain('created:confirmed');
  });

  it('ignores an address change', () => {
    const o = order();
    o.placed();
    expect(
      writesOf(
        ordersIndex,
        o.addressChanged({ line1: 'x', city: 'y', postalCode: 'z', country: 'DE' }, placedAt),
      ),
    ).toEqual([]);
  });
});

describe('orders-index scores across currencies', () => {
  it('scores the total as a decimal amount, so yen, dollars and dinars compare at face value', () => {
    const yen = anOrder({
      orderId: 'o-1',
      placedAt,
      currency: 'JPY',
      minorUnits: 0,
      items: [{ sku: 'a', quantity: 1, unitPriceMinor: 1500 }],
    });
    const dinar = anOrder({
      orderId: 'o-1',
      placedAt,
      currency: 'KWD',
      minorUnits: 3,
      items: [{ sku: 'a', quantity: 1, unitPriceMinor: 1234 }],
    });
    expect(writesOf(ordersIndex, yen.placed())).toContainEqual(zadd('total:all', '1500'));
    expect(writesOf(ordersIndex, dinar.placed())).toContainEqual(zadd('total:all', '1.234'));
  });
});

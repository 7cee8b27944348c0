import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationFailed } from '../../src/cqrs/errors';
import { orderProjections as allProjections } from '../../src/orders';
import type { OrderStatus } from '../../src/orders/events';
import {
  getOrderView,
  listCustomerOrders,
  listOrders,
  type OrderSort,
  readDailyRevenue,
} from '../../src/orders/queries';
import type { OrderPage } from '../../src/orders/views';
import type { ReadContext } from '../../src/readmodel';
import { generationPrefix, recordWrites } from '../../src/readmodel/projection';
import { applyWrites } from '../support/apply-writes';
import { anOrder, type ProjectedOrderEvent } from '../support/order-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';

const prefix = uniqueRedisPrefix('queries');
const redis = createClient({ url: TEST_REDIS_URL });
const keyspaceOf = (projection: string) => (rel: string) => generationPrefix(prefix, projection, 1) + rel;
const ctx: ReadContext = { projection: async (name) => ({ keyOf: keyspaceOf(name), redis }) };

/** What the test expects of each order once its events are applied. */
interface OrderSpec {
  orderId: string;
  customerId: string;
  placedAt: string;
  totalMinor: number;
  status: OrderStatus;
}

const customers = ['c-alice', 'c-bob', 'c-carol'];
const fates: OrderStatus[] = ['pending', 'confirmed', 'shipped', 'cancelled', 'pending'];
// Few distinct times and prices, so most scores tie with others.
const placedTimes = ['2024-03-01T09:00:00.000Z', '2024-03-01T17:30:00.000Z', '2024-03-03T08:15:00.000Z'];
const prices = [1000, 2500, 1000, 499];

/** 30 orders: every customer, status, tie of createdAt and of total; some with an added item. */
const scenario = (): { specs: OrderSpec[]; events: ProjectedOrderEvent[] } => {
  const specs: OrderSpec[] = [];
  const events: ProjectedOrderEvent[] = [];
  for (let i = 0; i < 30; i++) {
    const spec: OrderSpec = {
      orderId: randomUUID(),
      customerId: customers[i % 3]!,
      placedAt: placedTimes[i % 3 === 0 ? 0 : i % 2 === 0 ? 1 : 2]!,
      totalMinor: prices[i % 4]!,
      status: fates[i % 5]!,
    };
    const o = anOrder({ ...spec, items: [{ sku: 'sku-a', quantity: 1, unitPriceMinor: spec.totalMinor }] });
    events.push(o.placed());
    if (i % 7 === 3) {
      events.push(
        o.itemAdded({ sku: 'sku-b', quantity: 2, unitPriceMinor: 250 }, '2024-03-03T09:00:00.000Z'),
      );
      spec.totalMinor += 500;
    }
    if (spec.status === 'confirmed' || spec.status === 'shipped')
      events.push(o.confirmed('2024-03-03T10:00:00Z'));
    if (spec.status === 'shipped') events.push(o.shipped('2024-03-05T12:00:00.000Z', `TRACK-${i}`));
    if (spec.status === 'cancelled') events.push(o.cancelled('2024-03-03T11:00:00.000Z', `reason ${i}`));
    specs.push(spec);
  }
  return { specs, events };
};

const project = async (events: ProjectedOrderEvent[], projections = allProjections) => {
  for (const event of events) {
    for (const projection of projections) {
      await applyWrites(redis, keyspaceOf(projection.name), recordWrites(projection, event).writes);
    }
  }
};

const { specs, events } = scenario();

/** Redis order of a sorted set: score, then member bytes (UUIDs are ASCII). */
const expectedIds = (sort: OrderSort, filter: (s: OrderSpec) => boolean = () => true): string[] => {
  const score = (s: OrderSpec) => (sort.endsWith('createdAt') ? Date.parse(s.placedAt) : s.totalMinor);
  const ascending = specs
    .filter(filter)
    .sort((a, b) => score(a) - score(b) || (a.orderId < b.orderId ? -1 : 1))
    .map((s) => s.orderId);
  return sort.startsWith('-') ? ascending.reverse() : ascending;
};

/** Follows nextCursor to the end, checking every page's size. */
const pageThrough = async (limit: number, readPage: (cursor?: string) => Promise<OrderPage>) => {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await readPage(cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((view) => view.orderId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
};

beforeAll(async () => {
  await redis.connect();
  await project(events);
});

afterAll(async () => {
  redis.destroy();
  await deleteKeysWithPrefix(prefix);
});

describe('getOrderView', () => {
  it('answers the view of a shipped order, with its tracking number and version', async () => {
    const shipped = specs.find((s) => s.status === 'shipped')!;
    const view = await getOrderView(ctx, shipped.orderId);
    expect(view).toMatchObject({
      orderId: shipped.orderId,
      customerId: shipped.customerId,
      status: 'shipped',
      totalAmount: shipped.totalMinor / 100,
      currency: 'USD',
      shippingAddress: { line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
      createdAt: shipped.placedAt,
      updatedAt: '2024-03-05T12:00:00.000Z',
    });
    expect(view?.trackingNumber).toMatch(/^TRACK-/);
    expect(view?.cancellationReason).toBeUndefined();
    expect(view?.version).toBe(2);
  });

  it('answers the items and total after an item was added', async () => {
    const grown = specs[3]!;
    const view = await getOrderView(ctx, grown.orderId);
    expect(view?.items).toEqual([
      { sku: 'sku-a', quantity: 1, unitPrice: 4.99 },
      { sku: 'sku-b', quantity: 2, unitPrice: 2.5 },
    ]);
    expect(view?.totalAmount).toBe(9.99);
  });

  it('answers a cancelled order with its reason', async () => {
    const cancelled = specs.find((s) => s.status === 'cancelled')!;
    expect(await getOrderView(ctx, cancelled.orderId)).toMatchObject({
      status: 'cancelled',
      cancellationReason: expect.stringMatching(/^reason /),
    });
  });

  it('answers null for an unknown order', async () => {
    expect(await getOrderView(ctx, randomUUID())).toBeNull();
  });
});

describe('listCustomerOrders', () => {
  it.each(customers)('lists every order of %s newest first', async (customerId) => {
    const page = await listCustomerOrders(ctx, { customerId, limit: 100 });
    expect(page.items.map((v) => v.orderId)).toEqual(
      expectedIds('-createdAt', (s) => s.customerId === customerId),
    );
    expect(page.nextCursor).toBeNull();
  });

  it.each(fates.slice(0, 4))('filters by status %s', async (status) => {
    const page = await listCustomerOrders(ctx, { customerId: 'c-bob', status, limit: 100 });
    const expected = expectedIds('-createdAt', (s) => s.customerId === 'c-bob' && s.status === status);
    expect(page.items.map((v) => v.orderId)).toEqual(expected);
    expect(page.items.every((v) => v.status === status)).toBe(true);
  });

  it('pages through a customer with every limit, each order exactly once', async () => {
    const expected = expectedIds('-createdAt', (s) => s.customerId === 'c-alice');
    for (let limit = 1; limit <= expected.length + 1; limit++) {
      const ids = await pageThrough(limit, (cursor) =>
        listCustomerOrders(ctx, { customerId: 'c-alice', limit, cursor }),
      );
      expect(ids, `limit ${limit}`).toEqual(expected);
    }
  });

  it('answers an empty page for a customer without orders', async () => {
    expect(await listCustomerOrders(ctx, { customerId: 'c-nobody', limit: 20 })).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});

const sorts: OrderSort[] = ['createdAt', '-createdAt', 'totalAmount', '-totalAmount'];

describe('listOrders', () => {
  it.each(sorts)('sorts every order by %s, ties by id', async (sort) => {
    const page = await listOrders(ctx, { sort, limit: 100 });
    expect(page.items.map((v) => v.orderId)).toEqual(expectedIds(sort));
  });

  it.each(sorts)('filters by status when sorted by %s', async (sort) => {
    for (const status of fates.slice(0, 4)) {
      const page = await listOrders(ctx, { sort, status, limit: 100 });
      expect(page.items.map((v) => v.orderId)).toEqual(expectedIds(sort, (s) => s.status === status));
    }
  });

  it.each(sorts)('pages by %s with every limit from 1 to n+1, each order exactly once', async (sort) => {
    const expected = expectedIds(sort);
    for (let limit = 1; limit <= expected.length + 1; limit++) {
      const ids = await pageThrough(limit, (cursor) => listOrders(ctx, { sort, limit, cursor }));
      expect(ids, `limit ${limit}`).toEqual(expected);
    }
  });

  it('pages a status filter through ties', async () => {
    const expected = expectedIds('totalAmount', (s) => s.status === 'pending');
    const ids = await pageThrough(2, (cursor) =>
      listOrders(ctx, { sort: 'totalAmount', status: 'pending', limit: 2, cursor }),
    );
    expect(ids).toEqual(expected);
  });
});

describe('cursors', () => {
  const firstCursor = async (sort: OrderSort) => (await listOrders(ctx, { sort, limit: 1 })).nextCursor!;

  it('rejects a cursor that is not one', async () => {
    for (const cursor of ['garbage', Buffer.from('{"v":1}').toString('base64url'), '%%%']) {
      await expect(listOrders(ctx, { sort: 'createdAt', limit: 5, cursor })).rejects.toBeInstanceOf(
        ValidationFailed,
      );
    }
  });

  it('rejects a cursor of another sort, filter or customer', async () => {
    const cursor = await firstCursor('createdAt');
    await expect(listOrders(ctx, { sort: '-createdAt', limit: 5, cursor })).rejects.toThrow(ValidationFailed);
    await expect(listOrders(ctx, { sort: 'createdAt', status: 'pending', limit: 5, cursor })).rejects.toThrow(
      /another list/,
    );
    const alice = (await listCustomerOrders(ctx, { customerId: 'c-alice', limit: 1 })).nextCursor!;
    await expect(listCustomerOrders(ctx, { customerId: 'c-bob', limit: 5, cursor: alice })).rejects.toThrow(
      ValidationFailed,
    );
    await expect(listOrders(ctx, { sort: '-createdAt', limit: 5, cursor: alice })).rejects.toThrow(
      ValidationFailed,
    );
  });

  it('names the cursor as the bad field', async () => {
    const error = await listOrders(ctx, { sort: 'createdAt', limit: 5, cursor: 'nope' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ status: 400, errors: [{ path: 'cursor' }] });
  });
});

describe('lists skip ids whose view is not there yet', () => {
  it('answers the views it has and keeps paging', async () => {
    const withView = anOrder({
      orderId: randomUUID(),
      customerId: 'c-ghost',
      placedAt: '2024-03-02T00:00:00Z',
    });
    const withoutView = anOrder({
      orderId: randomUUID(),
      customerId: 'c-ghost',
      placedAt: '2024-03-02T01:00:00Z',
    });
    const customerOrders = allProjections.filter((p) => p.name === 'customer-orders');
    await project(
      [withView.placed()],
      allProjections.filter((p) => p.name !== 'orders-index' && p.name !== 'daily-revenue'),
    );
    await project([withoutView.placed()], customerOrders);
    const first = await listCustomerOrders(ctx, { customerId: 'c-ghost', limit: 1 });
    expect(first.items).toEqual([]);
    const second = await listCustomerOrders(ctx, {
      customerId: 'c-ghost',
      limit: 1,
      cursor: first.nextCursor!,
    });
    expect(second.items.map((v) => v.customerId)).toEqual(['c-ghost']);
    expect(second.nextCursor).toBeNull();
  });
});

describe('dailyRevenue', () => {
  it('answers every day of the range, zeros where nothing happened', async () => {
    const shipped = specs.filter((s) => s.status === 'shipped');
    const placedOn = (date: string) => specs.filter((s) => s.placedAt.startsWith(date)).length;
    const report = await readDailyRevenue(ctx, { from: '2024-02-29', to: '2024-03-06' });
    const zero = { placed: 0, cancelled: 0, shipped: 0, revenue: 0, revenueDecimal: '0.00' };
    expect(report.days).toEqual([
      { date: '2024-02-29', ...zero },
      { date: '2024-03-01', ...zero, placed: placedOn('2024-03-01') },
      { date: '2024-03-02', ...zero },
      {
        date: '2024-03-03',
        ...zero,
        placed: placedOn('2024-03-03'),
        cancelled: specs.filter((s) => s.status === 'cancelled').length,
      },
      { date: '2024-03-04', ...zero },
      {
        date: '2024-03-05',
        ...zero,
        shipped: shipped.length,
        revenue: shipped.reduce((sum, s) => sum + s.totalMinor, 0) / 100,
        revenueDecimal: (shipped.reduce((sum, s) => sum + s.totalMinor, 0) / 100).toFixed(2),
      },
      { date: '2024-03-06', ...zero },
    ]);
  });

  it('answers one day when from equals to', async () => {
    const report = await readDailyRevenue(ctx, { from: '2023-01-01', to: '2023-01-01' });
    expect(report.days).toEqual([
      { date: '2023-01-01', placed: 0, cancelled: 0, shipped: 0, revenue: 0, revenueDecimal: '0.00' },
    ]);
  });
});

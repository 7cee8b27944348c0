import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderProjections as allProjections } from '../../src/orders';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';

const TOKEN = 'rebuild-under-load-token';
const admin = { authorization: `Bearer ${TOKEN}` };
const ORDERS = 300;
const CUSTOMERS = 12;

interface Row {
  name: string;
  generation: number;
  status: string;
  checkpoint: string;
  headPosition: string;
  rebuildGeneration?: number;
}

describe('rebuilding every projection while queries keep coming (in-process service, real Redis and SQLite)', () => {
  let t: TestApp;
  const orderIds: string[] = [];
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN: TOKEN }, { leaseTtlMs: 1000, batchSize: 10 });
    for (let i = 0; i < ORDERS; i += 10) {
      const chunk = Array.from({ length: 10 }, (_, j) => placeWithLifecycle(i + j));
      orderIds.push(...(await Promise.all(chunk)));
    }
    await eventually(
      rows,
      (r) => r.every((row) => row.checkpoint === row.headPosition && row.status === 'running'),
      'every projection caught up',
    );
  }, 60_000);
  afterAll(async () => t.stop());

  const ok = async (path: string, init?: RequestInit) => {
    const res = await t.http(path, init);
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path} → ${res.status}: ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const placeWithLifecycle = async (i: number): Promise<string> => {
    const order = validOrder({
      customerId: `customer-${i % CUSTOMERS}`,
      items: [{ sku: `SKU-${i % 7}`, quantity: 1 + (i % 4), unitPrice: (100 + ((i * 37) % 500)) / 100 }],
    });
    const { orderId } = (await ok('/orders', json(order))) as { orderId: string };
    if (i % 4 === 1 || i % 4 === 2) await ok(`/orders/${orderId}/confirm`, { method: 'POST' });
    if (i % 4 === 2) await ok(`/orders/${orderId}/ship`, json({ trackingNumber: `TRACK-${i}` }));
    if (i % 4 === 3) await ok(`/orders/${orderId}`, { method: 'DELETE' });
    return orderId;
  };
  async function rows(): Promise<Row[]> {
    return (await ok('/admin/projections', { headers: admin })) as unknown as Row[];
  }

  /** Every item of a paged list, following nextCursor. */
  const allPages = async (path: string): Promise<unknown[]> => {
    const items: unknown[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = (await ok(`${path}${separator}limit=100${query}`)) as {
        items: unknown[];
        nextCursor: string | null;
      };
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  };

  /** What the API answers for everything the read models hold. */
  const answers = async () => ({
    orders: await Promise.all(orderIds.map((id) => ok(`/orders/${id}`))),
    newest: await allPages('/orders'),
    byTotal: await allPages('/orders?sort=totalAmount&status=confirmed'),
    customers: await Promise.all(
      Array.from({ length: CUSTOMERS }, (_, c) => allPages(`/customers/customer-${c}/orders`)),
    ),
    revenue: await ok('/reports/daily-revenue?from=2020-01-01&to=2020-12-31'),
    revenueToday: await ok(`/reports/daily-revenue?from=${today()}&to=${today()}`),
  });

  it('given 300 orders, when every projection is rebuilt under a loop of queries, then no query fails, every generation flips to 2, and the answers are the same', async () => {
    const before = await answers();
    expect(before.orders).toHaveLength(ORDERS);
    expect(before.newest).toHaveLength(ORDERS);

    const failures: string[] = [];
    const answeredAt: number[] = [];
    let running = true;
    const queryLoop = async (worker: number) => {
      for (let n = worker; running; n += 4) {
        const id = orderIds[(n * 7919) % orderIds.length]!;
        const paths = [
          `/orders/${id}`,
          `/customers/customer-${n % CUSTOMERS}/orders?limit=5`,
          '/orders?limit=20&sort=-totalAmount',
          `/reports/daily-revenue?from=${today()}&to=${today()}`,
        ];
        const path = paths[n % paths.length]!;
        const res = await t.http(path);
        await res.arrayBuffer();
        if (res.status !== 200) failures.push(`${path} → ${res.status}`);
        answeredAt.push(Date.now());
      }
    };
    const loops = [0, 1, 2, 3].map(queryLoop);

    const askedAt = Date.now();
    for (const { name } of allProjections) {
      const res = await t.http(`/admin/projections/${name}/rebuild`, { method: 'POST', headers: admin });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ generation: 2 });
    }
    const flipped = await eventually(
      rows,
      (r) => r.every((row) => row.generation === 2 && row.status === 'running' && !row.rebuildGeneration),
      'every projection running at generation 2',
    );
    const flippedAt = Date.now();
    // Keep querying past the unlink of generation 1 (2 s after each flip).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    running = false;
    await Promise.all(loops);

    expect(failures).toEqual([]);
    expect(answeredAt.filter((at) => at >= askedAt && at <= flippedAt).length).toBeGreaterThan(0);
    expect(answeredAt.filter((at) => at > flippedAt).length).toBeGreaterThan(20);
    expect(flipped.every((row) => row.checkpoint === row.headPosition)).toBe(true);
    expect(await answers()).toEqual(before);
    // SCAN walks the whole (shared) keyspace, so the unlink itself may take a moment after the grace.
    for (const { name } of allProjections) {
      await eventually(
        () => keysUnder(`${t.prefix}{${name}}:g1:`),
        (n) => n === 0,
        `${name} g1 unlinked`,
      );
    }
  });

  const keysUnder = async (prefix: string) => {
    let count = 0;
    for await (const batch of t.redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
      count += batch.length;
    return count;
  };
});

const today = () => new Date().toISOString().slice(0, 10);

async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached in 15 s; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

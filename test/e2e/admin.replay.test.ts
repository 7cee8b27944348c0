import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineModule } from '../../src/module';
import { orders } from '../../src/orders';
import { defineProjection, type Projection } from '../../src/readmodel';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';

const TOKEN = 'admin-replay-token';
const auth = { authorization: `Bearer ${TOKEN}` };

/** Fails on the orders of the customers in `failing`: take a customer out to let its replay succeed. */
const failing = new Set<string>();
/** One hash per order and a counter: an event replayed twice shows up in the counter. */
const picky: Projection = defineProjection<{
  type: 'OrderPlaced';
  data: { orderId: string; customerId: string };
}>({
  name: 'picky',
  version: 1,
  streams: ['order-'],
  handlers: {
    OrderPlaced: ({ data }, w) => {
      if (failing.has(data.customerId)) throw new Error(`refusing the orders of ${data.customerId}`);
      w.hset(`order:${data.orderId}`, { customerId: data.customerId }).incrby('placed', 1);
    },
  },
}) as Projection;

interface Parked {
  id: string;
  position: string;
  error: string;
  event?: unknown;
  write?: unknown;
}

describe('parked events over the admin API: listing and replay (in-process service, real Redis and SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      { ADMIN_TOKEN: TOKEN },
      {
        modules: [
          orders,
          defineModule({
            name: 'picky',
            events: {},
            projections: [picky],
            commands: () => ({}),
            queries: {},
            routes: () => {},
          }),
        ],
        leaseTtlMs: 1000,
      },
    );
  });
  afterAll(async () => t.stop());

  const key = (relative: string) => `${t.prefix}{picky}:g1:${relative}`;
  const parked = async () =>
    (await (await t.http('/admin/projections/picky/parked', { headers: auth })).json()) as Parked[];
  const replay = async () =>
    (await (
      await t.http('/admin/projections/picky/parked/replay', { method: 'POST', headers: auth })
    ).json()) as {
      replayed: number;
      failed: number;
      remaining: number;
    };
  const place = async (customerId: string) =>
    (await (await t.http('/orders', json(validOrder({ customerId })))).json()) as {
      orderId: string;
      position: string;
    };
  const projectedUpTo = async (position: string) => {
    const deadline = Date.now() + 10_000;
    while ((await t.redis.hGet(key('_checkpoint'), 'position')) !== position) {
      if (Date.now() > deadline) throw new Error(`picky did not reach ${position} in 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('given a projection that fails on one customer’s orders, when they are parked, listed and replayed, then replay fails while the fault lasts and succeeds after it', async () => {
    failing.add('poisoned');
    const bad = await place('poisoned');
    const good = await place('fine');
    await projectedUpTo(good.position);

    const listed = await parked();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ position: bad.position, error: 'refusing the orders of poisoned' });
    expect(listed[0]!.event).toMatchObject({ type: 'OrderPlaced', data: { orderId: bad.orderId } });

    expect(await replay()).toEqual({ replayed: 0, failed: 1, remaining: 1 });
    failing.delete('poisoned');
    expect(await replay()).toEqual({ replayed: 1, failed: 0, remaining: 0 });
    expect(await t.redis.hGetAll(key(`order:${bad.orderId}`))).toEqual({ customerId: 'poisoned' });
    expect(await parked()).toEqual([]);
  });

  it('given five parked events, when three replays run at once, then each event is applied exactly once', async () => {
    failing.add('racing');
    const before = Number((await t.redis.get(key('placed'))) ?? 0);
    let last = { position: '' };
    for (let i = 0; i < 5; i++) last = await place('racing');
    await projectedUpTo(last.position);
    expect(await parked()).toHaveLength(5);

    failing.delete('racing');
    const outcomes = await Promise.all([replay(), replay(), replay()]);
    expect(outcomes.reduce((sum, o) => sum + o.replayed, 0)).toBe(5);
    expect(outcomes.every((o) => o.failed === 0 && o.remaining === 0)).toBe(true);
    expect(Number(await t.redis.get(key('placed')))).toBe(before + 5);
  });

  it('given a write Redis refused (WRONGTYPE), when replayed, then it stays parked until the key is fixed, and a write outside the generation is never run', async () => {
    await t.redis.set(key('blocked'), 'a string, not a hash');
    const refused = { command: 'HSET', key: key('blocked'), args: ['field', '1'] };
    const foreign = { command: 'SET', key: `${t.prefix}elsewhere`, args: ['x'] };
    for (const write of [refused, foreign]) {
      await t.redis.xAdd(key('_parked'), '*', {
        position: '1',
        error: 'WRONGTYPE',
        write: JSON.stringify(write),
      });
    }
    expect((await parked()).map((p) => p.write)).toEqual([refused, foreign]);

    expect(await replay()).toEqual({ replayed: 0, failed: 2, remaining: 2 });
    await t.redis.del(key('blocked'));
    expect(await replay()).toEqual({ replayed: 1, failed: 1, remaining: 1 });
    expect(await t.redis.hGetAll(key('blocked'))).toEqual({ field: '1' });
    expect(await t.redis.exists(`${t.prefix}elsewhere`)).toBe(0);
    expect((await parked()).map((p) => p.write)).toEqual([foreign]);
  });
});

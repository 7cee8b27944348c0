import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore';
import { defineProjection, type ProjectedEvent, type Projection, type WriteBatch } from '../../src/readmodel';
import { MAX_WRITE_ARGUMENTS } from '../../src/readmodel/batch-builder';
import {
  eventually,
  openProjectorBench,
  type ProjectorBench,
  type Sale,
  saleNo,
  sold,
  tillRevenue,
  truthOf,
} from '../support/projector-harness';

const NAME = 'till-revenue';

type SoldHandler = (event: ProjectedEvent<'Sold', Sale>, w: WriteBatch) => void;
/** A till projection with one handler for sales. */
const onSold = (Sold: SoldHandler): Projection =>
  defineProjection<{ type: 'Sold'; data: Sale }>({
    name: NAME,
    version: 1,
    streams: ['till-'],
    handlers: { Sold },
  }) as Projection;
const POISON_CENTS = 666;

describe('projector parking of events whose handler keeps failing (real SQLite store + real Redis)', () => {
  let bench: ProjectorBench;
  let token: string;
  let attempts: number;
  const failsOnPoison = (event: RecordedEvent) => {
    const poisoned = (event.data as Sale).cents === POISON_CENTS;
    if (poisoned) attempts += 1;
    return poisoned;
  };

  /**
   * Projects sale 1 and a poisoned sale on 2024-05-01 (till-1), then sale 2 on another till, and waits until
   * the head is checkpointed.
   */
  const projectPoisonedSale = async (projection: Projection) => {
    await bench.store.append('till-1', [saleNo(1), { day: '2024-05-01', cents: POISON_CENTS }].map(sold), {
      expectedRevision: 'no_stream',
    });
    await bench.store.append('till-2', [sold(saleNo(2))], { expectedRevision: 'no_stream' });
    const head = await bench.store.headPosition();
    const projector = bench.projector({ projection, leaseToken: () => token }).start();
    await eventually(
      async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
      (c) => c === head,
      { what: 'checkpoint at the head' },
    );
    return projector;
  };

  beforeEach(async () => {
    bench = await openProjectorBench('parking');
    token = await bench.takeLease(NAME);
    attempts = 0;
  });
  afterEach(async () => bench.dispose());

  it('given a sale the handler throws on, when projected, then it is retried, parked with its error, counted; the later sale of its till waits behind it, and the other tills go on', async () => {
    const before = [saleNo(1), saleNo(2)];
    const poison: Sale = { day: '2024-05-02', cents: POISON_CENTS };
    const heldBehind = saleNo(6);
    const after = [saleNo(3), saleNo(4), saleNo(5)];
    await bench.store.append('till-1', [...before, poison, heldBehind].map(sold), {
      expectedRevision: 'no_stream',
    });
    await bench.store.append('till-2', after.map(sold), { expectedRevision: 'no_stream' });
    const head = await bench.store.headPosition();

    const projector = bench
      .projector({
        projection: tillRevenue(NAME, failsOnPoison),
        leaseToken: () => token,
        handlerAttempts: 3,
      })
      .start();
    await eventually(
      async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
      (c) => c === head,
      { what: 'checkpoint at the head' },
    );

    expect(attempts).toBe(3);
    expect(projector.stats.parked).toBe(2);
    expect(await bench.countersOf(NAME)).toEqual(truthOf([...before, ...after]));
    const parked = await bench.redis.xRange(bench.keys.generation(NAME, 1).parked, '-', '+');
    expect(parked).toHaveLength(2);
    const entry = parked[0]!.message;
    expect(entry.error).toBe('cannot count sale 2');
    expect(parked[1]!.message).toMatchObject({
      stream: 'till-1',
      error: `held behind the event of till-1 parked at position ${entry.position}`,
    });
    expect(await bench.redis.hGet(bench.keys.generation(NAME, 1).streamVersions, 'till-1')).toBe('1');
    const event = JSON.parse(entry.event!) as {
      position: string;
      stream: string;
      revision: string;
      data: Sale;
    };
    expect(event).toMatchObject({ stream: 'till-1', revision: '2', data: poison });
    expect(entry.position).toBe(event.position);
    expect(BigInt(event.position)).toBeLessThan(head);
  });

  it("given a live projector, when a poisoned sale arrives between good ones, then it and the sale after it in its till are parked and the till's version stays before it", async () => {
    const projector = bench
      .projector({
        projection: tillRevenue(NAME, failsOnPoison),
        leaseToken: () => token,
        handlerAttempts: 2,
      })
      .start();
    const sales: Sale[] = [saleNo(10), { day: '2024-05-03', cents: POISON_CENTS }, saleNo(11)];
    for (const [revision, sale] of sales.entries()) {
      await bench.store.append('till-7', [sold(sale)], {
        expectedRevision: revision === 0 ? 'no_stream' : BigInt(revision - 1),
      });
    }
    const head = await bench.store.headPosition();
    await eventually(
      async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
      (c) => c === head,
      { what: 'checkpoint at the head' },
    );

    expect(attempts).toBe(2);
    expect(projector.stats.parked).toBe(2);
    expect(await bench.redis.xLen(bench.keys.generation(NAME, 1).parked)).toBe(2);
    expect(await bench.countersOf(NAME)).toEqual(truthOf([saleNo(10)]));
    expect(await bench.redis.hGet(bench.keys.generation(NAME, 1).streamVersions, 'till-7')).toBe('0');
  });

  it('given a handler that records an increment Redis would refuse, when projected, then its event is parked before any of its writes and the rest is counted', async () => {
    const notANumber = onSold(({ data }, w) => {
      w.hincrby(`day:${data.day}`, 'sales', 1);
      w.hincrby(`day:${data.day}`, 'cents', data.cents === POISON_CENTS ? Number.NaN : data.cents);
    });
    const projector = await projectPoisonedSale(notANumber);

    expect(projector.stats.parked).toBe(1);
    expect(await bench.countersOf(NAME)).toEqual(truthOf([saleNo(1), saleNo(2)]));
    const [entry] = await bench.redis.xRange(bench.keys.generation(NAME, 1).parked, '-', '+');
    expect(entry!.message.error).toMatch(/HINCRBY needs a field and an integer/);
  });

  it('given a handler that records a write too wide for the apply script, when projected, then its event is parked and a write at the limit is applied', async () => {
    const wide = onSold(({ data }, w) => {
      w.hincrby(`day:${data.day}`, 'sales', 1);
      // The poisoned sale's write carries 2 arguments more than one write may; the others exactly the limit.
      const pairs = MAX_WRITE_ARGUMENTS / 2 + (data.cents === POISON_CENTS ? 1 : 0);
      const fields: Record<string, number> = {};
      for (let i = 0; i < pairs; i++) fields[`f${i}`] = i;
      w.hset(`wide:${data.cents}`, fields);
    });
    const projector = await projectPoisonedSale(wide);

    expect(projector.stats.parked).toBe(1);
    const generation = bench.keys.generation(NAME, 1);
    for (const sale of [saleNo(1), saleNo(2)])
      expect(await bench.redis.hLen(generation.key(`wide:${sale.cents}`))).toBe(MAX_WRITE_ARGUMENTS / 2);
    expect(await bench.redis.exists(generation.key(`wide:${POISON_CENTS}`))).toBe(0);
    expect(await bench.redis.hGet(generation.key('day:2024-05-01'), 'sales')).toBeNull(); // none of its writes
    const [entry] = await bench.redis.xRange(generation.parked, '-', '+');
    expect(entry!.message.error).toMatch(/HSET has 7002 arguments; one write may carry at most 7000/);
  });

  it('given a key of the wrong type in Redis, when the projector applies sales to it, then the other sales are counted once, the refused write is parked and the projection goes on', async () => {
    // A generation with keys has a checkpoint (one without is reported as lost): as after a first batch.
    await bench.redis.hSet(bench.keys.generation(NAME, 1).checkpoint, 'position', '0');
    await bench.redis.set(bench.keys.generation(NAME, 1).key('day:2024-05-02'), 'not a hash');
    const sales = Array.from({ length: 9 }, (_, i) => saleNo(i)); // days cycle 01, 02, 03
    await bench.store.append('till-1', sales.map(sold), { expectedRevision: 'no_stream' });
    const head = await bench.store.headPosition();

    const projector = bench.projector({ projection: tillRevenue(NAME), leaseToken: () => token }).start();
    await eventually(
      async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
      (c) => c === head,
      { what: 'checkpoint at the head' },
    );

    const truth = truthOf(sales.filter((s) => s.day !== '2024-05-02'));
    for (const day of ['2024-05-01', '2024-05-03']) {
      expect(await bench.redis.hGetAll(bench.keys.generation(NAME, 1).key(`day:${day}`))).toEqual(truth[day]);
    }
    expect(projector.stats.errors).toBe(0);
    expect(projector.stats.parked).toBe(6); // two writes for each of the three sales of that day
    expect(await bench.redis.xLen(bench.keys.generation(NAME, 1).parked)).toBe(6);
  });

  it('given an event the upcaster cannot read, when projected, then it is parked as stored and the projection goes on', async () => {
    await bench.store.append('till-2', [saleNo(1), { day: '2024-05-03', cents: POISON_CENTS }].map(sold), {
      expectedRevision: 'no_stream',
    });
    await bench.store.append('till-3', [sold(saleNo(2))], { expectedRevision: 'no_stream' });
    const head = await bench.store.headPosition();
    const upcast = (event: RecordedEvent) => {
      if (failsOnPoison(event)) throw new Error('no upcaster for Sold v0 → v1');
      return event;
    };

    const projector = bench
      .projector({ projection: tillRevenue(NAME), leaseToken: () => token, upcast, handlerAttempts: 2 })
      .start();
    await eventually(
      async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
      (c) => c === head,
      { what: 'checkpoint at the head' },
    );

    expect(attempts).toBe(2);
    expect(projector.stats).toMatchObject({ parked: 1, errors: 0 });
    expect(await bench.countersOf(NAME)).toEqual(truthOf([saleNo(1), saleNo(2)]));
    const [entry] = await bench.redis.xRange(bench.keys.generation(NAME, 1).parked, '-', '+');
    expect(entry!.message.error).toBe('no upcaster for Sold v0 → v1');
    expect(JSON.parse(entry!.message.event!)).toMatchObject({ stream: 'till-2', revision: '1' });
  });
});

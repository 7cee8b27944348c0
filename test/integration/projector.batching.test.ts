import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  eventually,
  openProjectorBench,
  type ProjectorBench,
  saleNo,
  sold,
  tillRevenue,
  truthOf,
} from '../support/projector-harness';

const NAME = 'till-revenue';

describe('projector batch sizes: large while catching up, one event at a time when live', () => {
  let bench: ProjectorBench;
  let token: string;
  beforeEach(async () => {
    bench = await openProjectorBench('batching');
    token = await bench.takeLease(NAME);
  });
  afterEach(async () => bench.dispose());

  it('given a backlog of 5000 sales, when a projector catches up with batchSize 1000, then it takes a handful of full batches', async () => {
    const sales = Array.from({ length: 5000 }, (_, i) => saleNo(i));
    await Promise.all(
      sales.map((sale, i) => bench.store.append(`till-${i % 50}`, [sold(sale)], { expectedRevision: 'any' })),
    );
    const head = await bench.store.headPosition();

    const projector = bench
      .projector({ projection: tillRevenue(NAME), leaseToken: () => token, batchSize: 1000 })
      .start();
    await eventually(
      async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
      (c) => c === head,
      { what: 'catch-up' },
    );

    expect(projector.stats.applied).toBe(5000);
    expect(projector.stats.batches).toBeGreaterThanOrEqual(5);
    expect(projector.stats.batches).toBeLessThanOrEqual(7); // the store's 500-event pages may end one early
    expect(await bench.countersOf(NAME)).toEqual(truthOf(sales));
  });

  it('given a live projector, when sales arrive one by one, then each is applied on its own without waiting for a batch to fill', async () => {
    const projector = bench
      .projector({ projection: tillRevenue(NAME), leaseToken: () => token, batchSize: 1000 })
      .start();
    const sales = Array.from({ length: 20 }, (_, i) => saleNo(i));
    for (const sale of sales) {
      const { position } = await bench.store.append('till-1', [sold(sale)], { expectedRevision: 'any' });
      await eventually(
        async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
        (c) => c === position,
        { what: `position ${position}` },
      );
    }

    expect(projector.stats.applied).toBe(20);
    expect(projector.stats.batches).toBe(20);
    expect(await bench.countersOf(NAME)).toEqual(truthOf(sales));
  });

  it('given a live projector, when many events come one by one, then its waits leave nothing behind (no growing stop listeners)', async () => {
    const projector = bench
      .projector({ projection: tillRevenue(NAME), leaseToken: () => token, batchSize: 1000 })
      .start();
    const waitsPending = () =>
      (projector as unknown as { interrupts: { pending: number } }).interrupts.pending;
    for (let i = 0; i < 100; i++) {
      const { position } = await bench.store.append('till-2', [sold(saleNo(i))], { expectedRevision: 'any' });
      await eventually(
        async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
        (c) => c === position,
        { what: `position ${position}` },
      );
    }
    expect(projector.stats.applied).toBe(100);
    // One wait (for the next event) is open at any time; a leak would leave one per event.
    expect(waitsPending()).toBeLessThanOrEqual(1);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectionStatusReader, rebuildingGeneration, requestRebuild } from '../../src/readmodel';
import { eventually, openRebuildBench, orderTally, type RebuildBench } from './rebuild.support';

const NAME = 'order-tally';

describe('rebuild requests, lease holders and take-overs (real SQLite + Redis)', () => {
  let bench: RebuildBench;
  beforeEach(async () => {
    bench = await openRebuildBench('rebuild-requests');
  });
  afterEach(async () => bench.dispose());

  const placed = (generation: number) => () =>
    bench.redis.get(bench.keys.generation(NAME, generation).key('v1:placed'));
  const checkpoint = async (generation: number) =>
    BigInt((await bench.redis.hGet(bench.keys.generation(NAME, generation).checkpoint, 'position')) ?? '0');

  it('given ten concurrent rebuild requests, then all answer the same generation; a request after the flip gets the next one', async () => {
    await bench.placeOrders(10);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => requestRebuild(bench.seam, bench.keys, NAME)),
    );
    expect(new Set(answers)).toEqual(new Set([2]));

    bench.runner(orderTally(1));
    await eventually(
      () => bench.active(NAME),
      (g) => g === 2,
      { what: 'flip to generation 2' },
    );
    expect(await rebuildingGeneration(bench.seam, bench.keys, NAME)).toBeUndefined();
    expect(await requestRebuild(bench.seam, bench.keys, NAME)).toBe(3);
  });

  it('given a lease holder and a standby, when a rebuild is asked for from elsewhere, then the holder builds and flips it', async () => {
    await bench.placeOrders(10);
    const runners = [bench.runner(orderTally(1)), bench.runner(orderTally(1))];
    await eventually(
      () => runners.filter((r) => r.holdsLease).length,
      (n) => n === 1,
      { what: 'one holder' },
    );
    const holder = runners.find((r) => r.holdsLease)!;
    const standby = runners.find((r) => !r.holdsLease)!;

    expect(await requestRebuild(bench.seam, bench.keys, NAME)).toBe(2);
    await eventually(
      () => bench.active(NAME),
      (g) => g === 2,
      { what: 'flip to generation 2' },
    );

    expect(holder.projectors.main?.generation).toBe(2);
    expect(standby.projectors).toEqual({});
    expect(await placed(2)()).toBe('10');
  });

  it('given a holder that stops halfway through a rebuild, when the next holder takes over, then it resumes from the rebuild’s checkpoint (status rebuilding meanwhile) and flips to a complete model', async () => {
    let slowMs = 0;
    await bench.placeOrders(150);
    const projection = orderTally(1, { slowMs: () => slowMs });
    const first = bench.runner(projection, { batchSize: 5 });
    await eventually(placed(1), (count) => count === '150', { what: 'generation 1 built' });

    slowMs = 5; // the rebuild now takes about 150 × 5 ms
    await requestRebuild(bench.seam, bench.keys, NAME);
    await eventually(placed(2), (count) => Number(count ?? 0) > 0, { what: 'the rebuild under way' });
    const status = await new ProjectionStatusReader({
      ...bench,
      redis: bench.seam,
      projections: [projection],
    }).row(projection);
    expect(status).toMatchObject({ status: 'rebuilding', generation: 1, rebuildGeneration: 2 });
    await first.stop();
    const leftAt = await checkpoint(2);
    const head = await bench.store.headPosition();
    expect(await rebuildingGeneration(bench.seam, bench.keys, NAME)).toBe(2);
    expect(leftAt).toBeLessThan(head);

    const next = bench.runner(projection, { batchSize: 5 });
    await eventually(
      () => bench.active(NAME),
      (g) => g === 2,
      { timeoutMs: 15_000, what: 'flip to generation 2' },
    );

    expect(await placed(2)()).toBe('150'); // each order counted once: no event applied twice or missed
    // Every event is an order event and SQLite positions are dense: the events after where it was left.
    expect(next.projectors.main?.stats.applied).toBe(Number(head - leftAt));
  });
});

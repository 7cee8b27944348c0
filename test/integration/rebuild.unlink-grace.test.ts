import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestRebuild, UNLINK_GRACE_MS } from '../../src/readmodel';
import { eventually, openRebuildBench, orderTally, type RebuildBench } from './rebuild.support';

const NAME = 'order-tally';
/** How long a query process may keep using a cached active generation (GENERATION_CACHE_MS in read-model-access.ts). */
const GENERATION_CACHE_MS = 1000;

describe('the old generation outlives a flip by a grace period, then is unlinked (real SQLite + Redis)', () => {
  let bench: RebuildBench;
  beforeEach(async () => {
    bench = await openRebuildBench('rebuild-grace');
    await bench.placeOrders(20);
  });
  afterEach(async () => bench.dispose());

  const flipped = async () => {
    await eventually(
      () => bench.active(NAME),
      (g) => g === 2,
      { what: 'flip to generation 2' },
    );
    return Date.now(); // at or after the flip
  };

  it('the default grace is longer than a query process caches the active generation', () => {
    expect(UNLINK_GRACE_MS).toBeGreaterThan(GENERATION_CACHE_MS);
  });

  it('given a flip, when a query process may still read the old generation from its cache, then the old keys are all there; after the grace they are gone', async () => {
    bench.runner(orderTally(1), { unlinkGraceMs: 3000 });
    await eventually(
      async () => (await bench.modelOf(NAME, 1))['v1:placed'],
      (placed) => placed === '20',
      { what: 'generation 1 built' },
    );
    const before = await bench.modelOf(NAME, 1);
    await requestRebuild(bench.seam, bench.keys, NAME);
    const flippedBy = await flipped();

    await new Promise((resolve) => setTimeout(resolve, flippedBy + GENERATION_CACHE_MS - Date.now()));
    expect(await bench.modelOf(NAME, 1)).toEqual(before);
    await eventually(
      () => bench.keyCount(NAME, 1),
      (count) => count === 0,
      {
        timeoutMs: 8000,
        what: 'generation 1 unlinked',
      },
    );
    expect((await bench.modelOf(NAME, 2))['v1:placed']).toBe('20');
  });

  it('given a holder stopped during the grace period, when the next holder starts, then it unlinks the leftover generation', async () => {
    const first = bench.runner(orderTally(1), { unlinkGraceMs: 60_000 });
    await eventually(
      async () => (await bench.modelOf(NAME, 1))['v1:placed'],
      (placed) => placed === '20',
      { what: 'generation 1 built' },
    );
    await requestRebuild(bench.seam, bench.keys, NAME);
    await flipped();
    await first.stop();
    expect(await bench.keyCount(NAME, 1)).toBeGreaterThan(0);

    bench.runner(orderTally(1), { unlinkGraceMs: 200 });
    await eventually(
      () => bench.keyCount(NAME, 1),
      (count) => count === 0,
      {
        timeoutMs: 8000,
        what: 'leftover generation 1 unlinked by the next holder',
      },
    );
    expect((await bench.modelOf(NAME, 2))['v1:placed']).toBe('20');
  });
});

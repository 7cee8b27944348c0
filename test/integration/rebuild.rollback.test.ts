import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestRebuild, unlinkGeneration } from '../../src/readmodel';
import { eventually, openRebuildBench, orderTally, type RebuildBench } from './rebuild.support';

const NAME = 'order-tally';

describe('a flip that Redis loses (failover to a lagging replica, an AOF everysec restart) never empties the model (real SQLite + Redis)', () => {
  let bench: RebuildBench;
  beforeEach(async () => {
    bench = await openRebuildBench('rebuild-rollback');
    await bench.placeOrders(20);
  });
  afterEach(async () => bench.dispose());

  /** What a query reads: the tally of whichever generation Redis says is active. */
  const readable = async () => {
    const active = await bench.active(NAME);
    return Number((await bench.redis.get(bench.keys.generation(NAME, active).key('v1:placed'))) ?? 0);
  };

  it('given a flip from 1 to 2 that Redis then loses (with the rebuild request), then the runner follows Redis back to 1, the unlink of 1 is refused, every read finds all 20 orders, and 2 is cleaned up as a leftover', async () => {
    const runner = bench.runner(orderTally(1), { unlinkGraceMs: 800 });
    await eventually(readable, (n) => n === 20, { what: 'generation 1 built' });
    await requestRebuild(bench.seam, bench.keys, NAME);
    await eventually(
      () => bench.active(NAME),
      (g) => g === 2,
      { what: 'flip to generation 2' },
    );
    // Redis goes back to before the rebuild was asked for (a restore, a replica far behind): active 1 again.
    await bench.redis.multi().set(bench.keys.active(NAME), '1').del(bench.keys.rebuilding(NAME)).exec();

    const seen: number[] = [];
    const until = Date.now() + 3000; // well past the grace at which generation 1 would have been unlinked
    while (Date.now() < until) {
      seen.push(await readable());
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen.filter((n) => n !== 20)).toEqual([]);
    expect(runner.projectors.main?.generation).toBe(1);
    await eventually(
      () => bench.keyCount(NAME, 2),
      (count) => count === 0,
      { what: 'generation 2, now a leftover, unlinked' },
    );
    expect(await bench.active(NAME)).toBe(1);
    expect(await readable()).toBe(20);
  });

  it('given the lease holder, when it unlinks the active generation or one being rebuilt, then each step is refused; with a stale token too; an old one goes in bounded steps', async () => {
    const runner = bench.runner(orderTally(1));
    await eventually(readable, (n) => n === 20, { what: 'generation 1 built' });
    await eventually(() => runner.holdsLease, Boolean);
    const lease = async () => (await bench.redis.get(bench.keys.lease(NAME))) ?? '';
    const token = await lease();

    expect(await unlinkGeneration(bench.seam, bench.keys, NAME, 1, () => token)).toEqual({
      unlinked: 0,
      refused: 'ACTIVE',
    });
    await bench.redis.set(bench.keys.rebuilding(NAME), '7');
    await bench.redis.set(bench.keys.generation(NAME, 7).key('v1:placed'), '3');
    expect((await unlinkGeneration(bench.seam, bench.keys, NAME, 7, () => token)).refused).toBe('REBUILDING');
    await bench.redis.del(bench.keys.rebuilding(NAME));
    expect((await unlinkGeneration(bench.seam, bench.keys, NAME, 7, () => randomUUID())).refused).toBe(
      'STALE_LEASE',
    );
    expect(await bench.keyCount(NAME, 7)).toBe(1);

    const old = bench.keys.generation(NAME, 5);
    for (let i = 0; i < 2500; i++) await bench.redis.set(old.key(`k:${i}`), '1');
    await bench.redis.hSet(old.checkpoint, 'position', '9');
    const current = await lease();
    const outcome = await unlinkGeneration(bench.seam, bench.keys, NAME, 5, () => current);
    expect(outcome).toEqual({ unlinked: 2501 });
    expect(await bench.keyCount(NAME, 5)).toBe(0);
  });
});

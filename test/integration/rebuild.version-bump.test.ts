import { ClientOfflineError } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from '../../src/redis';
import { eventually, openRebuildBench, orderTally, type RebuildBench } from './rebuild.support';

const NAME = 'order-tally';

describe('a projection whose version changed in code is rebuilt blue/green at start-up (real SQLite + Redis)', () => {
  let bench: RebuildBench;
  beforeEach(async () => {
    bench = await openRebuildBench('rebuild-version');
  });
  afterEach(async () => bench.dispose());

  const placedIn = (generation: number, version: number) => () =>
    bench.redis.get(bench.keys.generation(NAME, generation).key(`v${version}:placed`));
  const builtBy = (generation: number) => bench.redis.hGet(bench.keys.versions(NAME), `g${generation}`);

  it('given version 1 built generation 1, when the projection starts at version 2 with other handlers, then generation 2 is built by v2, flipped, and v1’s keys are unlinked', async () => {
    await bench.placeOrders(30);
    const v1 = bench.runner(orderTally(1));
    await eventually(placedIn(1, 1), (placed) => placed === '30', { what: 'v1 counted 30 orders' });
    await v1.stop();

    bench.runner(orderTally(2));
    await eventually(
      () => bench.active(NAME),
      (g) => g === 2,
      { what: 'flip to generation 2' },
    );

    expect(await builtBy(2)).toBe('2');
    const rebuilt = await bench.modelOf(NAME, 2);
    expect(rebuilt['v2:placed']).toBe('30');
    expect(Object.keys(rebuilt).filter((key) => key.startsWith('v1:'))).toEqual([]);
    expect(Object.keys(rebuilt).filter((key) => key.startsWith('v2:order:'))).toHaveLength(30);
    await eventually(
      () => bench.keyCount(NAME, 1),
      (count) => count === 0,
      {
        timeoutMs: 8000,
        what: 'generation 1 unlinked',
      },
    );
    expect(await builtBy(1)).toBeNull();
  });

  it('given version 1 built generation 1, when the version check at start-up fails once (a failover during a rolling deploy), then it is tried again and the rebuild still happens', async () => {
    await bench.placeOrders(10);
    const v1 = bench.runner(orderTally(1));
    await eventually(placedIn(1, 1), (placed) => placed === '10', { what: 'v1 counted 10 orders' });
    await v1.stop();
    // The same Redis, except that the first read of the built-by versions fails as during a failover.
    let failures = 1;
    const flaky: Redis = {
      ...bench.seam,
      primary: new Proxy(bench.seam.primary, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (property !== 'hGet' || typeof value !== 'function') return value;
          return (key: string, field: string) =>
            key === bench.keys.versions(NAME) && failures-- > 0
              ? Promise.reject(new ClientOfflineError())
              : value.call(target, key, field);
        },
      }),
    };

    bench.runner(orderTally(2), { redis: flaky });
    await eventually(
      () => bench.active(NAME),
      (g) => g === 2,
      { what: 'flip to generation 2 after the failed check was tried again' },
    );
    expect(failures).toBeLessThan(0); // the check failed once and was asked again
    expect((await bench.modelOf(NAME, 2))['v2:placed']).toBe('10');
  });

  it('given generation 2 built by version 2, when an older process (version 1) takes the lease in a rolling deploy, then it does not rebuild back', async () => {
    await bench.placeOrders(10);
    const v2 = bench.runner(orderTally(2));
    await eventually(placedIn(1, 2), (placed) => placed === '10', { what: 'v2 counted 10 orders' });
    await v2.stop();

    const v1 = bench.runner(orderTally(1));
    await eventually(
      () => v1.holdsLease,
      (held) => held,
      { what: 'v1 holds the lease' },
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few ticks, in which a rebuild would be asked

    expect(await bench.redis.get(bench.keys.rebuilding(NAME))).toBeNull();
    expect(await bench.active(NAME)).toBe(1);
    expect(await builtBy(1)).toBe('2');
  });

  it('given a rebuild begun by version 1 and left half done, when version 2 takes it over, then it starts over in a fresh generation instead of finishing a half-old model, and the abandoned one is unlinked', async () => {
    let slowMs = 0;
    await bench.placeOrders(120);
    const v1 = bench.runner(orderTally(1, { slowMs: () => slowMs }), { batchSize: 5 });
    await eventually(placedIn(1, 1), (placed) => placed === '120', { what: 'v1 counted 120 orders' });
    slowMs = 5;
    await bench.redis.set(bench.keys.rebuilding(NAME), '2'); // as requestRebuild would, generation 2
    await eventually(placedIn(2, 1), (placed) => Number(placed ?? 0) > 0, { what: 'v1 rebuild under way' });
    await v1.stop();
    expect(await bench.redis.get(bench.keys.rebuilding(NAME))).toBe('2');
    expect(Number(await placedIn(2, 1)())).toBeLessThan(120);

    bench.runner(orderTally(2), { batchSize: 5, unlinkGraceMs: 100 });
    await eventually(
      () => bench.active(NAME),
      (g) => g === 3,
      { what: 'flip to generation 3' },
    );

    const rebuilt = await bench.modelOf(NAME, 3);
    expect(rebuilt['v2:placed']).toBe('120');
    expect(Object.keys(rebuilt).filter((key) => key.startsWith('v1:'))).toEqual([]);
    expect(await builtBy(3)).toBe('2');
    await eventually(
      () => bench.keyCount(NAME, 2),
      (count) => count === 0,
      { what: 'the abandoned generation 2 unlinked' },
    );
  });

  it('given a rebuild begun by version 2 and left half done, when an older process (version 1) takes the lease, then it leaves that generation to a newer process', async () => {
    let slowMs = 0;
    await bench.placeOrders(60);
    const v2 = bench.runner(orderTally(2, { slowMs: () => slowMs }), { batchSize: 5 });
    await eventually(placedIn(1, 2), (placed) => placed === '60', { what: 'v2 counted 60 orders' });
    slowMs = 5;
    await bench.redis.set(bench.keys.rebuilding(NAME), '2'); // as requestRebuild would, generation 2
    await eventually(placedIn(2, 2), (placed) => Number(placed ?? 0) > 0, { what: 'v2 rebuild under way' });
    await v2.stop();
    const halfDone = await bench.modelOf(NAME, 2);

    const v1 = bench.runner(orderTally(1), { batchSize: 5 });
    await eventually(
      () => v1.holdsLease,
      (held) => held,
      { what: 'v1 holds the lease' },
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few ticks, in which it would claim the rebuild

    expect(await bench.redis.get(bench.keys.rebuilding(NAME))).toBe('2');
    expect(await bench.active(NAME)).toBe(1);
    expect(await builtBy(2)).toBe('2');
    expect(await bench.modelOf(NAME, 2)).toEqual(halfDone);
  });
});

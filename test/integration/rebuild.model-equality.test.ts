import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderProjections as allProjections } from '../../src/orders';
import { ProjectionStatusReader, readModelKeys, requestRebuild } from '../../src/readmodel';
import { deleteKeysWithPrefix, uniqueRedisPrefix } from '../support/redis';
import { eventually, openRebuildBench, type RebuildBench } from './rebuild.support';

describe('blue/green rebuild of the order projections (real SQLite store + real Redis)', () => {
  let bench: RebuildBench;
  beforeEach(async () => {
    bench = await openRebuildBench('rebuild-equal');
  });
  afterEach(async () => bench.dispose());

  const caughtUp = async (name: string, generation: number) => {
    const head = String(await bench.store.headPosition());
    await eventually(
      async () => (await bench.modelOf(name, generation))._checkpoint,
      (position) => position === head,
      { what: `${name} g${generation} at the head ${head}` },
    );
  };

  it('given four projections caught up on 60 orders, when each is rebuilt, then generation 2 becomes active and equals generation 1 key by key', async () => {
    await bench.placeOrders(60);
    for (const projection of allProjections) bench.runner(projection);
    for (const { name } of allProjections) await caughtUp(name, 1);
    const before = new Map<string, Record<string, unknown>>();
    for (const { name } of allProjections) before.set(name, await bench.modelOf(name, 1));

    for (const { name } of allProjections) expect(await requestRebuild(bench.seam, bench.keys, name)).toBe(2);
    for (const { name } of allProjections) {
      await eventually(
        () => bench.active(name),
        (g) => g === 2,
        { what: `${name} flipped to g2` },
      );
    }

    for (const { name } of allProjections) {
      const rebuilt = await bench.modelOf(name, 2);
      expect(Object.keys(rebuilt).length).toBeGreaterThan(2);
      expect(rebuilt).toEqual(before.get(name));
    }
    const statuses = new ProjectionStatusReader({ ...bench, redis: bench.seam, projections: allProjections });
    await eventually(
      async () => (await statuses.list()).map((row) => `${row.generation}:${row.status}`).join(),
      (rows) => rows === allProjections.map(() => '2:running').join(),
      { what: 'every row at generation 2, running' },
    );
  });

  it('given orders placed while the rebuild is asked for and runs, when it has flipped, then the new generation equals a projection built from scratch', async () => {
    await bench.placeOrders(40);
    for (const projection of allProjections) bench.runner(projection, { batchSize: 5 });
    for (const { name } of allProjections) await caughtUp(name, 1);

    const placing = bench.placeOrders(80);
    for (const { name } of allProjections) await requestRebuild(bench.seam, bench.keys, name);
    await placing;
    for (const { name } of allProjections) {
      await eventually(
        () => bench.active(name),
        (g) => g === 2,
        { what: `${name} flipped to g2` },
      );
      await caughtUp(name, 2);
    }

    // The reference: the same projections run from scratch under another prefix, over the same store.
    const referencePrefix = uniqueRedisPrefix('rebuild-reference');
    const referenceKeys = readModelKeys(referencePrefix);
    const referenceRunners = allProjections.map((projection) =>
      bench.runner(projection, { keys: referenceKeys }),
    );
    try {
      const head = String(await bench.store.headPosition());
      for (const { name } of allProjections) {
        await eventually(
          () => bench.redis.hGet(referenceKeys.generation(name, 1).checkpoint, 'position'),
          (position) => position === head,
          { what: `reference ${name} at the head` },
        );
      }
      for (const { name } of allProjections) {
        expect(await bench.modelOf(name, 2)).toEqual(await bench.modelOf(name, 1, referenceKeys));
      }
    } finally {
      await Promise.all(referenceRunners.map((runner) => runner.stop()));
      await deleteKeysWithPrefix(referencePrefix);
    }
  });
});

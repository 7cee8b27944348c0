import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotificationHub, ReadModelAccess } from '../../src/readmodel';
import {
  eventually,
  noted,
  openProjectorBench,
  type ProjectorBench,
  saleNo,
  sold,
  tillRevenue,
  truthOf,
} from '../support/projector-harness';

const NAME = 'till-revenue';

describe('projector checkpoint past events it does not apply (real SQLite store + real Redis)', () => {
  let bench: ProjectorBench;
  let hub: NotificationHub;
  let readModel: ReadModelAccess;
  let token: string;
  const start = () => bench.projector({ projection: tillRevenue(NAME), leaseToken: () => token }).start();

  beforeEach(async () => {
    bench = await openProjectorBench('checkpoint');
    hub = new NotificationHub(bench.seam, [bench.keys.notifications(NAME)]);
    await hub.start();
    readModel = new ReadModelAccess(bench.seam, bench.keys, hub);
    token = await bench.takeLease(NAME);
  });
  afterEach(async () => {
    await hub.close();
    await bench.dispose();
  });

  it('given a backlog that ends in events of other streams (more than a page), when caught up, then the checkpoint is the head', async () => {
    await bench.store.append('till-1', [sold(saleNo(1))], { expectedRevision: 'any' });
    await Promise.all(
      Array.from({ length: 1200 }, (_, i) =>
        bench.store.append(`other-${i}`, [noted()], { expectedRevision: 'any' }),
      ),
    );
    const head = await bench.store.headPosition();

    const projector = start();
    await eventually(
      async () => projector.stats.checkpoint, // counted once Redis has the batch: then both are there
      (c) => c === head,
      { what: 'checkpoint at the head' },
    );

    expect(projector.stats.applied).toBe(1);
    expect(await bench.countersOf(NAME)).toEqual(truthOf([saleNo(1)]));
  });

  it('given a backlog that ends in events the projection has no handler for, when caught up, then the checkpoint is the head and nothing else was written', async () => {
    await bench.store.append('till-1', [sold(saleNo(1)), noted(), noted(), noted()], {
      expectedRevision: 'no_stream',
    });
    const head = await bench.store.headPosition();

    start();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c === head,
      { what: 'checkpoint at the head' },
    );

    expect(await bench.countersOf(NAME)).toEqual(truthOf([saleNo(1)]));
    expect(await bench.redis.hGetAll(bench.keys.generation(NAME, 1).streamVersions)).toEqual({
      'till-1': '3',
    });
  });

  it('given a live projector, when only a filtered-out event is appended, then a minPosition wait on it is fresh (never hangs to the timeout)', async () => {
    start();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c >= 0n,
    );
    const { position } = await bench.store.append('other-live', [noted()], { expectedRevision: 'any' });

    const outcome = await readModel.waitForPosition([NAME], position, 5000);

    expect(outcome).toBe('fresh');
    expect(await bench.checkpointOf(NAME)).toBe(position);
  });

  it('given a live projector, when only an event without a handler is appended, then a minPosition wait on it is fresh', async () => {
    start();
    const { position } = await bench.store.append('till-9', [noted()], { expectedRevision: 'any' });

    expect(await readModel.waitForPosition([NAME], position, 5000)).toBe('fresh');
    expect(await bench.countersOf(NAME)).toEqual({});
  });

  it('given a wait started before the append, when the projector applies it, then the wait is fresh and the stream version is readable', async () => {
    start();
    const waiting = readModel.waitForStreamVersion(NAME, 'till-3', 1n, 5000);
    await bench.store.append('till-3', [sold(saleNo(3)), sold(saleNo(4))], { expectedRevision: 'no_stream' });

    expect(await waiting).toBe('fresh');
    expect(await bench.countersOf(NAME)).toEqual(truthOf([saleNo(3), saleNo(4)]));
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent, RecordedEvent } from '../../src/eventstore';
import {
  eventually,
  noted,
  openProjectorBench,
  type ProjectorBench,
  type Sale,
  saleNo,
  sold,
  tillRevenue,
  truthOf,
} from '../support/projector-harness';
import { openTestSeam } from '../support/redis';

const NAME = 'till-revenue';

/**
 * Appends `count` till events (sales, with a handler-less `Noted` every 7th) over 10 tills, plus an event
 * of another stream every 11th (filtered out). Answers the sales, for the truth.
 */
const appendHistory = async (bench: ProjectorBench, count: number, offset = 0): Promise<Sale[]> => {
  const sales: Sale[] = [];
  const appends: Array<Promise<unknown>> = [];
  const append = (stream: string, event: NewEvent) =>
    appends.push(bench.store.append(stream, [event], { expectedRevision: 'any' }));
  for (let i = offset; i < offset + count; i++) {
    if (i % 11 === 0) append(`other-${i}`, noted());
    if (i % 7 === 0) {
      append(`till-${i % 10}`, noted());
      continue;
    }
    sales.push(saleNo(i));
    append(`till-${i % 10}`, sold(saleNo(i)));
  }
  await Promise.all(appends); // one group commit: appends keep their call order
  return sales;
};

/** appendHistory writes one till event per step: what the projectors together must apply exactly once. */
const tillEventCount = (steps: number) => steps;

describe('projector crash between batches (real SQLite store + real Redis)', () => {
  let bench: ProjectorBench;
  beforeEach(async () => {
    bench = await openProjectorBench('crash');
  });
  afterEach(async () => bench.dispose());

  it('given a projector whose lease is taken mid-stream, when a new holder starts, then it resumes from the checkpoint and counts every sale exactly once', async () => {
    const sales = await appendHistory(bench, 1500);
    const head = await bench.store.headPosition();
    let secondToken = '';
    let stolenAt: bigint | undefined;
    // Taking the lease from inside a handler queues the SET on the projector's own connection ahead of the
    // batch holding that event: the batch is refused at exactly that point.
    const stealAt = (event: RecordedEvent) => {
      if (stolenAt === undefined && event.position >= 700n) {
        stolenAt = event.position;
        void bench.takeLease(NAME).then((t) => {
          secondToken = t;
        });
      }
      return false;
    };
    const firstToken = await bench.takeLease(NAME);
    let lostLease = false;
    const first = bench
      .projector({
        projection: tillRevenue(NAME, stealAt),
        leaseToken: () => firstToken,
        batchSize: 100,
        onLeaseLost: () => {
          lostLease = true;
        },
      })
      .start();
    await eventually(() => lostLease, Boolean, { what: 'the first projector losing its lease' });
    await first.stop();
    const stoppedAt = await bench.checkpointOf(NAME);
    expect(stoppedAt).toBeGreaterThan(0n);
    expect(stoppedAt).toBeLessThan(stolenAt!);
    expect(first.stats.checkpoint).toBe(stoppedAt);

    const more = await appendHistory(bench, 300, 1500);
    const second = bench
      .projector({ projection: tillRevenue(NAME), leaseToken: () => secondToken, batchSize: 100 })
      .start();
    const newHead = await bench.store.headPosition();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c === newHead,
      { what: 'catch-up to the head' },
    );

    expect(newHead).toBeGreaterThan(head);
    expect(await bench.countersOf(NAME)).toEqual(truthOf([...sales, ...more]));
    expect(first.stats.applied + second.stats.applied).toBe(tillEventCount(1800));
  });

  it('given a projector whose Redis connection dies mid-stream, when a new projector starts, then the totals equal the truth from the events', async () => {
    const sales = await appendHistory(bench, 2000);
    const token = await bench.takeLease(NAME);
    const doomed = await openTestSeam();
    const first = bench
      .projector({ projection: tillRevenue(NAME), redis: doomed, leaseToken: () => token, batchSize: 20 })
      .start();
    await eventually(
      () => first.stats.batches,
      (n) => n >= 5,
      { everyMs: 1 },
    );
    await doomed.close(); // the batch in flight, if any, is applied whole or not at all
    await eventually(
      () => first.stats.errors,
      (n) => n >= 1,
      { what: 'the failure to be noticed' },
    );
    await first.stop();
    const stoppedAt = await bench.checkpointOf(NAME);
    const head = await bench.store.headPosition();
    expect(stoppedAt).toBeLessThan(head);

    const second = bench
      .projector({ projection: tillRevenue(NAME), leaseToken: () => token, batchSize: 20 })
      .start();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c === head,
      { what: 'catch-up to the head' },
    );

    expect(await bench.countersOf(NAME)).toEqual(truthOf(sales));
    expect(second.stats.applied).toBeLessThan(tillEventCount(2000));
  });

  it('given two projectors racing on one generation with the same token, when both run to the head, then each sale is counted once', async () => {
    const sales = await appendHistory(bench, 1500);
    const token = await bench.takeLease(NAME);
    const racers = [37, 100].map((batchSize) =>
      bench.projector({ projection: tillRevenue(NAME), leaseToken: () => token, batchSize }).start(),
    );
    const head = await bench.store.headPosition();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c === head,
      { what: 'catch-up to the head' },
    );

    expect(await bench.countersOf(NAME)).toEqual(truthOf(sales));
    expect(racers[0]!.stats.applied + racers[1]!.stats.applied).toBe(tillEventCount(1500));
  });

  it('given a projector stopped cleanly, when a new one starts on the same generation, then it applies only what came after', async () => {
    const sales = await appendHistory(bench, 400);
    const token = await bench.takeLease(NAME);
    const first = bench.projector({ projection: tillRevenue(NAME), leaseToken: () => token }).start();
    const head = await bench.store.headPosition();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c === head,
    );
    await first.stop();

    const more = await appendHistory(bench, 50, 400);
    const second = bench.projector({ projection: tillRevenue(NAME), leaseToken: () => token }).start();
    const newHead = await bench.store.headPosition();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c === newHead,
    );

    expect(second.stats.applied).toBe(tillEventCount(50));
    expect(await bench.countersOf(NAME)).toEqual(truthOf([...sales, ...more]));
  });
});

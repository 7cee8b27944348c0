import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyBatch, BehindCheckpoint, LeaseLost, type PreparedBatch } from '../../src/readmodel/apply-batch';
import {
  eventually,
  openProjectorBench,
  type ProjectorBench,
  snapshotKeys,
} from '../support/projector-harness';
import type { PlainRedis } from '../support/redis';

const NAME = 'till-revenue';

/** A batch of `count` sales at positions first…first+count-1, each counted into one day's hash. */
const salesBatch = (first: bigint, count: number, recordedAt = 1_700_000_000_000): PreparedBatch => ({
  expectedCheckpoint: first - 1n,
  checkpoint: first + BigInt(count - 1),
  newestRecordedAt: recordedAt,
  writes: Array.from({ length: count }, (_, i) => ({
    command: 'HINCRBY' as const,
    key: 'day:2024-05-01',
    args: ['cents', '250'],
    position: first + BigInt(i),
  })),
  streamVersions: new Map([['till-1', BigInt(count - 1)]]),
  eventCount: count,
});

describe('the atomic apply script (real Redis)', () => {
  let bench: ProjectorBench;
  let subscriber: PlainRedis;
  let published: string[];
  let token: string;
  const target = () => ({ projection: NAME, generation: 1, leaseToken: token });
  const generation = () => bench.keys.generation(NAME, 1);

  beforeEach(async () => {
    bench = await openProjectorBench('apply-script');
    published = [];
    subscriber = bench.redis.duplicate();
    await subscriber.connect();
    await subscriber.subscribe(bench.keys.notifications(NAME), (message) => void published.push(message));
    token = await bench.takeLease(NAME);
  });
  afterEach(async () => {
    subscriber.destroy();
    await bench.dispose();
  });

  it('given a batch, when applied, then state, checkpoint, stream versions and one PUBLISH of the new position land together', async () => {
    await applyBatch(bench.seam, bench.keys, target(), salesBatch(1n, 3));

    expect(await bench.redis.hGetAll(generation().key('day:2024-05-01'))).toEqual({ cents: '750' });
    const checkpoint = await bench.redis.hGetAll(generation().checkpoint);
    expect(checkpoint).toMatchObject({ position: '3', recordedAt: '1700000000000' });
    expect(Number(checkpoint.appliedAt)).toBeGreaterThan(Date.now() - 10_000);
    expect(await bench.redis.hGetAll(generation().streamVersions)).toEqual({ 'till-1': '2' });
    await eventually(
      () => published.length,
      (n) => n >= 1,
      { what: 'the notification' },
    );
    expect(published.map((m) => JSON.parse(m))).toEqual([
      { kind: 'applied', projection: NAME, generation: 1, position: '3', streams: { 'till-1': '2' } },
    ]);
  });

  it('given a large batch, when a reader looks while it is applied, then it sees the state and the checkpoint both before or both after', async () => {
    const reader = bench.redis.duplicate();
    await reader.connect();
    const seen: Array<[string | null, string | null]> = [];
    let applying = true;
    const look = async () => {
      while (applying) {
        const [position, cents] = (await reader
          .multi()
          .hGet(generation().checkpoint, 'position')
          .hGet(generation().key('day:2024-05-01'), 'cents')
          .exec()) as unknown as [string | null, string | null];
        seen.push([position, cents]);
      }
    };
    const looking = look();
    await applyBatch(bench.seam, bench.keys, target(), salesBatch(1n, 20_000));
    applying = false;
    await looking;
    reader.destroy();

    expect(seen.length).toBeGreaterThan(1);
    for (const [position, cents] of seen) {
      expect([
        [null, null],
        ['20000', String(20_000 * 250)],
      ]).toContainEqual([position, cents]);
    }
  });

  it('given a stored checkpoint, when a batch starts at or before it, then BehindCheckpoint and nothing is written or published', async () => {
    await applyBatch(bench.seam, bench.keys, target(), salesBatch(1n, 10));
    await eventually(
      () => published.length,
      (n) => n === 1,
    );
    const before = await snapshotKeys(bench.redis, bench.prefix);

    await expect(applyBatch(bench.seam, bench.keys, target(), salesBatch(10n, 5))).rejects.toBeInstanceOf(
      BehindCheckpoint,
    );
    await expect(applyBatch(bench.seam, bench.keys, target(), salesBatch(4n, 20))).rejects.toBeInstanceOf(
      BehindCheckpoint,
    );

    expect(await snapshotKeys(bench.redis, bench.prefix)).toEqual(before);
    await bench.redis.publish(bench.keys.notifications(NAME), 'marker'); // anything published before it arrives first
    await eventually(
      () => published.at(-1),
      (m) => m === 'marker',
    );
    expect(published).toHaveLength(2);
  });

  it('given the lease moved to another holder, when a batch comes with the old token, then LeaseLost and nothing is written or published', async () => {
    await applyBatch(bench.seam, bench.keys, target(), salesBatch(1n, 2));
    const oldToken = token;
    await bench.takeLease(NAME);
    const before = await snapshotKeys(bench.redis, bench.prefix);

    await expect(
      applyBatch(bench.seam, bench.keys, { ...target(), leaseToken: oldToken }, salesBatch(3n, 2)),
    ).rejects.toBeInstanceOf(LeaseLost);

    expect(await snapshotKeys(bench.redis, bench.prefix)).toEqual(before);
    await bench.redis.publish(bench.keys.notifications(NAME), 'marker');
    await eventually(
      () => published.at(-1),
      (m) => m === 'marker',
    );
    expect(published).toHaveLength(2);
  });

  it('given the lease lapsed (no holder), when a batch comes, then LeaseLost and nothing is written', async () => {
    await bench.redis.del(bench.keys.lease(NAME));

    await expect(applyBatch(bench.seam, bench.keys, target(), salesBatch(1n, 2))).rejects.toBeInstanceOf(
      LeaseLost,
    );

    expect(await snapshotKeys(bench.redis, bench.prefix)).toEqual({});
  });

  it('given an empty token (no lease held here), when a batch comes, then LeaseLost even though no lease exists', async () => {
    await bench.redis.del(bench.keys.lease(NAME));

    await expect(
      applyBatch(bench.seam, bench.keys, { ...target(), leaseToken: '' }, salesBatch(1n, 1)),
    ).rejects.toBeInstanceOf(LeaseLost);
  });

  it('given a batch with a write Redis refuses (WRONGTYPE), when applied, then the others land once, the checkpoint moves and the refused write is parked', async () => {
    await bench.redis.set(generation().key('day:2024-05-02'), 'not a hash');
    const batch = salesBatch(1n, 3);
    batch.writes[1] = { ...batch.writes[1]!, key: 'day:2024-05-02' };

    const refused = await applyBatch(bench.seam, bench.keys, target(), batch);

    expect(refused).toBe(1);
    expect(await bench.redis.hGetAll(generation().key('day:2024-05-01'))).toEqual({ cents: '500' });
    expect(await bench.redis.hGet(generation().checkpoint, 'position')).toBe('3');
    const parked = await bench.redis.xRange(generation().parked, '-', '+');
    expect(parked.map(({ message }) => message.position)).toEqual(['2']);
    expect(parked[0]!.message.error).toMatch(/^WRONGTYPE/);
    expect(JSON.parse(parked[0]!.message.write!)).toEqual({
      command: 'HINCRBY',
      key: generation().key('day:2024-05-02'),
      args: ['cents', '250'],
    });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRedisUnavailable, luaScript, type Redis, RedisDeadlineExceeded } from '../../src/redis';
import { CALL_DEADLINE_MS } from '../../src/redis/deadline';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import {
  eventually,
  openProjectorBench,
  type ProjectorBench,
  tillRevenue,
} from '../support/projector-harness';
import { openTestSeam } from '../support/redis';

const settle = async (work: Promise<unknown>) => {
  const started = Date.now();
  const outcome = await work.then(
    () => 'answered',
    (error: unknown) => error,
  );
  return { outcome, ms: Date.now() - started };
};

describe('a Redis that stops answering without closing the socket (SIGSTOP): every call is bounded', () => {
  let server: PrivateRedis;
  let redis: Redis;
  beforeEach(async () => {
    server = await startPrivateRedis();
    redis = await openTestSeam(server.url);
  });
  afterEach(async () => {
    server.resume();
    await redis.close();
    await server.dispose();
  });

  it('given calls already sent to a frozen Redis (a script and a command), then each fails within the deadline instead of waiting for TCP; once Redis answers again, so do new calls', async () => {
    await redis.primary.set('k', '1');
    server.pause();
    const calls = await Promise.all([
      settle(redis.runScript(luaScript("return redis.call('GET', KEYS[1])"), ['k'], [])),
      settle(redis.primary.get('k')),
      settle(redis.primary.multi().get('k').hGet('h', 'f').exec()),
    ]);
    // The first to run out of time abandons the connection: the calls behind it fail with it, as unavailable.
    expect(calls.some(({ outcome }) => outcome instanceof RedisDeadlineExceeded)).toBe(true);
    for (const { outcome, ms } of calls) {
      expect(isRedisUnavailable(outcome)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(CALL_DEADLINE_MS - 100);
      expect(ms).toBeLessThan(CALL_DEADLINE_MS + 3000);
    }

    server.resume();
    expect(
      await eventually(
        () => redis.primary.get('k').catch(() => undefined),
        (v) => v === '1',
      ),
    ).toBe('1');
  }, 30_000);
});

describe('a projector and its lease on a frozen Redis', () => {
  let server: PrivateRedis;
  let bench: ProjectorBench;
  beforeEach(async () => {
    server = await startPrivateRedis();
    bench = await openProjectorBench('deadline', { redisUrl: server.url });
  });
  afterEach(async () => {
    server.resume();
    await bench.dispose();
    await server.dispose();
  });

  it('given a projector waiting on an apply when Redis freezes, then it fails within the deadline (faulted, cause unavailable) and goes on once Redis answers', async () => {
    const token = await bench.takeLease('till-revenue');
    const projector = bench.projector({ projection: tillRevenue(), leaseToken: () => token }).start();
    await bench.store.append(
      'till-1',
      [{ id: crypto.randomUUID(), type: 'Sold', data: { day: '2024-05-01', cents: 100 }, metadata: {} }],
      {
        expectedRevision: 'any',
      },
    );
    await eventually(
      () => bench.checkpointOf('till-revenue'),
      (c) => c === 1n,
    );

    server.pause();
    await bench.store.append(
      'till-1',
      [{ id: crypto.randomUUID(), type: 'Sold', data: { day: '2024-05-01', cents: 200 }, metadata: {} }],
      {
        expectedRevision: 'any',
      },
    );
    await eventually(
      () => projector.stats.lastError ?? '',
      (error) => /did not answer within/.test(error),
      { timeoutMs: CALL_DEADLINE_MS + 4000, what: 'the apply to fail on the deadline' },
    );
    expect(projector.stats.lastErrorCause).toBe('unavailable');
    expect(projector.status).toBe('faulted');

    server.resume();
    await eventually(
      () => bench.checkpointOf('till-revenue'),
      (c) => c === 2n,
      { timeoutMs: 15_000 },
    );
    expect(await bench.countersOf('till-revenue')).toEqual({ '2024-05-01': { sales: '2', cents: '300' } });
  }, 40_000);
});

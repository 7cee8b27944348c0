import fc from 'fast-check';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteCoalescer } from '../../src/readmodel/coalesce';
import type { RedisWrite } from '../../src/readmodel/projection';
import { applyWrites } from '../support/apply-writes';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';

/** What a batch would send: every write that did not fold into an earlier one. */
const coalesced = (writes: RedisWrite[], maxArguments = 7000): RedisWrite[] => {
  const coalescer = new WriteCoalescer(maxArguments);
  return writes.filter((write) => !coalescer.fold(write));
};
const copies = (writes: RedisWrite[]): RedisWrite[] => writes.map((w) => ({ ...w, args: [...w.args] }));

const members = fc.constantFrom('a', 'b', 'c', 'd');
const score = fc.integer({ min: -3, max: 3 }).map(String);
/** Writes of every kind a handler records, on few keys, each key keeping one type (as projections do). */
const write: fc.Arbitrary<RedisWrite> = fc.oneof(
  fc.record({
    command: fc.constant('HSET' as const),
    key: fc.constantFrom('h1', 'h2'),
    args: fc
      .uniqueArray(members, { minLength: 1, maxLength: 3 })
      .chain((fields) =>
        fc.tuple(...fields.map((f) => fc.tuple(fc.constant(f), score))).map((pairs) => pairs.flat()),
      ),
  }),
  fc.record({
    command: fc.constant('HDEL' as const),
    key: fc.constantFrom('h1', 'h2'),
    args: fc.uniqueArray(members, { minLength: 1, maxLength: 2 }),
  }),
  fc.record({
    command: fc.constant('HINCRBY' as const),
    key: fc.constantFrom('h1', 'h2'),
    args: fc.tuple(members, score).map(([f, by]) => [f, by]),
  }),
  fc.record({
    command: fc.constant('ZADD' as const),
    key: fc.constantFrom('z1', 'z2'),
    args: fc.array(fc.tuple(score, members), { minLength: 1, maxLength: 3 }).map((pairs) => pairs.flat()),
  }),
  fc.record({
    command: fc.constant('ZREM' as const),
    key: fc.constantFrom('z1', 'z2'),
    args: fc.uniqueArray(members, { minLength: 1, maxLength: 2 }),
  }),
  fc.record({
    command: fc.constantFrom('SADD' as const, 'SREM' as const),
    key: fc.constant('s1'),
    args: fc.uniqueArray(members, { minLength: 1, maxLength: 2 }),
  }),
  fc.record({
    command: fc.constant('DEL' as const),
    key: fc.constantFrom('h1', 'z1', 's1'),
    args: fc.constant([] as string[]),
  }),
);

describe('WriteCoalescer', () => {
  it('folds a write into the latest one of its command on its key, unless a write in between touched its fields or members', () => {
    const sent = coalesced([
      { command: 'HSET', key: 'order:1', args: ['status', 'pending', 'version', '0'] },
      { command: 'ZADD', key: 'index', args: ['1', 'order:1'] },
      { command: 'HSET', key: 'order:1', args: ['version', '1', 'total', '5'] },
      { command: 'ZADD', key: 'index', args: ['2', 'order:2'] },
      { command: 'HDEL', key: 'order:1', args: ['total'] },
      { command: 'HSET', key: 'order:1', args: ['version', '2'] }, // HDEL touched total, not version
      { command: 'HSET', key: 'order:1', args: ['total', '7'] }, // HDEL touched total: not before it
      { command: 'ZREM', key: 'index', args: ['order:1'] },
      { command: 'ZADD', key: 'index', args: ['3', 'order:3'] }, // ZREM touched order:1 only
      { command: 'ZADD', key: 'index', args: ['4', 'order:1'] }, // ZREM touched order:1: not before it
    ]);
    expect(sent).toEqual([
      // a later value of a field replaces the earlier one in place
      { command: 'HSET', key: 'order:1', args: ['status', 'pending', 'version', '2', 'total', '5'] },
      { command: 'ZADD', key: 'index', args: ['1', 'order:1', '2', 'order:2', '3', 'order:3'] },
      { command: 'HDEL', key: 'order:1', args: ['total'] },
      { command: 'HSET', key: 'order:1', args: ['total', '7'] },
      { command: 'ZREM', key: 'index', args: ['order:1'] },
      { command: 'ZADD', key: 'index', args: ['4', 'order:1'] },
    ]);
  });

  it('does not fold across a write to the whole key', () => {
    const sent = coalesced([
      { command: 'SADD', key: 'set', args: ['a'] },
      { command: 'DEL', key: 'set', args: [] },
      { command: 'SADD', key: 'set', args: ['b'] },
    ]);
    expect(sent).toHaveLength(3);
  });

  it('never folds increments, and never lets a write grow past the argument limit', () => {
    const sent = coalesced(
      [
        { command: 'HINCRBY', key: 'day', args: ['placed', '1'] },
        { command: 'HINCRBY', key: 'day', args: ['placed', '1'] },
        { command: 'SADD', key: 'set', args: ['a', 'b'] },
        { command: 'SADD', key: 'set', args: ['c', 'd'] },
        { command: 'SADD', key: 'set', args: ['e'] },
      ],
      4,
    );
    expect(sent.map((w) => [w.command, w.args.length])).toEqual([
      ['HINCRBY', 2],
      ['HINCRBY', 2],
      ['SADD', 4],
      ['SADD', 1],
    ]);
  });

  describe('against a real Redis', () => {
    const redis = createClient({ url: TEST_REDIS_URL });
    const prefix = uniqueRedisPrefix('coalesce');
    beforeAll(async () => {
      await redis.connect();
    });
    afterAll(async () => {
      await deleteKeysWithPrefix(prefix);
      redis.destroy();
    });

    /**
     * Every key's whole state. A hash's field order (HGETALL answers small hashes in insertion order) may
     * differ: a field folded past a write to another field is inserted earlier. Nothing reads that order.
     */
    const stateOf = async (base: string) => {
      const read = (command: string, key: string, ...args: string[]) =>
        redis.sendCommand([command, `${base}${key}`, ...args]);
      return {
        h1: await redis.hGetAll(`${base}h1`),
        h2: await redis.hGetAll(`${base}h2`),
        z1: await read('ZRANGE', 'z1', '0', '-1', 'WITHSCORES'),
        z2: await read('ZRANGE', 'z2', '0', '-1', 'WITHSCORES'),
        s1: ((await read('SMEMBERS', 's1')) as unknown as string[]).sort(),
      };
    };

    it('given any sequence of writes, then sending the folded writes leaves Redis exactly as sending each one does', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(write, { maxLength: 40 }), async (writes) => {
          run += 1;
          const oneByOne = `${prefix}${run}:each:`;
          const folded = `${prefix}${run}:folded:`;
          await applyWrites(redis, (key) => oneByOne + key, copies(writes));
          await applyWrites(redis, (key) => folded + key, coalesced(copies(writes)));
          expect(await stateOf(folded)).toEqual(await stateOf(oneByOne));
        }),
        { numRuns: 300 },
      );
    });
  });
});

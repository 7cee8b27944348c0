import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSortedSetPage } from '../../src/readmodel';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';

const prefix = uniqueRedisPrefix('cursor-fallback');
const redis = createClient({ url: TEST_REDIS_URL });

beforeAll(async () => {
  await redis.connect();
});

afterAll(async () => {
  redis.destroy();
  await deleteKeysWithPrefix(prefix);
});

describe('paging when the cursor member moved', () => {
  const key = `${prefix}paging-fallback`;
  // Ten members tied at score 5 between lower and higher scores: the fallback must skip part of a tie run.
  const members = [
    ...['a1', 'a2'].map((value) => ({ value, score: 1 })),
    ...Array.from({ length: 10 }, (_, i) => ({ value: `t${i}`, score: 5 })),
    ...['z1', 'z2'].map((value) => ({ value, score: 9 })),
  ];
  const page = (direction: 'asc' | 'desc', limit: number, cursor?: string) =>
    readSortedSetPage(redis, key, { list: 'fallback', direction, limit, cursor });

  beforeAll(async () => {
    await redis.zAdd(key, members);
  });

  it.each(['asc', 'desc'] as const)(
    'continues after a removed member in its tie run (%s)',
    async (direction) => {
      const order = direction === 'asc' ? members.map((m) => m.value) : members.map((m) => m.value).reverse();
      const first = await page(direction, 6);
      expect(first.members).toEqual(order.slice(0, 6));
      const gone = order[5]!;
      await redis.zRem(key, gone);
      try {
        const rest = await page(direction, 20, first.nextCursor!);
        expect(rest).toEqual({ members: order.slice(6), nextCursor: null });
      } finally {
        await redis.zAdd(key, members.find((m) => m.value === gone)!);
      }
    },
  );

  it('continues from the old score when the cursor member was rescored', async () => {
    const first = await page('asc', 4);
    expect(first.members).toEqual(['a1', 'a2', 't0', 't1']);
    await redis.zAdd(key, { value: 't1', score: 100 });
    try {
      const next = await page('asc', 3, first.nextCursor!);
      expect(next.members).toEqual(['t2', 't3', 't4']);
    } finally {
      await redis.zAdd(key, { value: 't1', score: 5 });
    }
  });

  it('walks past a tie run longer than a page when the cursor member left it', async () => {
    const first = await page('asc', 8);
    expect(first.members.at(-1)).toBe('t5');
    await redis.zRem(key, 't5');
    try {
      const ids: string[] = [];
      let cursor = first.nextCursor ?? undefined;
      while (cursor) {
        const next = await page('asc', 1, cursor);
        ids.push(...next.members);
        cursor = next.nextCursor ?? undefined;
      }
      expect(ids).toEqual(['t6', 't7', 't8', 't9', 'z1', 'z2']);
    } finally {
      await redis.zAdd(key, { value: 't5', score: 5 });
    }
  });
});

import { z } from 'zod';
import { ValidationFailed } from '../cqrs/index.js';

/** One entry of a sorted set, as node-redis returns it with WITHSCORES. */
export interface ScoredMember {
  value: string;
  score: number;
}

/** The MULTI commands the read side uses; node-redis v5's client multi satisfies it (RESP2 or RESP3). */
export interface ReadMulti {
  hGetAll(key: string): ReadMulti;
  zScore(key: string, member: string): ReadMulti;
  zRank(key: string, member: string): ReadMulti;
  zRevRank(key: string, member: string): ReadMulti;
  exec(): Promise<unknown[]>;
}

/** The slice of a node-redis v5 client the read side needs (so tests and callers can pass any client). */
export interface ReadRedis {
  zRangeWithScores(
    key: string,
    min: string | number,
    max: string | number,
    options?: { BY?: 'SCORE'; REV?: boolean; LIMIT?: { offset: number; count: number } },
  ): Promise<ScoredMember[]>;
  multi(): ReadMulti;
}

export type Direction = 'asc' | 'desc';

/** Where the previous page ended: the last member and its score, in the list the cursor was made for. */
interface CursorPosition {
  score: number;
  member: string;
}

const cursorPayload = z.object({ v: z.literal(1), l: z.string(), s: z.number(), m: z.string().min(1) });

const badCursor = (detail: string) => new ValidationFailed(detail, [{ path: 'cursor', message: detail }]);

/** Opaque cursor: base64url JSON of the position plus the list it belongs to (`list` names sort and filter). */
export const encodeCursor = (list: string, { score, member }: CursorPosition): string =>
  Buffer.from(JSON.stringify({ v: 1, l: list, s: score, m: member })).toString('base64url');

/** Decodes a cursor made by `encodeCursor` for the same list; anything else is a ValidationFailed. */
export const decodeCursor = (cursor: string, list: string): CursorPosition => {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('cursor is malformed');
  }
  const parsed = cursorPayload.safeParse(payload);
  if (!parsed.success) throw badCursor('cursor is malformed');
  if (parsed.data.l !== list) throw badCursor('cursor belongs to another list (other filter or sort)');
  return { score: parsed.data.s, member: parsed.data.m };
};

/** Redis orders equal scores by member bytes, so ties compare as bytes too. */
const compareMembers = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

const comesAfter = (entry: ScoredMember, cursor: CursorPosition, direction: Direction): boolean => {
  const sign = direction === 'asc' ? 1 : -1;
  if (entry.score !== cursor.score) return sign * (entry.score - cursor.score) > 0;
  return sign * compareMembers(entry.value, cursor.member) > 0;
};

const rangeByRank = (redis: ReadRedis, key: string, direction: Direction, start: number, count: number) =>
  redis.zRangeWithScores(key, start, start + count - 1, { REV: direction === 'desc' });

/** Entries after the cursor found by score when its member moved or left: skips the tie group's head. */
const rangeAfterScore = async (
  redis: ReadRedis,
  key: string,
  direction: Direction,
  cursor: CursorPosition,
  count: number,
): Promise<ScoredMember[]> => {
  const [min, max] = direction === 'asc' ? [String(cursor.score), '+inf'] : [String(cursor.score), '-inf'];
  const range = (offset: number, n: number) =>
    redis.zRangeWithScores(key, min, max, {
      BY: 'SCORE',
      REV: direction === 'desc',
      LIMIT: { offset, count: n },
    });
  for (let offset = 0; ; ) {
    const batch = await range(offset, count);
    const firstAfter = batch.findIndex((entry) => comesAfter(entry, cursor, direction));
    if (firstAfter < 0) {
      if (batch.length < count) return [];
      offset += batch.length;
      continue;
    }
    const kept = batch.slice(firstAfter);
    if (kept.length === count || batch.length < count) return kept;
    return kept.concat(await range(offset + batch.length, count - kept.length));
  }
};

/** Where the cursor's member now sits, read atomically with its score. */
const rankOf = async (redis: ReadRedis, key: string, direction: Direction, member: string) => {
  const multi = redis.multi().zScore(key, member);
  const [score, rank] = await (direction === 'asc'
    ? multi.zRank(key, member)
    : multi.zRevRank(key, member)
  ).exec();
  return typeof score === 'number' && typeof rank === 'number' ? { score, rank } : null;
};

/**
 * Up to `count` entries after the cursor (or from the start). While the cursor's member keeps its score,
 * its rank is exact even inside a run of equal scores; otherwise fall back to the score with ties filtered.
 */
export const readSortedSetAfter = async (
  redis: ReadRedis,
  key: string,
  direction: Direction,
  count: number,
  cursor: CursorPosition | undefined,
): Promise<ScoredMember[]> => {
  if (!cursor) return rangeByRank(redis, key, direction, 0, count);
  const found = await rankOf(redis, key, direction, cursor.member);
  if (found && found.score === cursor.score) return rangeByRank(redis, key, direction, found.rank + 1, count);
  return rangeAfterScore(redis, key, direction, cursor, count);
};

export interface SortedSetPage {
  members: string[];
  nextCursor: string | null;
}

/** One page of a sorted set's members and the cursor of the next page (null on the last one). */
export const readSortedSetPage = async (
  redis: ReadRedis,
  key: string,
  opts: { list: string; direction: Direction; limit: number; cursor?: string | undefined },
): Promise<SortedSetPage> => {
  const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, opts.list);
  // One extra entry tells whether another page exists without a second query.
  const entries = await readSortedSetAfter(redis, key, opts.direction, opts.limit + 1, after);
  const page = entries.slice(0, opts.limit);
  const last = page.at(-1);
  const nextCursor =
    entries.length > opts.limit && last
      ? encodeCursor(opts.list, { score: last.score, member: last.value })
      : null;
  return { members: page.map((entry) => entry.value), nextCursor };
};

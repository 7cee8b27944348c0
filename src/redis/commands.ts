import type { RedisClientType } from 'redis';

/** The MULTI of a read or a small write: the commands the service queues in one, on any topology. */
export interface RedisMulti {
  get(key: string): RedisMulti;
  hGet(key: string, field: string): RedisMulti;
  hGetAll(key: string): RedisMulti;
  hmGet(key: string, fields: string[]): RedisMulti;
  hSet(key: string, fields: Record<string, string>): RedisMulti;
  pExpire(key: string, ms: number): RedisMulti;
  zScore(key: string, member: string): RedisMulti;
  zRank(key: string, member: string): RedisMulti;
  zRevRank(key: string, member: string): RedisMulti;
  exec(): Promise<unknown[]>;
}

type KeyCommands = Pick<
  RedisClientType,
  | 'get'
  | 'set'
  | 'del'
  | 'exists'
  | 'type'
  | 'unlink'
  | 'hGet'
  | 'hGetAll'
  | 'hmGet'
  | 'hSet'
  | 'hSetNX'
  | 'hDel'
  | 'hLen'
  | 'sMembers'
  | 'xLen'
  | 'xRange'
  | 'xRevRange'
  | 'zRangeWithScores'
  | 'zScore'
  | 'pTTL'
>;

/**
 * Commands on keys, routed to the node that serves the key (node-redis's typed commands, which the single,
 * Sentinel and Cluster clients share). In a Cluster every key of one command must be in one slot: keys of
 * one projection share the `{<projection>}` hash tag.
 */
export interface RedisCommands extends KeyCommands {
  multi(): RedisMulti;
}

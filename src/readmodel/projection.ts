import type { EventMetadata, Position, StreamName, StreamRevision } from '../eventstore/index.js';

/** An event as a projection handler sees it: already upcast to the current schema. */
export interface ProjectedEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
  stream: StreamName;
  revision: StreamRevision;
  position: Position;
  recordedAt: Date;
  metadata: EventMetadata;
}

/** Redis commands a handler may record. Each computes in place, so a handler never needs to read. */
export type RedisWriteCommand =
  | 'HSET'
  | 'HDEL'
  | 'HINCRBY'
  | 'ZADD'
  | 'ZREM'
  | 'ZINCRBY'
  | 'SADD'
  | 'SREM'
  | 'SET'
  | 'INCRBY'
  | 'DEL'
  | 'XADD'
  | 'XDEL';

/** One recorded write. `key` is relative to the projection's generation namespace. */
export interface RedisWrite {
  command: RedisWriteCommand;
  key: string;
  args: string[];
}

type FieldValue = string | number | bigint;

/** Records writes; the projector applies a whole batch of them in one atomic Redis call. */
export class WriteBatch {
  readonly writes: RedisWrite[] = [];

  private record(command: RedisWriteCommand, key: string, args: FieldValue[]): this {
    const text: string[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) text[i] = String(args[i]);
    this.writes.push({ command, key, args: text });
    return this;
  }

  hset(key: string, fields: Record<string, FieldValue | undefined>): this {
    const args: string[] = [];
    for (const field in fields) {
      const value = fields[field];
      if (value !== undefined) args.push(field, typeof value === 'string' ? value : String(value));
    }
    if (args.length > 0) this.writes.push({ command: 'HSET', key, args });
    return this;
  }
  hdel(key: string, ...fields: string[]): this {
    return this.record('HDEL', key, fields);
  }
  hincrby(key: string, field: string, by: number | bigint): this {
    return this.record('HINCRBY', key, [field, by]);
  }
  zadd(key: string, score: number, member: string): this {
    return this.record('ZADD', key, [score, member]);
  }
  zrem(key: string, member: string): this {
    return this.record('ZREM', key, [member]);
  }
  zincrby(key: string, by: number, member: string): this {
    return this.record('ZINCRBY', key, [by, member]);
  }
  sadd(key: string, ...members: string[]): this {
    return this.record('SADD', key, members);
  }
  srem(key: string, ...members: string[]): this {
    return this.record('SREM', key, members);
  }
  set(key: string, value: FieldValue): this {
    return this.record('SET', key, [value]);
  }
  incrby(key: string, by: number | bigint): this {
    return this.record('INCRBY', key, [by]);
  }
  del(key: string): this {
    return this.record('DEL', key, []);
  }
}

type EventOf<E extends { type: string; data: unknown }, T extends E['type']> = Extract<E, { type: T }>;

/** Method syntax makes handlers bivariant, so a `Projection<OrderEvent>` is a `Projection` too. */
type Handler<Event> = { record(event: Event, w: WriteBatch): void }['record'];

export type ProjectionHandlers<E extends { type: string; data: unknown }> = {
  [T in E['type']]?: Handler<ProjectedEvent<T, EventOf<E, T>['data']>>;
};

export interface Projection<E extends { type: string; data: unknown } = { type: string; data: unknown }> {
  /** Stable name: part of every key, of the lease and of the admin API. */
  name: string;
  /** Bump when the handlers change meaning: a new version is rebuilt blue/green at start-up. */
  version: number;
  /** Stream-name prefixes this projection reads (the subscription's filter). */
  streams: string[];
  handlers: ProjectionHandlers<E>;
  /**
   * How far behind (ms, the age of the newest applied event while behind) the projection may be before
   * /ready names it; default DEFAULT_ACCEPTABLE_LAG_MS. ACCEPTABLE_LAG_MS overrides it per projection.
   */
  acceptableLagMs?: number;
}

/** The lag a projection accepts when its definition does not say. */
export const DEFAULT_ACCEPTABLE_LAG_MS = 5000;

export const defineProjection = <E extends { type: string; data: unknown }>(
  projection: Projection<E>,
): Projection<E> => projection;

/** Runs a projection's handler for one event and returns what it recorded (nothing for an event it ignores). */
export const recordWrites = (
  projection: Projection,
  event: ProjectedEvent,
  w = new WriteBatch(),
): WriteBatch => {
  const handler = (
    projection.handlers as Record<string, ((e: ProjectedEvent, w: WriteBatch) => void) | undefined>
  )[event.type];
  handler?.(event, w);
  return w;
};

/** Key of a projection generation's namespace; `{name}` is a Redis Cluster hash tag, so one projection is one slot. */
export const generationPrefix = (redisPrefix: string, projection: string, generation: number): string =>
  `${redisPrefix}{${projection}}:g${generation}:`;

/** Keys of a projection that live outside any generation (active pointer, lease, parked, meta). */
export const projectionKey = (redisPrefix: string, projection: string, suffix: string): string =>
  `${redisPrefix}{${projection}}:${suffix}`;

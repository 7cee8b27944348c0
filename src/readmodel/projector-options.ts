import type { Logger } from 'pino';
import type { EventStore, Position, RecordedEvent } from '../eventstore/index.js';
import { type Redis, type RedisFailureCause, redisFailureCause } from '../redis/index.js';
import { type PreparedBatch, readCheckpoint, type StoredCheckpoint } from './apply-batch.js';
import type { ParkedStreams } from './batch-builder.js';
import { generationHasKeys } from './generations.js';
import type { ReadModelKeys } from './keys.js';
import type { Projection } from './projection.js';
import { GenerationUntrusted, ReadModelStateLost, StoreBehindReadModel } from './untrusted.js';

export type ProjectorStatus = 'starting' | 'catching-up' | 'running' | 'stopped' | 'faulted';

export interface ProjectorOptions {
  projection: Projection;
  generation: number;
  store: EventStore;
  redis: Redis;
  keys: ReadModelKeys;
  /** The lease token this process holds for the projection; checked by the apply script (fencing). */
  leaseToken: () => string;
  /** The projection's module's upcaster (see DomainModule.events). */
  upcast: (event: RecordedEvent) => RecordedEvent;
  /** Most events in one atomic apply. */
  batchSize?: number;
  handlerAttempts?: number;
  log?: Logger;
  /** Called after every batch that reached the head the subscription knew of. */
  onCaughtUp?: (checkpoint: Position) => void;
  /** Called when the lease turned out to be held by another process: the projector has stopped. */
  onLeaseLost?: () => void;
  /** Why applying must not go on now (Redis may evict keys, say), checked before every batch; undefined: go on. */
  guard?: () => string | undefined;
  /** Called on every failure, with its cause (a metric counts them). */
  onFailure?: (cause: ProjectorFailureCause) => void;
  /** Called once when the projector stops because its generation cannot be trusted (it is marked in Redis). */
  onUntrusted?: (why: string) => Promise<void>;
}

/** Why a generation that applied events past the store's head cannot be trusted. */
export const storeBehind = (projection: string, generation: number, applied: Position, head: Position) =>
  `${projection} generation ${generation} has applied events up to position ${applied} but the event store ` +
  `ends at ${head}: the store was reset or restored from an older backup; rebuild the projection`;

/** Why a projector failed: a Redis failure, or one of its own checks. */
export type ProjectorFailureCause =
  | RedisFailureCause
  | 'guard'
  | 'lost-state'
  | 'store-behind'
  | 'eventstore';

/** A guard said no: the batch is not sent, the projector retries with backoff until the guard clears. */
export class ApplyPaused extends Error {
  override readonly name = 'ApplyPaused';
}

export interface ProjectorStats {
  checkpoint: Position;
  /** recordedAt (ms) of the newest event applied. */
  newestRecordedAt?: number;
  /** Position of the newest event applied (not of a checkpoint mark). */
  eventPosition?: Position;
  applied: number;
  parked: number;
  batches: number;
  errors: number;
  lastError?: string;
  lastErrorCause?: ProjectorFailureCause;
}

/** The cause of a failure: a Redis one, or one of the projector's own checks. */
export const failureCauseOf = (error: unknown): ProjectorFailureCause =>
  error instanceof GenerationUntrusted
    ? error.failureCause
    : error instanceof ApplyPaused
      ? 'guard'
      : (error as { name?: string })?.name === 'EventStoreUnavailable'
        ? 'eventstore'
        : redisFailureCause(error);

/**
 * Where a projector starts: the stored checkpoint and the streams held behind a parked event. A checkpoint
 * missing while the generation has keys, or one past the store's head (or marked so), is not a start: the
 * generation cannot be trusted and only a rebuild replaces it.
 */
export const startingPoint = async (
  options: Pick<ProjectorOptions, 'projection' | 'generation' | 'store' | 'redis' | 'keys'>,
  stats: ProjectorStats,
): Promise<{ stored: StoredCheckpoint; parkedStreams: ParkedStreams }> => {
  const { projection, generation, store, redis, keys } = options;
  const stored = await readCheckpoint(redis, keys, projection.name, generation);
  if (stored.missing && (await generationHasKeys(redis, keys, projection.name, generation))) {
    throw new ReadModelStateLost(
      `the checkpoint of ${projection.name} generation ${generation} is missing while the generation's ` +
        'keys exist (evicted, or deleted by hand); rebuild the projection',
    );
  }
  if (stored.fault !== undefined) throw new StoreBehindReadModel(stored.fault);
  if (stored.eventPosition !== undefined) {
    const head = await store.headPosition();
    if (stored.eventPosition > head)
      throw new StoreBehindReadModel(storeBehind(projection.name, generation, stored.eventPosition, head));
  }
  if (stored.eventPosition !== undefined) stats.eventPosition = stored.eventPosition;
  stats.checkpoint = stored.position;
  if (stored.recordedAt !== undefined) stats.newestRecordedAt = stored.recordedAt;
  const parked = await redis.primary.hGetAll(keys.generation(projection.name, generation).parkedStreams);
  return {
    stored,
    parkedStreams: new Map(Object.entries(parked).map(([stream, at]) => [stream, BigInt(at)])),
  };
};

/** What an applied batch adds to a projector's figures. */
export const countApplied = (stats: ProjectorStats, batch: PreparedBatch, refused: number): void => {
  stats.checkpoint = batch.checkpoint;
  if (batch.newestRecordedAt !== undefined) stats.newestRecordedAt = batch.newestRecordedAt;
  if (batch.newestEventPosition !== undefined) stats.eventPosition = batch.newestEventPosition;
  stats.applied += batch.eventCount;
  stats.parked += (batch.parkedCount ?? 0) + refused;
  stats.batches += 1;
};

/** What a failure adds to a projector's figures; answers its cause. */
export const countFailure = (stats: ProjectorStats, error: unknown): ProjectorFailureCause => {
  const cause = failureCauseOf(error);
  stats.errors += 1;
  stats.lastError = error instanceof Error ? error.message : String(error);
  stats.lastErrorCause = cause;
  return cause;
};

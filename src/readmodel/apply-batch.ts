import type { Position } from '../eventstore/index.js';
import type { Redis } from '../redis/index.js';
import type { ReadModelKeys } from './keys.js';
import { encodeNotification, MAX_LISTED_STREAMS } from './notifications.js';
import type { RedisWrite } from './projection.js';
import { applyBatchScript } from './scripts.js';

/** A recorded write and the position of the event that recorded it (named when Redis refuses the write). */
export interface PositionedWrite extends RedisWrite {
  position: Position;
}

export interface PreparedBatch {
  /** The checkpoint this batch builds on: the apply is refused unless Redis holds exactly it. */
  expectedCheckpoint: Position;
  /** The checkpoint after the batch. */
  checkpoint: Position;
  /** recordedAt (ms) of the newest event applied, for lag in ms. */
  newestRecordedAt?: number;
  /** Position of the newest event applied (not of a checkpoint mark): never past the store's head. */
  newestEventPosition?: Position;
  /** Relative keys: resolved against the generation here. */
  writes: PositionedWrite[];
  streamVersions: Map<string, bigint>;
  eventCount: number;
  /** Events of the batch parked instead of applied (their handler failed, or they wait behind one). */
  parkedCount?: number;
}

/** The lease moved to another process: this projector must stop writing. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

/** The stored checkpoint is at or past this batch: another writer got there first, resync from Redis. */
export class BehindCheckpoint extends Error {
  override readonly name = 'BehindCheckpoint';
}

const encodeWrites = (
  writes: PositionedWrite[],
  keyOf: (relative: string) => string,
  keys: string[],
): string[] => {
  const indexOfKey = new Map<string, string>(); // relative key → its 1-based index in KEYS, as text
  const args: string[] = [String(writes.length)];
  let position: Position | undefined;
  let positionText = '';
  for (const write of writes) {
    let index = indexOfKey.get(write.key);
    if (index === undefined) {
      keys.push(keyOf(write.key));
      index = String(keys.length);
      indexOfKey.set(write.key, index);
    }
    if (write.position !== position) {
      position = write.position;
      positionText = String(position); // the writes of one event share it: convert once
    }
    args.push(write.command, index, positionText, String(write.args.length));
    for (const arg of write.args) args.push(arg);
  }
  return args;
};

/**
 * One atomic Redis call per batch (see applyBatchScript). Answers how many writes Redis refused: each is
 * parked in the generation's `_parked` stream by the script, and the rest of the batch is applied.
 */
export const applyBatch = async (
  redis: Redis,
  keys: ReadModelKeys,
  target: { projection: string; generation: number; leaseToken: string },
  batch: PreparedBatch,
): Promise<number> => {
  const generationKeys = keys.generation(target.projection, target.generation);
  const scriptKeys = [
    generationKeys.checkpoint,
    keys.lease(target.projection),
    generationKeys.streamVersions,
    generationKeys.parked,
  ];
  const versions: string[] = [String(batch.streamVersions.size)];
  for (const [stream, revision] of batch.streamVersions) versions.push(stream, String(revision));
  const writes = encodeWrites(batch.writes, generationKeys.key, scriptKeys);
  const listed = batch.streamVersions.size <= MAX_LISTED_STREAMS;
  const message = encodeNotification({
    kind: 'applied',
    projection: target.projection,
    generation: target.generation,
    position: String(batch.checkpoint),
    ...(listed
      ? { streams: Object.fromEntries([...batch.streamVersions].map(([s, r]) => [s, String(r)])) }
      : {}),
  });
  try {
    const refused = await redis.runScript(applyBatchScript, scriptKeys, [
      target.leaseToken,
      String(batch.expectedCheckpoint),
      String(batch.checkpoint),
      batch.newestRecordedAt === undefined ? '' : String(batch.newestRecordedAt),
      String(Date.now()),
      keys.notifications(target.projection),
      message,
      redis.publishCommand,
      batch.newestEventPosition === undefined ? '' : String(batch.newestEventPosition),
      ...versions,
      ...writes,
    ]);
    return Number(refused);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (text.startsWith('STALE_LEASE')) throw new LeaseLost(text);
    if (text.startsWith('BEHIND_CHECKPOINT')) throw new BehindCheckpoint(text);
    throw error;
  }
};

export interface StoredCheckpoint {
  position: Position;
  /** No checkpoint at all: a generation never applied to, or one whose checkpoint was lost. */
  missing: boolean;
  recordedAt?: number;
  appliedAt?: number;
  /** Position of the newest event applied. */
  eventPosition?: Position;
  /** Why the generation is not to be trusted (its checkpoint is ahead of the store), if it is not. */
  fault?: string;
}

/** The checkpoint of a generation on its primary (`position` 0 when there is none). */
export const readCheckpoint = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  generation: number,
): Promise<StoredCheckpoint> => {
  const stored = await redis.primary.hGetAll(keys.generation(projection, generation).checkpoint);
  return {
    position: BigInt(stored.position ?? '0'),
    missing: stored.position === undefined,
    ...(stored.recordedAt === undefined ? {} : { recordedAt: Number(stored.recordedAt) }),
    ...(stored.appliedAt === undefined ? {} : { appliedAt: Number(stored.appliedAt) }),
    ...(stored.eventPosition === undefined ? {} : { eventPosition: BigInt(stored.eventPosition) }),
    ...(stored.fault === undefined ? {} : { fault: stored.fault }),
  };
};

import type { Position, RecordedEvent } from '../eventstore/index.js';
import type { Redis } from '../redis/index.js';
import type { PositionedWrite, PreparedBatch } from './apply-batch.js';
import { type ParkedStreams, recordChecked, type Upcast } from './batch-builder.js';
import { GENERATION_KEYS, type ReadModelKeys } from './keys.js';
import { type Projection, type RedisWrite, WriteBatch } from './projection.js';

export interface ReplayOutcome {
  /** Applied (an event through the handlers, a refused write as it was) and removed from the parked entries. */
  replayed: number;
  /** Failed again, or held behind one of its stream that failed again: still parked, in order. */
  failed: number;
  /** Parked entries left in the generation after the replay. */
  remaining: number;
}

/** Parked entries read per page, and replayed per atomic apply. */
const PAGE = 500;

/** The parked JSON back into an event: bigints and dates were written as strings. */
export const reviveEvent = (stored: Record<string, unknown>): RecordedEvent => ({
  ...(stored as unknown as RecordedEvent),
  position: BigInt(String(stored.position)),
  revision: BigInt(String(stored.revision)),
  recordedAt: new Date(String(stored.recordedAt)),
});

const parsed = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export interface ReplayDeps {
  redis: Redis;
  keys: ReadModelKeys;
  projection: Projection;
  generation: number;
  upcast: Upcast;
  /** The projector's own: streams released by the replay leave it, streams that fail again stay. */
  parkedStreams: ParkedStreams;
  /** The checkpoint Redis holds: the replay's batches build on it and leave it where it is. */
  checkpoint: Position;
  /** Applies a batch as the projector applies its own (the same encoder and script, the lease checked). */
  apply: (batch: PreparedBatch) => Promise<number>;
}

/**
 * Replays a generation's parked entries oldest first, in pages, each page one atomic apply through the
 * projector's own path. An event goes through the upcaster and the handlers again; a refused write is tried
 * as it was. Once an event of a stream fails again, that stream's later entries stay parked behind it, so a
 * stream is applied in order or not at all. Run only by the projector, between two of its batches.
 */
export const replayParkedEntries = async (deps: ReplayDeps): Promise<ReplayOutcome> => {
  const { redis, keys, projection, generation, upcast } = deps;
  const generationKeys = keys.generation(projection.name, generation);
  /** Streams that failed again in this replay, at the position of the first entry still parked. */
  const stillParked = new Map<string, Position>();
  const outcome = { replayed: 0, failed: 0 };
  // Only entries parked before the replay began (a write refused again is parked anew, after them).
  const last = (await redis.primary.xRevRange(generationKeys.parked, '+', '-', { COUNT: 1 }))[0]?.id;
  let from = '-';
  while (last !== undefined) {
    const page = await redis.primary.xRange(generationKeys.parked, from, last, { COUNT: PAGE });
    if (page.length === 0) break;
    const w = new WriteBatch();
    const streamVersions = new Map<string, bigint>();
    let events = 0;
    let writesTried = 0;
    for (const { id, message: fields } of page) {
      const position = BigInt(fields.position ?? '0');
      const start = w.writes.length;
      const write = parsed(fields.write) as RedisWrite | undefined;
      const stored = parsed(fields.event) as Record<string, unknown> | undefined;
      if (write !== undefined) {
        // Only a write into this generation: the entry is data, not a license to write anywhere.
        if (typeof write.key !== 'string' || !write.key.startsWith(generationKeys.base)) {
          outcome.failed += 1;
          continue;
        }
        w.writes.push({
          command: write.command,
          key: write.key.slice(generationKeys.base.length),
          args: (write.args ?? []).map(String),
        });
        writesTried += 1;
      } else if (stored !== undefined) {
        const stream = fields.stream ?? String(stored.stream);
        if (stillParked.has(stream)) {
          outcome.failed += 1;
          continue;
        }
        try {
          const event = reviveEvent(stored);
          recordChecked(projection, event, w, upcast);
          streamVersions.set(stream, event.revision);
          events += 1;
        } catch {
          stillParked.set(stream, position);
          outcome.failed += 1;
          continue;
        }
      } else {
        outcome.failed += 1; // neither an event nor a write: left for a person to look at
        continue;
      }
      w.writes.push({ command: 'XDEL', key: GENERATION_KEYS.parked, args: [id] });
      for (let i = start; i < w.writes.length; i++) (w.writes[i] as PositionedWrite).position = position;
    }
    if (w.writes.length > 0) {
      const refused = await deps.apply({
        expectedCheckpoint: deps.checkpoint,
        checkpoint: deps.checkpoint,
        writes: w.writes as PositionedWrite[],
        streamVersions,
        eventCount: events,
      });
      outcome.replayed += events + writesTried - refused;
      outcome.failed += refused;
    }
    if (page.length < PAGE) break;
    from = `(${page.at(-1)!.id}`;
  }
  await releaseStreams(deps, stillParked);
  return { ...outcome, remaining: await redis.primary.xLen(generationKeys.parked) };
};

/** Streams whose parked entries all replayed are released; one that failed again waits behind its first. */
const releaseStreams = async (deps: ReplayDeps, stillParked: Map<string, Position>): Promise<void> => {
  const w = new WriteBatch();
  for (const stream of [...deps.parkedStreams.keys()]) {
    const at = stillParked.get(stream);
    if (at === undefined) {
      deps.parkedStreams.delete(stream);
      w.hdel(GENERATION_KEYS.parkedStreams, stream);
    } else if (at !== deps.parkedStreams.get(stream)) {
      deps.parkedStreams.set(stream, at);
      w.hset(GENERATION_KEYS.parkedStreams, { [stream]: String(at) });
    }
  }
  if (w.writes.length === 0) return;
  for (const write of w.writes) (write as PositionedWrite).position = deps.checkpoint;
  await deps.apply({
    expectedCheckpoint: deps.checkpoint,
    checkpoint: deps.checkpoint,
    writes: w.writes as PositionedWrite[],
    streamVersions: new Map(),
    eventCount: 0,
  });
};

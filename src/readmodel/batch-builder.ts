import type { Position, RecordedEvent } from '../eventstore/index.js';
import type { PositionedWrite, PreparedBatch } from './apply-batch.js';
import { WriteCoalescer } from './coalesce.js';
import { GENERATION_KEYS } from './keys.js';
import { type Projection, type RedisWrite, recordWrites, WriteBatch } from './projection.js';

const jsonWithBigints = (value: unknown): string =>
  JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));

const INTEGER = /^-?\d{1,18}$/; // well inside Redis's 64-bit integers
const isFloat = (value: string | undefined) =>
  value !== undefined && value !== '' && Number.isFinite(Number(value));

const refusal = ({ command, args }: RedisWrite, why: string): string =>
  `${command} ${why}: ${JSON.stringify(args).slice(0, 200)}`;

const scoresAreFinite = (args: string[]): boolean => {
  for (let i = 0; i < args.length; i += 2) if (!isFloat(args[i])) return false;
  return true;
};

/**
 * Most arguments one write may carry. The apply script unpacks a write's arguments onto the Lua C stack
 * (8000 slots in Redis's Lua 5.1); past that the script would fail half-way, outside its pcall.
 */
export const MAX_WRITE_ARGUMENTS = 7000;

/** Arguments Redis would reject, found before the batch goes out (a script cannot roll back a failed write). */
export const invalidArguments = (write: RedisWrite): string | undefined => {
  const { command, args } = write;
  if (args.length > MAX_WRITE_ARGUMENTS)
    return `${command} has ${args.length} arguments; one write may carry at most ${MAX_WRITE_ARGUMENTS}`;
  switch (command) {
    case 'HINCRBY':
      return args.length === 2 && INTEGER.test(args[1]!)
        ? undefined
        : refusal(write, 'needs a field and an integer');
    case 'INCRBY':
      return args.length === 1 && INTEGER.test(args[0]!) ? undefined : refusal(write, 'needs an integer');
    case 'ZINCRBY':
      return args.length === 2 && isFloat(args[0])
        ? undefined
        : refusal(write, 'needs a finite increment and a member');
    case 'ZADD':
      return args.length >= 2 && args.length % 2 === 0 && scoresAreFinite(args)
        ? undefined
        : refusal(write, 'needs finite score and member pairs');
    case 'HSET':
      return args.length >= 2 && args.length % 2 === 0
        ? undefined
        : refusal(write, 'needs field and value pairs');
    case 'SET':
      return args.length === 1 ? undefined : refusal(write, 'needs one value');
    case 'DEL':
      return undefined;
    default:
      return args.length >= 1 ? undefined : refusal(write, 'needs at least one argument');
  }
};

export type Upcast = (event: RecordedEvent) => RecordedEvent;

/**
 * Streams with a parked event in a generation, and the position of the first one (what GENERATION_KEYS
 * .parkedStreams holds): a later event of such a stream is held behind it, so the stream never skips an
 * event and never goes back when the parked one is replayed.
 */
export type ParkedStreams = Map<string, Position>;

/** A parked entry: the event as stored, its stream, the error; replayed in order with its stream's others. */
export const parkEvent = (w: WriteBatch, event: RecordedEvent, error: string): void => {
  w.writes.push({
    command: 'XADD',
    key: GENERATION_KEYS.parked,
    args: [
      '*',
      'position',
      String(event.position),
      'stream',
      event.stream,
      'error',
      error,
      'event',
      jsonWithBigints(event),
    ],
  });
};

/**
 * Runs the handler for one event into `w` (upcast first) and checks what it recorded; on a throw, or a
 * write Redis would refuse, the event's writes are taken back out of `w` and the error is thrown.
 */
export const recordChecked = (
  projection: Projection,
  event: RecordedEvent,
  w: WriteBatch,
  upcast?: Upcast,
): void => {
  const start = w.writes.length;
  try {
    recordWrites(projection, upcast ? upcast(event) : event, w);
    for (let i = start; i < w.writes.length; i++) {
      const problem = invalidArguments(w.writes[i]!);
      if (problem !== undefined) throw new Error(`handler recorded a write Redis would refuse: ${problem}`);
    }
  } catch (error) {
    w.writes.length = start;
    throw error;
  }
};

const NOT_PARKED: { parked?: unknown } = Object.freeze({});

/**
 * Upcasts and runs the handler into `w`, retrying a few times; an event that keeps failing (handler or
 * upcaster) is parked as it is stored, so the projection goes on instead of stalling on it. Answers the
 * last error when the event was parked.
 */
const recordOrPark = (
  projection: Projection,
  event: RecordedEvent,
  attempts: number,
  w: WriteBatch,
  upcast?: Upcast,
): { parked?: unknown } => {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      recordChecked(projection, event, w, upcast);
      return NOT_PARKED;
    } catch (error) {
      lastError = error;
    }
  }
  parkEvent(w, event, lastError instanceof Error ? lastError.message : String(lastError));
  return { parked: lastError };
};

/** Gathers events and checkpoint marks into one batch for one atomic apply. */
export class BatchBuilder {
  /** The handlers record straight into the batch: no array per event. */
  private recorded = new WriteBatch();
  private coalescer = new WriteCoalescer(MAX_WRITE_ARGUMENTS);
  private streamVersions = new Map<string, bigint>();
  private firstPosition: Position | undefined;
  private position: Position;
  private newestRecordedAt: number | undefined;
  private newestEventPosition: Position | undefined;
  eventCount = 0;
  parkedCount = 0;

  constructor(
    private readonly projection: Projection,
    private readonly handlerAttempts: number,
    /** The stored checkpoint: nothing at or before it is taken again. */
    private checkpoint: Position,
    private readonly upcast: Upcast,
    /** Shared with the projector (a replay releases streams from it); the batch adds those it parks. */
    private readonly parkedStreams: ParkedStreams = new Map(),
  ) {
    this.position = checkpoint;
  }

  get isEmpty(): boolean {
    return this.firstPosition === undefined;
  }

  get size(): number {
    return this.eventCount;
  }

  /** Answers the error when the event was parked: `held` when only because its stream had one parked. */
  addEvent(event: RecordedEvent): { parked?: unknown; held?: boolean } {
    // Before the checkpoint: already applied (a redelivery). Equal is a new event: the events of one
    // EventStoreDB transaction share a commit position, and the store deduplicates on the whole position.
    if (event.position < this.position) return NOT_PARKED;
    const { writes } = this.recorded;
    const start = writes.length;
    const blockedAt = this.parkedStreams.get(event.stream);
    const outcome =
      blockedAt === undefined
        ? recordOrPark(this.projection, event, this.handlerAttempts, this.recorded, this.upcast)
        : this.hold(event, blockedAt);
    // The handler's write objects are fresh: tag them in place rather than copy one object per write, and
    // fold what can be folded into the batch's earlier writes (see WriteCoalescer).
    let kept = start;
    for (let i = start; i < writes.length; i++) {
      const write = writes[i] as PositionedWrite;
      write.position = event.position;
      if (!this.coalescer.fold(write)) writes[kept++] = write;
    }
    writes.length = kept;
    if (outcome.parked === undefined) {
      this.streamVersions.set(event.stream, event.revision);
    } else {
      // The stream's version stays before the parked event: a minVersion wait for it is never fresh.
      this.parkedCount += 1;
      if (blockedAt === undefined) this.blockStream(event);
    }
    this.firstPosition ??= event.position;
    this.position = event.position;
    this.newestRecordedAt = event.recordedAt.getTime();
    this.newestEventPosition = event.position;
    this.eventCount += 1;
    return outcome;
  }

  /** A later event of a stream with a parked event waits behind it, parked too, its handler not run. */
  private hold(event: RecordedEvent, blockedAt: Position): { parked: unknown; held: true } {
    const why = `held behind the event of ${event.stream} parked at position ${blockedAt}`;
    parkEvent(this.recorded, event, why);
    return { parked: why, held: true };
  }

  private blockStream(event: RecordedEvent): void {
    this.parkedStreams.set(event.stream, event.position);
    const write: PositionedWrite = {
      command: 'HSET',
      key: GENERATION_KEYS.parkedStreams,
      args: [event.stream, String(event.position)],
      position: event.position,
    };
    this.recorded.writes.push(write);
  }

  /** Everything up to `position` has been scanned: the checkpoint may move there even without events. */
  advanceTo(position: Position): void {
    if (position <= this.position) return;
    this.firstPosition ??= position;
    this.position = position;
  }

  /** Hands out the batch and starts an empty one after it. */
  take(): PreparedBatch | undefined {
    if (this.firstPosition === undefined) return undefined;
    const batch: PreparedBatch = {
      expectedCheckpoint: this.checkpoint,
      checkpoint: this.position,
      writes: this.recorded.writes as PositionedWrite[],
      streamVersions: this.streamVersions,
      eventCount: this.eventCount,
      parkedCount: this.parkedCount,
      ...(this.newestRecordedAt === undefined ? {} : { newestRecordedAt: this.newestRecordedAt }),
      ...(this.newestEventPosition === undefined ? {} : { newestEventPosition: this.newestEventPosition }),
    };
    this.checkpoint = this.position;
    this.recorded = new WriteBatch();
    this.coalescer = new WriteCoalescer(MAX_WRITE_ARGUMENTS);
    this.streamVersions = new Map();
    this.firstPosition = undefined;
    this.newestRecordedAt = undefined;
    this.newestEventPosition = undefined;
    this.eventCount = 0;
    this.parkedCount = 0;
    return batch;
  }

  get storedCheckpoint(): Position {
    return this.checkpoint;
  }
}

import type { Position, RecordedEvent } from '../eventstore';
import type { PositionedWrite, PreparedBatch } from './apply-batch';
import { type Projection, type RedisWrite, recordWrites, WriteBatch } from './projection';

/** Relative key of a generation's parked-events stream (see ReadModelKeys.generation().parked). */
export const PARKED_RELATIVE_KEY = '_parked';

const jsonWithBigints = (value: unknown): string =>
  JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));

const INTEGER = /^-?\d{1,18}$/; // well inside Redis's 64-bit integers
const isFloat = (value: string | undefined) =>
  value !== undefined && value !== '' && Number.isFinite(Number(value));

/** Arguments Redis would reject, found before the batch goes out (a script cannot roll back a failed write). */
export const invalidArguments = ({ command, args }: RedisWrite): string | undefined => {
  const bad = (why: string) => `${command} ${why}: ${JSON.stringify(args).slice(0, 200)}`;
  switch (command) {
    case 'HINCRBY':
      return args.length === 2 && INTEGER.test(args[1]!) ? undefined : bad('needs a field and an integer');
    case 'INCRBY':
      return args.length === 1 && INTEGER.test(args[0]!) ? undefined : bad('needs an integer');
    case 'ZINCRBY':
      return args.length === 2 && isFloat(args[0]) ? undefined : bad('needs a finite increment and a member');
    case 'ZADD':
      return args.length >= 2 && args.length % 2 === 0 && args.every((a, i) => i % 2 === 1 || isFloat(a))
        ? undefined
        : bad('needs finite score and member pairs');
    case 'HSET':
      return args.length >= 2 && args.length % 2 === 0 ? undefined : bad('needs field and value pairs');
    case 'SET':
      return args.length === 1 ? undefined : bad('needs one value');
    case 'DEL':
      return undefined;
    default:
      return args.length >= 1 ? undefined : bad('needs at least one argument');
  }
};

export type Upcast = (event: RecordedEvent) => RecordedEvent;

/** The writes a handler recorded for one event; throws as the handler would on writes Redis would refuse. */
const checkedWrites = (projection: Projection, event: RecordedEvent, upcast?: Upcast): RedisWrite[] => {
  const { writes } = recordWrites(projection, upcast ? upcast(event) : event, new WriteBatch());
  for (const write of writes) {
    const problem = invalidArguments(write);
    if (problem !== undefined) throw new Error(`handler recorded a write Redis would refuse: ${problem}`);
  }
  return writes;
};

/**
 * Upcasts and runs the handler, retrying a few times; an event that keeps failing (handler or upcaster)
 * is parked as it is stored, so the projection goes on instead of stalling on it.
 */
export const writesFor = (
  projection: Projection,
  event: RecordedEvent,
  attempts: number,
  upcast?: Upcast,
): { writes: RedisWrite[]; parked?: unknown } => {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return { writes: checkedWrites(projection, event, upcast) };
    } catch (error) {
      lastError = error;
    }
  }
  const message = lastError instanceof Error ? lastError.message : String(lastError);
  return {
    parked: lastError,
    writes: [
      {
        command: 'XADD',
        key: PARKED_RELATIVE_KEY,
        args: ['*', 'position', String(event.position), 'error', message, 'event', jsonWithBigints(event)],
      },
    ],
  };
};

/** Gathers events and checkpoint marks into one batch for one atomic apply. */
export class BatchBuilder {
  private writes: PositionedWrite[] = [];
  private streamVersions = new Map<string, bigint>();
  private firstPosition: Position | undefined;
  private position: Position;
  private newestRecordedAt: number | undefined;
  eventCount = 0;
  parkedCount = 0;

  constructor(
    private readonly projection: Projection,
    private readonly handlerAttempts: number,
    /** The stored checkpoint: nothing at or before it is taken again. */
    private checkpoint: Position,
    private readonly upcast?: Upcast,
  ) {
    this.position = checkpoint;
  }

  get isEmpty(): boolean {
    return this.firstPosition === undefined;
  }

  get size(): number {
    return this.eventCount;
  }

  addEvent(event: RecordedEvent): { parked?: unknown } {
    if (event.position <= this.position) return {}; // a redelivery after a resubscribe
    const { writes, parked } = writesFor(this.projection, event, this.handlerAttempts, this.upcast);
    // The handler's write objects are fresh: tag them in place rather than copy one object per write.
    for (const write of writes) {
      (write as PositionedWrite).position = event.position;
      this.writes.push(write as PositionedWrite);
    }
    if (parked !== undefined) this.parkedCount += 1;
    this.streamVersions.set(event.stream, event.revision);
    this.firstPosition ??= event.position;
    this.position = event.position;
    this.newestRecordedAt = event.recordedAt.getTime();
    this.eventCount += 1;
    return parked === undefined ? {} : { parked };
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
      writes: this.writes,
      streamVersions: this.streamVersions,
      eventCount: this.eventCount,
      ...(this.newestRecordedAt === undefined ? {} : { newestRecordedAt: this.newestRecordedAt }),
    };
    this.checkpoint = this.position;
    this.writes = [];
    this.streamVersions = new Map();
    this.firstPosition = undefined;
    this.newestRecordedAt = undefined;
    this.eventCount = 0;
    this.parkedCount = 0;
    return batch;
  }

  get storedCheckpoint(): Position {
    return this.checkpoint;
  }
}

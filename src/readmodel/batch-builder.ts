import type { Position, RecordedEvent } from '../eventstore';
import type { PreparedBatch } from './apply-batch';
import { type Projection, type RedisWrite, recordWrites, WriteBatch } from './projection';

/** Relative key of a generation's parked-events stream (see ReadModelKeys.generation().parked). */
export const PARKED_RELATIVE_KEY = '_parked';

const jsonWithBigints = (value: unknown): string =>
  JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));

/** Runs the handler, retrying a few times; a handler that keeps throwing parks its event instead. */
export const writesFor = (
  projection: Projection,
  event: RecordedEvent,
  attempts: number,
): { writes: RedisWrite[]; parked?: unknown } => {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return { writes: recordWrites(projection, event, new WriteBatch()).writes };
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
  private writes: RedisWrite[] = [];
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
    const { writes, parked } = writesFor(this.projection, event, this.handlerAttempts);
    for (const write of writes) this.writes.push(write);
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
      firstPosition: this.firstPosition,
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

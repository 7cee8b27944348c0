/** The event-store port. Adapters: sqlite.ts (embedded), esdb.ts (EventStoreDB / KurrentDB). */

/** Global, strictly increasing position of an event in the store. In JSON and Redis: a decimal string. */
export type Position = bigint;
/** Revision of an event inside its stream; the first event of a stream has revision 0. */
export type StreamRevision = bigint;
export type StreamName = string;

/**
 * Stores refuse an empty stream name (EventStoreDB does too), so no stream is named '': the read model
 * keeps its own marks under that name beside stream versions (GENERATION_KEYS.streamVersionsFault).
 */
export const assertStreamName = (stream: unknown): void => {
  if (typeof stream !== 'string' || stream === '')
    throw new TypeError('stream name must be a non-empty string');
};

export type ExpectedRevision = StreamRevision | 'no_stream' | 'stream_exists' | 'any';

export type EventMetadata = Record<string, unknown>;

export interface NewEvent {
  /** UUID. Appending the same ids again at the same expected revision is a no-op that answers as the first append did. */
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  id: string;
  stream: StreamName;
  revision: StreamRevision;
  position: Position;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the last event appended (the stream's revision after the append). */
  nextRevision: StreamRevision;
  /** Global position of the last event appended. */
  position: Position;
  /**
   * True when an earlier append had stored these very events (same ids, same expectation): nothing was
   * written, and this is its result. A store that cannot tell (EventStoreDB answers such a retry as it
   * answers a write) leaves it out.
   */
  alreadyStored?: boolean;
}

export interface SubscriptionFilter {
  /** Keep events whose stream name starts with one of these. */
  streamPrefixes?: string[];
  /** Keep events of one of these types. */
  eventTypes?: string[];
}

/**
 * What a subscription hands out, in position order:
 * - `event`: an event that passed the filter;
 * - `checkpoint`: everything up to `position` has been scanned (filtered-out events included),
 *   so a consumer may advance its checkpoint there even when no event matched;
 * - `caught-up`: the subscription has reached the head that existed when it was noticed and now tails live.
 */
export type SubscriptionMessage =
  | { kind: 'event'; event: RecordedEvent }
  | { kind: 'checkpoint'; position: Position }
  | { kind: 'caught-up'; position: Position };

export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** `start`, or a position already processed: the subscription hands out events strictly after it. */
  from: Position | 'start';
  filter?: SubscriptionFilter;
}

/** A page of `$all` read backwards: newest first, filtered. */
export interface ReadBackwardsOptions {
  /** Only events before this position (exclusive); from the end of the store when absent. */
  before?: Position;
  /** At most this many events in the page. */
  limit: number;
  /** Keep events whose stream name starts with one of these. */
  streamPrefixes?: string[];
  /** Keep events of one of these types. */
  eventTypes?: string[];
  /** Keep events whose metadata has this correlationId. */
  correlationId?: string;
  /**
   * Look at no more than this many events (default 10,000): a filter that matches rarely answers a short
   * page and `next`, instead of scanning the whole store in one call.
   */
  scanLimit?: number;
}

export interface BackwardsPage {
  /** Newest first. */
  events: RecordedEvent[];
  /** Pass as `before` for the next (older) page; absent when the start of the store was reached. */
  next?: Position;
}

export const DEFAULT_BACKWARDS_SCAN_LIMIT = 10_000;

/** Whether a recorded event passes a backwards read's filters (adapters that filter in memory use it). */
export const matchesBackwardsFilter = (event: RecordedEvent, opts: ReadBackwardsOptions): boolean =>
  (opts.streamPrefixes === undefined ||
    opts.streamPrefixes.some((prefix) => event.stream.startsWith(prefix))) &&
  (opts.eventTypes === undefined || opts.eventTypes.includes(event.type)) &&
  (opts.correlationId === undefined || event.metadata.correlationId === opts.correlationId);

export interface EventStore {
  append(
    stream: StreamName,
    events: NewEvent[],
    opts: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;
  /** Events of one stream in revision order; a stream that does not exist yields nothing. */
  readStream(stream: StreamName, opts?: { fromRevision?: StreamRevision }): AsyncIterable<RecordedEvent>;
  subscribeAll(opts: SubscribeOptions): Subscription;
  /** One page of `$all`, newest first (what an operator browses: recent events, a correlation id). */
  readAllBackwards(opts: ReadBackwardsOptions): Promise<BackwardsPage>;
  /** Position of the newest event in the store (0n when empty). */
  headPosition(): Promise<Position>;
  /** Throws EventStoreUnavailable when the store does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class WrongExpectedVersion extends Error {
  override readonly name = 'WrongExpectedVersion';
  constructor(
    readonly stream: StreamName,
    readonly expected: ExpectedRevision,
    /** The stream's current revision, or `no_stream`. */
    readonly actual: StreamRevision | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/** The store could not be reached or refused to write; whether the append happened is unknown unless stated. */
export class EventStoreUnavailable extends Error {
  override readonly name = 'EventStoreUnavailable';
  /** What failed, as the store names it (`SQLITE_FULL`, `SQLITE_IOERR`, `FILE_REPLACED`…), when known. */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code;
  }
}

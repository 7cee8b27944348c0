/**
 * The event store on EventStoreDB / KurrentDB (server 22.6+; written for 24.10, not yet run against one)
 * through @eventstore/db-client 6.x over gRPC. Translations live in esdb-mapping.ts, the resubscribing
 * $all subscription in esdb-subscription.ts.
 */

import type { AllStreamResolvedEvent, ResolvedEvent, StreamingRead } from '@eventstore/db-client';
import { BACKWARDS, END, EventStoreDBClient, START } from '@eventstore/db-client';
import { withDeadline } from '../deadline/index.js';
import {
  commitPositionOf,
  isStreamNotFoundError,
  isSystemStream,
  toClientExpectedRevision,
  toEventData,
  toRecordedEvent,
  toStoreError,
} from './esdb-mapping.js';
import { EsdbSubscription } from './esdb-subscription.js';
import type {
  AppendResult,
  BackwardsPage,
  EventStore,
  ExpectedRevision,
  NewEvent,
  Position,
  ReadBackwardsOptions,
  RecordedEvent,
  StreamName,
  StreamRevision,
  SubscribeOptions,
  Subscription,
} from './event-store.js';
import {
  assertStreamName,
  DEFAULT_BACKWARDS_SCAN_LIMIT,
  EventStoreUnavailable,
  matchesBackwardsFilter,
} from './event-store.js';

/** Streaming reads get no deadline from the client (it passes Infinity), so we set our own limits. */
const PING_TIMEOUT_MS = 2_000;
const READ_TIMEOUT_MS = 10_000;
/** Past the server's own 10 s append deadline: only a silent network (a black hole) gets here. */
const APPEND_TIMEOUT_MS = 15_000;
/** How far back headPosition looks for a non-system event before settling for the newest event of all. */
const HEAD_SCAN_EVENTS = 256;

const ignore = (): void => {};

/** Resolves with `work`, or rejects with EventStoreUnavailable after `ms` and calls `abandon`. */
const withTimeLimit = <T>(work: Promise<T>, ms: number, what: string, abandon = ignore): Promise<T> =>
  withDeadline(work, ms, () => {
    abandon();
    return new EventStoreUnavailable(`EventStoreDB did not answer ${what} within ${ms} ms`);
  });

const abandonRead = (read: StreamingRead<unknown>) => (): void => {
  read.cancel().catch(ignore);
  read.destroy();
};

export class EsdbEventStore implements EventStore {
  readonly #client: EventStoreDBClient;
  readonly #subscriptions = new Set<EsdbSubscription>();
  #closing: Promise<void> | undefined;

  private constructor(client: EventStoreDBClient) {
    this.#client = client;
  }

  /**
   * Parses the connection string now (a bad one stops start-up) but dials lazily, on the first call, so the
   * process may start before the server and /ready reports the truth. Open one store per process: the
   * client multiplexes every call over one HTTP/2 channel.
   */
  static async connect(connectionString: string): Promise<EsdbEventStore> {
    return new EsdbEventStore(EventStoreDBClient.connectionString(connectionString));
  }

  async append(
    stream: StreamName,
    events: NewEvent[],
    opts: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.#assertOpen();
    assertStreamName(stream);
    if (events.length === 0) throw new RangeError(`append to ${stream} needs at least one event`);
    const attempt = { stream, expected: opts.expectedRevision };
    try {
      const appending = this.#client.appendToStream(stream, events.map(toEventData), {
        expectedRevision: toClientExpectedRevision(opts.expectedRevision),
      });
      const result = await withTimeLimit(appending, APPEND_TIMEOUT_MS, `an append to ${stream}`);
      const nextRevision = result.nextExpectedRevision;
      // An idempotent re-append is answered without a position; the events' own position is the answer.
      const position = result.position?.commit ?? (await this.#positionOf(stream, nextRevision));
      return { nextRevision, position };
    } catch (err) {
      throw toStoreError(err, attempt);
    }
  }

  async *readStream(
    stream: StreamName,
    opts?: { fromRevision?: StreamRevision },
  ): AsyncIterable<RecordedEvent> {
    this.#assertOpen();
    const read = this.#client.readStream(stream, { fromRevision: opts?.fromRevision ?? START });
    let finished = false;
    try {
      for await (const resolved of read) yield this.#recorded(resolved, stream);
      finished = true;
    } catch (err) {
      if (isStreamNotFoundError(err)) return; // surfaces on the first step: a stream never written is empty
      throw toStoreError(err);
    } finally {
      // The caller stopped early: stop the server sending the rest.
      if (!finished) abandonRead(read)();
    }
  }

  subscribeAll(opts: SubscribeOptions): Subscription {
    this.#assertOpen();
    const subscription: EsdbSubscription = new EsdbSubscription(
      this.#client,
      opts,
      () => this.#endOfAll(READ_TIMEOUT_MS),
      () => this.#subscriptions.delete(subscription),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /**
   * A page of `$all` backwards, filtered here (readAll has no server-side filter): at most `scanLimit`
   * records looked at, system streams skipped. Events written over gRPC have prepare = commit.
   */
  async readAllBackwards(opts: ReadBackwardsOptions): Promise<BackwardsPage> {
    const scanLimit = opts.scanLimit ?? DEFAULT_BACKWARDS_SCAN_LIMIT;
    const read = this.#client.readAll({
      direction: BACKWARDS,
      fromPosition: opts.before === undefined ? END : { commit: opts.before, prepare: opts.before },
      maxCount: scanLimit,
    });
    const scan = async (): Promise<BackwardsPage> => {
      const events: RecordedEvent[] = [];
      let scanned = 0;
      let last: Position | undefined;
      for await (const resolved of read) {
        scanned += 1;
        const event = toRecordedEvent(resolved);
        if (event === undefined) continue;
        last = event.position;
        if (opts.before !== undefined && event.position >= opts.before) continue;
        if (isSystemStream(event.stream) || !matchesBackwardsFilter(event, opts)) continue;
        events.push(event);
        if (events.length === opts.limit) return { events, next: event.position };
      }
      return scanned < scanLimit || last === undefined ? { events } : { events, next: last };
    };
    try {
      return await withTimeLimit(scan(), READ_TIMEOUT_MS, 'a backwards read of $all', abandonRead(read));
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /**
   * Position of the newest event in a user stream: the server's own $-streams ($stats-…, $settings) move
   * the raw end of $all but never reach a subscriber, so counting them would leave lag above zero forever.
   */
  async headPosition(): Promise<Position> {
    const read = this.#client.readAll({
      direction: BACKWARDS,
      fromPosition: END,
      maxCount: HEAD_SCAN_EVENTS,
    });
    const scan = async (): Promise<Position> => {
      let newest: Position | undefined;
      let scanned = 0;
      for await (const resolved of read) {
        scanned += 1;
        const position = commitPositionOf(resolved);
        newest ??= position;
        if (position !== undefined && isUserEvent(resolved)) return position;
      }
      // Reached the start without a user event: empty. Ran out of window: the newest event is an upper bound.
      return scanned < HEAD_SCAN_EVENTS ? 0n : (newest ?? 0n);
    };
    try {
      return await withTimeLimit(scan(), READ_TIMEOUT_MS, 'a read of $all', abandonRead(read));
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /** One event read backwards from the end of $all: cheap, and it needs a node that serves reads. */
  async ping(): Promise<void> {
    try {
      await this.#endOfAll(PING_TIMEOUT_MS);
    } catch (err) {
      throw err instanceof EventStoreUnavailable
        ? err
        : new EventStoreUnavailable(`EventStoreDB ping failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Ends every subscription, then releases the client's streams. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#subscriptions].map((s) => s.close()));
      await this.#client.dispose();
    })();
    return this.#closing;
  }

  /** Position of the newest record of $all, system streams included; 0n when there is none. */
  async #endOfAll(timeoutMs: number): Promise<Position> {
    const read = this.#client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
    const newest = async (): Promise<Position> => {
      for await (const resolved of read) return commitPositionOf(resolved) ?? 0n;
      return 0n;
    };
    try {
      return await withTimeLimit(newest(), timeoutMs, 'a read of the end of $all', abandonRead(read));
    } catch (err) {
      throw toStoreError(err);
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('EsdbEventStore is closed');
  }

  #recorded(resolved: ResolvedEvent, stream: StreamName): RecordedEvent {
    const event = toRecordedEvent(resolved);
    // Servers before 22.6 send stream events without a position; the port cannot do without one.
    if (event === undefined) throw new Error(`EventStoreDB sent an event of ${stream} without a position`);
    return event;
  }

  async #positionOf(stream: StreamName, revision: StreamRevision): Promise<Position> {
    const read = this.#client.readStream(stream, { fromRevision: revision, maxCount: 1 });
    for await (const resolved of read) return this.#recorded(resolved, stream).position;
    throw new Error(`EventStoreDB has no event ${revision} in ${stream} right after appending it`);
  }
}

const isUserEvent = (resolved: AllStreamResolvedEvent): boolean =>
  resolved.event !== undefined && !isSystemStream(resolved.event.streamId);

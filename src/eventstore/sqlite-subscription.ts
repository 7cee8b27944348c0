import type {
  Position,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
  SubscriptionMessage,
} from './event-store';
import type { EventRow } from './sqlite-db';
import { sharedRecordedEvent } from './sqlite-db';

/** What a subscription needs from its store. */
export interface SubscriptionSource {
  /** Up to `limit` events strictly after `after`, in position order. */
  readPage(after: Position, limit: number): EventRow[];
  /** Calls `listener` once after the next commit that wrote events in this process; answers an unregister. */
  onNextAppend(listener: () => void): () => void;
  /** Called when the subscription ends, however it ends. */
  forget(subscription: SqliteSubscription): void;
}

export interface SubscriptionTuning {
  pageSize: number;
  /** How often a live subscription looks for events written by another process on the same file. */
  pollIntervalMs: number;
}

type RowFilter = (row: EventRow) => boolean;

/** Empty lists count as "no constraint"; with both lists an event must match both. */
const compileFilter = (filter: SubscriptionFilter | undefined): RowFilter => {
  const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes : undefined;
  const types = filter?.eventTypes?.length ? new Set(filter.eventTypes) : undefined;
  return (row) =>
    (prefixes === undefined || prefixes.some((prefix) => row.stream.startsWith(prefix))) &&
    (types === undefined || types.has(row.type));
};

/**
 * Catch-up then live subscription over the events table. It reads one page only when the consumer
 * has taken the previous one (backpressure: at most a page buffered), is woken in-process by appends,
 * and polls every `pollIntervalMs` for appends made by other processes.
 */
export class SqliteSubscription implements Subscription {
  #closed = false;
  #wake: (() => void) | undefined;
  #messages: AsyncGenerator<SubscriptionMessage> | undefined;
  readonly #matches: RowFilter;

  constructor(
    private readonly source: SubscriptionSource,
    private readonly options: SubscribeOptions,
    private readonly tuning: SubscriptionTuning,
  ) {
    this.#matches = compileFilter(options.filter);
  }

  /** One iteration per subscription: asking again answers the same iterator. */
  [Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    this.#messages ??= this.#run();
    return this.#messages;
  }

  /** Ends the iteration: a pending next() resolves done. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.source.forget(this);
  }

  async *#run(): AsyncGenerator<SubscriptionMessage> {
    try {
      yield* this.#catchUpThenTail();
    } finally {
      await this.close();
    }
  }

  async *#catchUpThenTail(): AsyncGenerator<SubscriptionMessage> {
    let after = this.options.from === 'start' ? 0n : this.options.from;
    let caughtUp = false;
    while (!this.#closed) {
      const rows = this.source.readPage(after, this.tuning.pageSize);
      for (const message of this.#pageMessages(rows)) {
        yield message;
        if (this.#closed) return;
      }
      after = rows.at(-1)?.position ?? after;
      if (rows.length === this.tuning.pageSize) continue;
      if (!caughtUp) {
        caughtUp = true;
        // A short page means nothing after `after` was committed when it was read: that was the head.
        yield { kind: 'caught-up', position: after };
        continue;
      }
      // Yields happened since that read, so appends may have slipped in: sleep only after an empty read.
      if (rows.length === 0) await this.#nextAppendOrPoll();
    }
  }

  *#pageMessages(rows: EventRow[]): Generator<SubscriptionMessage> {
    let skipped = false;
    for (const row of rows) {
      if (this.#matches(row)) yield { kind: 'event', event: sharedRecordedEvent(row) };
      else skipped = true;
    }
    // Lets a filtered consumer advance its checkpoint even when nothing matched.
    if (skipped) yield { kind: 'checkpoint', position: rows.at(-1)!.position };
  }

  #nextAppendOrPoll(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        unregister();
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, this.tuning.pollIntervalMs);
      const unregister = this.source.onNextAppend(wake);
      this.#wake = wake;
    });
  }
}

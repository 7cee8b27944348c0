import type {
  Position,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
  SubscriptionMessage,
} from './event-store.js';
import { type EventPage, type EventRow, ROW } from './sqlite-db.js';

/** What a subscription needs from its store. */
export interface SubscriptionSource {
  /** Up to `limit` events strictly after `after`, in position order. */
  readPage(after: Position, limit: number): EventPage;
  /** `subscription` has handed out every message of `page`. */
  finishedPage(page: EventPage, subscription: SqliteSubscription): void;
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

/** Empty lists count as "no constraint"; with both lists an event must match both. Runs once per row. */
const compileFilter = (filter: SubscriptionFilter | undefined): RowFilter => {
  const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes : undefined;
  const types = filter?.eventTypes?.length ? new Set(filter.eventTypes) : undefined;
  const streamMatches = (stream: string): boolean => {
    if (prefixes === undefined) return true;
    for (const prefix of prefixes) if (stream.startsWith(prefix)) return true;
    return false;
  };
  return (row) => streamMatches(row[ROW.stream]) && (types === undefined || types.has(row[ROW.type]));
};

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const message = (value: SubscriptionMessage): IteratorYieldResult<SubscriptionMessage> => ({
  done: false,
  value,
});

/** What to do once the page in hand is handed out. */
type AfterPage = 'read' | 'announce-caught-up' | 'wait';

/**
 * Catch-up then live subscription over the events table. It reads one page only when the consumer
 * has taken the previous one (backpressure: at most a page buffered), is woken in-process by appends,
 * and polls every `pollIntervalMs` for appends made by other processes.
 *
 * A hand-written iterator rather than an async generator: a message already in hand is answered with one
 * resolved promise, with none of a generator's per-item machinery (catch-up hands out millions of them).
 */
export class SqliteSubscription implements Subscription, AsyncIterator<SubscriptionMessage> {
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #matches: RowFilter;
  /** Everything up to here has been handed out. */
  #after: Position;
  #caughtUp = false;
  #page: EventPage | undefined;
  #index = 0;
  #skipped = false;
  #afterPage: AfterPage = 'read';
  /** The last answer not yet settled (a next() waiting for an append, or calls queued behind one). */
  #queue: Promise<IteratorResult<SubscriptionMessage>> | undefined;

  constructor(
    private readonly source: SubscriptionSource,
    options: SubscribeOptions,
    private readonly tuning: SubscriptionTuning,
  ) {
    this.#matches = compileFilter(options.filter);
    this.#after = options.from === 'start' ? 0n : options.from;
  }

  /** Everything up to here has been handed out (or is in the page in hand). */
  get position(): Position {
    return this.#after;
  }

  /** One iteration per subscription: asking again answers the same iterator. */
  [Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    return this;
  }

  /** Calls are answered in the order they were made, as an async generator would answer them. */
  next(): Promise<IteratorResult<SubscriptionMessage>> {
    const queue = this.#queue;
    if (queue !== undefined) {
      const answer = () => this.#inHand() ?? this.#waitForAppends();
      return this.#enqueue(queue.then(answer, answer));
    }
    return this.#inHand() ?? this.#enqueue(this.#waitForAppends());
  }

  /** The next message if it can be read now (settled); undefined when it has to wait for an append. */
  #inHand(): Promise<IteratorResult<SubscriptionMessage>> | undefined {
    try {
      const result = this.#nextInHand();
      return result === undefined ? undefined : Promise.resolve(result);
    } catch (error) {
      return this.#fail(error);
    }
  }

  #enqueue(
    answer: Promise<IteratorResult<SubscriptionMessage>>,
  ): Promise<IteratorResult<SubscriptionMessage>> {
    this.#queue = answer;
    const settled = () => {
      if (this.#queue === answer) this.#queue = undefined;
    };
    answer.then(settled, settled);
    return answer;
  }

  /** A consumer that stops iterating (break, throw) closes the subscription. */
  async return(): Promise<IteratorResult<SubscriptionMessage>> {
    await this.close();
    return DONE;
  }

  /** Ends the iteration: a pending next() resolves done. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#page = undefined;
    this.#wake?.();
    this.source.forget(this);
  }

  /** The next message, reading pages as needed; undefined when nothing is left to read right now. */
  #nextInHand(): IteratorResult<SubscriptionMessage> | undefined {
    while (!this.#closed) {
      const page = this.#page;
      if (page !== undefined) {
        const { rows } = page;
        while (this.#index < rows.length) {
          const index = this.#index++;
          if (this.#matches(rows[index]!)) return message(page.messageAt(index));
          this.#skipped = true;
        }
        this.#page = undefined;
        this.source.finishedPage(page, this);
        if (rows.length > 0) {
          this.#after = rows[rows.length - 1]![ROW.position];
          // Lets a filtered consumer advance its checkpoint even when nothing matched.
          if (this.#skipped) {
            this.#skipped = false;
            return message({ kind: 'checkpoint', position: this.#after });
          }
        }
      }
      switch (this.#afterPage) {
        case 'announce-caught-up':
          this.#caughtUp = true;
          this.#afterPage = 'read';
          return message({ kind: 'caught-up', position: this.#after });
        case 'wait':
          this.#afterPage = 'read';
          return undefined;
        case 'read':
          this.#readPage();
      }
    }
    return DONE;
  }

  #readPage(): void {
    const page = this.source.readPage(this.#after, this.tuning.pageSize);
    const count = page.rows.length;
    this.#page = page;
    this.#index = 0;
    if (count === this.tuning.pageSize) this.#afterPage = 'read';
    // A short page means nothing after it was committed when it was read: that was the head.
    else if (!this.#caughtUp) this.#afterPage = 'announce-caught-up';
    // Messages went out since that read, so appends may have slipped in: sleep only after an empty read.
    else this.#afterPage = count === 0 ? 'wait' : 'read';
  }

  async #waitForAppends(): Promise<IteratorResult<SubscriptionMessage>> {
    for (;;) {
      await this.#nextAppendOrPoll();
      const answer = this.#inHand();
      if (answer !== undefined) return answer;
    }
  }

  /** A failed read ends the subscription, as a failing generator would. */
  async #fail(error: unknown): Promise<never> {
    await this.close();
    throw error;
  }

  #nextAppendOrPoll(): Promise<void> {
    if (this.#closed) return Promise.resolve();
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

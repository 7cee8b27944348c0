/**
 * A catch-up subscription to $all that survives dropped connections. The client never resubscribes by
 * itself, so this re-opens the subscription, with backoff, after the last position it handed out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  EventStoreDBClient,
} from '@eventstore/db-client';
import {
  isWorthResubscribing,
  MAX_VALID_POSITION,
  matchesFilter,
  resubscribeDelayMs,
  toClientReadPosition,
  toRecordedEvent,
  toServerFilter,
  toStoreError,
} from './esdb-mapping.js';
import type {
  Position,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
  SubscriptionMessage,
} from './event-store.js';

/** What the adapter pushes into the client's stream beside its events, so both come out in server order. */
export class ServerMark {
  constructor(
    readonly kind: 'checkpoint' | 'caught-up',
    readonly position: Position = 0n,
    /** A checkpoint's prepare position (the commit position is `position`). */
    readonly prepare: Position = position,
  ) {}
}

/** Where a record sits in $all: by commit position, then prepare position (a transaction shares one commit). */
interface LogPosition {
  commit: Position;
  prepare: Position;
}

const after = (a: LogPosition, b: LogPosition): boolean =>
  a.commit > b.commit || (a.commit === b.commit && a.prepare > b.prepare);

/**
 * Turns what the server sends into port messages (pure; no I/O): events in log order (a repeat after a
 * resubscribe is dropped), checkpoints that only move forward, one caught-up mark, and where to resume.
 *
 * Events are deduplicated on their whole log position, commit and prepare: the events of one transaction
 * share a commit position, and all of them must pass. A checkpoint whose prepare position differs from its
 * commit position is dropped: some 24.10 patches (KurrentDB #4970, fixed by PR #4990) send filtered
 * subscriptions a checkpoint at the end of the log with prepare 0, and the next event is written at exactly
 * that commit position; taking the checkpoint would drop that event as already seen, and would let a
 * consumer store a checkpoint past an event it never got.
 */
export class SubscriptionProgress {
  /** The resume bound: the commit position of the last event or checkpoint handed out (0n = nothing yet). */
  #last: Position;
  /** The last event handed out, for deduplication. */
  #lastEvent: LogPosition | undefined;
  #caughtUp = false;
  #scanTarget: Position | undefined;

  constructor(
    from: Position | 'start',
    private readonly filter?: SubscriptionFilter,
  ) {
    this.#last = from === 'start' ? 0n : from;
  }

  /** The last position handed out (event or mark); 0n = nothing yet. */
  get resumeFrom(): Position {
    return this.#last;
  }

  /**
   * Called before each (re)subscribe with the end of $all. The server scans at least that far before it
   * says caught-up, so its caught-up (which carries no position in client 6.x) can be placed there even
   * when the filter let nothing through; and reaching it emulates caught-up for servers before 23.10.
   */
  startScan(endOfAll: Position): SubscriptionMessage[] {
    this.#scanTarget = endOfAll;
    return this.#caughtUpIfPastTarget();
  }

  next(item: AllStreamResolvedEvent | ServerMark): SubscriptionMessage[] {
    return [...this.#translate(item), ...this.#caughtUpIfPastTarget()];
  }

  #translate(item: AllStreamResolvedEvent | ServerMark): SubscriptionMessage[] {
    if (item instanceof ServerMark) {
      if (item.kind === 'caught-up') return this.#serverCaughtUp();
      return item.prepare === item.position ? this.#checkpoint(item.position) : [];
    }
    const event = toRecordedEvent(item);
    if (event === undefined) return [];
    const at: LogPosition = {
      commit: event.position,
      prepare: item.event?.position?.prepare ?? event.position,
    };
    // A repeat after a resubscribe: before the resume bound, or not after the last event handed out.
    if (at.commit < this.#last) return [];
    if (this.#lastEvent !== undefined && !after(at, this.#lastEvent)) return [];
    this.#lastEvent = at;
    this.#last = event.position;
    // Filtered out on our side: still scanned, so the consumer may move its checkpoint past it.
    return matchesFilter(event, this.filter)
      ? [{ kind: 'event', event }]
      : [{ kind: 'checkpoint', position: event.position }];
  }

  #checkpoint(position: Position): SubscriptionMessage[] {
    if (position <= this.#last || position >= MAX_VALID_POSITION) return [];
    this.#last = position;
    return [{ kind: 'checkpoint', position }];
  }

  #serverCaughtUp(): SubscriptionMessage[] {
    const target = this.#scanTarget;
    // bigint: Math.max does not apply.
    const position = target !== undefined && target > this.#last ? target : this.#last;
    if (this.#caughtUp) return this.#checkpoint(position); // caught up again after a resubscribe
    this.#last = position;
    return this.#markCaughtUp();
  }

  #markCaughtUp(): SubscriptionMessage[] {
    if (this.#caughtUp) return [];
    this.#caughtUp = true;
    return [{ kind: 'caught-up', position: this.#last }];
  }

  #caughtUpIfPastTarget(): SubscriptionMessage[] {
    return this.#scanTarget !== undefined && this.#last >= this.#scanTarget ? this.#markCaughtUp() : [];
  }
}

/**
 * Objects buffered on each side of the client's stream. The consumer pulls; when it stops, the buffer fills,
 * the client stops reading the gRPC stream and HTTP/2 flow control holds the server back.
 */
const SUBSCRIPTION_BUFFER = 128;

export type SubscribeToAll = Pick<EventStoreDBClient, 'subscribeToAll'>;

const ignore = (): void => {};

/** Pushed from inside the client's transform step, so the mark sits right behind the events before it. */
const pushCheckpointMark = (
  subscription: AllStreamSubscription,
  position: { commit: bigint; prepare: bigint },
): void => {
  subscription.push(new ServerMark('checkpoint', position.commit, position.prepare));
};

/** Settles like `work`, or with undefined as soon as `signal` aborts: close() must not wait for a slow read. */
const unlessStopped = <T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> =>
  new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });

const stopClientSubscription = async (subscription: AllStreamSubscription): Promise<void> => {
  await subscription.unsubscribe().catch(ignore);
  subscription.destroy();
};

export class EsdbSubscription implements Subscription {
  readonly #client: SubscribeToAll;
  readonly #filter: SubscriptionFilter | undefined;
  readonly #endOfAll: () => Promise<Position>;
  readonly #onClose: () => void;
  readonly #progress: SubscriptionProgress;
  readonly #stop = new AbortController();
  #current: AllStreamSubscription | undefined;
  #iterated = false;

  constructor(
    client: SubscribeToAll,
    options: SubscribeOptions,
    endOfAll: () => Promise<Position>,
    onClose: () => void = ignore,
  ) {
    this.#client = client;
    this.#filter = options.filter;
    this.#endOfAll = endOfAll;
    this.#onClose = onClose;
    this.#progress = new SubscriptionProgress(options.from, options.filter);
  }

  get #closed(): boolean {
    return this.#stop.signal.aborted;
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    if (this.#iterated) throw new Error('an EventStoreDB subscription can be iterated only once');
    this.#iterated = true;
    return this.#messages();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stop.abort();
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) await stopClientSubscription(current);
    this.#onClose();
  }

  async *#messages(): AsyncGenerator<SubscriptionMessage> {
    let failures = 0;
    try {
      while (!this.#closed) {
        try {
          for await (const message of this.#subscribeOnce()) {
            failures = 0;
            yield message;
          }
        } catch (err) {
          if (this.#closed) return;
          if (!isWorthResubscribing(err)) throw toStoreError(err);
        }
        if (this.#closed) return;
        await sleep(resubscribeDelayMs(failures++), undefined, { signal: this.#stop.signal }).catch(ignore);
      }
    } finally {
      await this.close();
    }
  }

  /** One server subscription, from the last position handed out, until it drops or we close. */
  async *#subscribeOnce(): AsyncGenerator<SubscriptionMessage> {
    const endOfAll = await unlessStopped(this.#endOfAll(), this.#stop.signal);
    if (endOfAll === undefined || this.#closed) return;
    yield* this.#progress.startScan(endOfAll);
    const subscription = this.#client.subscribeToAll(
      {
        fromPosition: toClientReadPosition(this.#progress.resumeFrom),
        filter: toServerFilter(this.#filter, pushCheckpointMark),
      },
      { highWaterMark: SUBSCRIPTION_BUFFER },
    );
    // Errors reach us through the iterator; this listener only keeps a late one from crashing the process.
    subscription.on('error', ignore);
    subscription.on('caughtUp', () => subscription.push(new ServerMark('caught-up')));
    this.#current = subscription;
    try {
      for await (const item of subscription as AsyncIterable<AllStreamResolvedEvent | ServerMark>) {
        yield* this.#progress.next(item);
      }
    } finally {
      if (this.#current === subscription) this.#current = undefined;
      await stopClientSubscription(subscription);
    }
  }
}

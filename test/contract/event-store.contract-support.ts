import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type {
  EventStore,
  NewEvent,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionMessage,
} from '../../src/eventstore';
import { WrongExpectedVersion } from '../../src/eventstore';

export type OpenEventStore = () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>;

/** What every contract test gets: a store, and helpers that keep it away from other tests' events. */
export interface ContractContext {
  store: EventStore;
  /** A stream name (or prefix) no other test, run or process uses: stores may be shared and never emptied. */
  unique: (label?: string) => string;
  /** Subscribes and closes the subscription after the test. */
  subscribe: (opts: SubscribeOptions) => MessageReader;
}

export const newEvent = (type = 'ContractTested', data: unknown = { n: 1 }, metadata = {}): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata,
});

export const readAll = async (events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> => {
  const all: RecordedEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
};

/** Rejects with the error `promise` rejects with, or fails the test when it resolves. */
export const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );

export const expectWrongExpectedVersion = async (
  promise: Promise<unknown>,
  expected: WrongExpectedVersion['expected'],
  actual: WrongExpectedVersion['actual'],
): Promise<void> => {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(WrongExpectedVersion);
  expect(error).toMatchObject({ expected, actual });
};

const describeMessage = (m: SubscriptionMessage): string =>
  m.kind === 'event' ? `event ${m.event.stream}@${m.event.position}` : `${m.kind}@${m.position}`;

/** Reads a subscription with a deadline on every wait, so a missing message fails fast instead of hanging. */
export class MessageReader {
  readonly #iterator: AsyncIterator<SubscriptionMessage>;

  constructor(readonly subscription: Subscription) {
    this.#iterator = subscription[Symbol.asyncIterator]();
  }

  /** Messages read until (and including) the first one `isLast` accepts. */
  async until(isLast: (m: SubscriptionMessage) => boolean, timeoutMs = 5000): Promise<SubscriptionMessage[]> {
    const read: SubscriptionMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const step = await this.#nextBefore(deadline, read);
      if (step.done)
        throw new Error(`subscription ended early after ${read.map(describeMessage).join(', ')}`);
      read.push(step.value);
      if (isLast(step.value)) return read;
    }
  }

  /** Events read until (and including) the caught-up mark. */
  async untilCaughtUp(timeoutMs = 5000): Promise<SubscriptionMessage[]> {
    return this.until((m) => m.kind === 'caught-up', timeoutMs);
  }

  /** The next `count` events, skipping marks. */
  async events(count: number, timeoutMs = 5000): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    await this.until((m) => m.kind === 'event' && events.push(m.event) === count, timeoutMs);
    return events;
  }

  next(): Promise<IteratorResult<SubscriptionMessage>> {
    return this.#iterator.next();
  }

  async #nextBefore(deadline: number, read: SubscriptionMessage[]) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`no subscription message in time; read: ${read.map(describeMessage).join(', ')}`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([this.#iterator.next(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export const eventsOf = (messages: SubscriptionMessage[]): RecordedEvent[] =>
  messages.flatMap((m) => (m.kind === 'event' ? [m.event] : []));

/** Position of every message, in order; each adapter must hand them out non-decreasing. */
export const positionsOf = (messages: SubscriptionMessage[]): bigint[] =>
  messages.map((m) => (m.kind === 'event' ? m.event.position : m.position));

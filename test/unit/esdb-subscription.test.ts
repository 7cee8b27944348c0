import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import type { AllStreamResolvedEvent, SubscribeToAllOptions } from '@eventstore/db-client';
import { AccessDeniedError, UnavailableError } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import type { SubscribeToAll } from '../../src/eventstore/esdb-subscription';
import { EsdbSubscription, ServerMark, SubscriptionProgress } from '../../src/eventstore/esdb-subscription';
import type { Position, SubscribeOptions, SubscriptionMessage } from '../../src/eventstore/event-store';

const resolved = (position: bigint, stream = 'order-1', type = 'OrderPlaced'): AllStreamResolvedEvent =>
  ({
    event: {
      streamId: stream,
      id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
      revision: 0n,
      type,
      data: {},
      metadata: {},
      isJson: true,
      created: new Date(0),
      position: { commit: position, prepare: position },
    },
    commitPosition: position,
  }) as AllStreamResolvedEvent;

const summary = (messages: SubscriptionMessage[]): string[] =>
  messages.map((m) => (m.kind === 'event' ? `event@${m.event.position}` : `${m.kind}@${m.position}`));

describe('SubscriptionProgress', () => {
  it('hands out strictly increasing positions: repeats after a resubscribe and stale checkpoints are dropped', () => {
    const progress = new SubscriptionProgress('start');
    const out = [
      ...progress.next(resolved(10n)),
      ...progress.next(new ServerMark('checkpoint', 5n)),
      ...progress.next(resolved(10n)),
      ...progress.next(new ServerMark('checkpoint', 40n)),
      ...progress.next(new ServerMark('checkpoint', 40n)),
      ...progress.next(resolved(50n)),
    ];
    expect(summary(out)).toEqual(['event@10', 'checkpoint@40', 'event@50']);
    expect(progress.resumeFrom).toBe(50n);
  });

  it('ignores the server\'s "no position" sentinel checkpoint', () => {
    const progress = new SubscriptionProgress(7n);
    expect(progress.next(new ServerMark('checkpoint', 2n ** 64n - 1n))).toEqual([]);
    expect(progress.resumeFrom).toBe(7n);
  });

  it('skips events without a position', () => {
    const progress = new SubscriptionProgress('start');
    expect(
      progress.next({ event: { ...resolved(1n).event!, position: undefined } } as AllStreamResolvedEvent),
    ).toEqual([]);
  });

  it('turns an event the server let through but the filter rejects into a checkpoint', () => {
    const progress = new SubscriptionProgress('start', {
      streamPrefixes: ['order-'],
      eventTypes: ['OrderShipped'],
    });
    expect(summary(progress.next(resolved(10n, 'order-1', 'OrderPlaced')))).toEqual(['checkpoint@10']);
    expect(summary(progress.next(resolved(11n, 'order-1', 'OrderShipped')))).toEqual(['event@11']);
  });

  it('places the server caught-up at the end of $all seen before subscribing, once', () => {
    const progress = new SubscriptionProgress('start', { streamPrefixes: ['order-'] });
    expect(progress.startScan(500n)).toEqual([]);
    expect(summary(progress.next(resolved(10n)))).toEqual(['event@10']);
    expect(summary(progress.next(new ServerMark('caught-up')))).toEqual(['caught-up@500']);
    expect(progress.next(new ServerMark('caught-up'))).toEqual([]);
    expect(progress.resumeFrom).toBe(500n);
  });

  it('after a resubscribe, turns the next server caught-up into a checkpoint at the new end of $all', () => {
    const progress = new SubscriptionProgress(100n);
    progress.startScan(100n); // caught up at once
    progress.startScan(300n);
    expect(summary(progress.next(new ServerMark('caught-up')))).toEqual(['checkpoint@300']);
  });

  it('emulates caught-up for servers that never send it, when the end of $all is reached', () => {
    const progress = new SubscriptionProgress('start');
    progress.startScan(20n);
    expect(summary(progress.next(resolved(10n)))).toEqual(['event@10']);
    expect(summary(progress.next(new ServerMark('checkpoint', 20n)))).toEqual([
      'checkpoint@20',
      'caught-up@20',
    ]);
  });

  it('given a start at or past the end of $all, then caught-up at once', () => {
    expect(summary(new SubscriptionProgress(50n).startScan(40n))).toEqual(['caught-up@50']);
  });
});

// ── the resubscribing loop, against a stand-in for the client ──────────────────────────────────────

type ServerResponse = { event: AllStreamResolvedEvent } | { checkpoint: bigint } | { caughtUp: true };

/** Does what the client's Subscription transform does with each gRPC response, in the same order. */
class FakeClientSubscription extends Transform {
  unsubscribed = false;

  constructor(
    readonly options: SubscribeToAllOptions,
    readonly readableOptions: TransformOptions,
  ) {
    super({ ...readableOptions, objectMode: true });
  }

  override async _transform(resp: ServerResponse, _: BufferEncoding, next: TransformCallback): Promise<void> {
    if ('caughtUp' in resp) this.emit('caughtUp');
    if ('checkpoint' in resp) {
      const position = { commit: resp.checkpoint, prepare: resp.checkpoint };
      // biome-ignore lint/suspicious/noExplicitAny: the client passes its own subscription here
      await this.options.filter?.checkpointReached?.(this as any, position);
    }
    if ('event' in resp) return next(null, resp.event);
    next();
  }

  send(...responses: ServerResponse[]): void {
    for (const response of responses) this.write(response);
  }

  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
  }
}

class FakeClient {
  readonly opened: FakeClientSubscription[] = [];
  #waiters: Array<() => void> = [];

  subscribeToAll(options: SubscribeToAllOptions, readableOptions: TransformOptions): FakeClientSubscription {
    const subscription = new FakeClientSubscription(options, readableOptions);
    this.opened.push(subscription);
    for (const wake of this.#waiters.splice(0)) wake();
    return subscription;
  }

  /** The n-th subscription opened (0-based), once it exists. */
  async subscription(n: number): Promise<FakeClientSubscription> {
    while (this.opened.length <= n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.opened[n]!;
  }
}

/** endOfAll defaults far ahead, so no caught-up is due before the server sends something. */
const subscribe = (options: SubscribeOptions, endOfAll: Position = 1_000_000n, onClose?: () => void) => {
  const client = new FakeClient();
  const subscription = new EsdbSubscription(
    client as unknown as SubscribeToAll,
    options,
    async () => endOfAll,
    onClose,
  );
  return { client, subscription, iterate: () => subscription[Symbol.asyncIterator]() };
};

const take = async (iterator: AsyncIterator<SubscriptionMessage>, count: number): Promise<string[]> => {
  const messages: SubscriptionMessage[] = [];
  while (messages.length < count) {
    const step = await iterator.next();
    if (step.done) break;
    messages.push(step.value);
  }
  return summary(messages);
};

describe('EsdbSubscription', () => {
  it('given events and checkpoints sent before the consumer reads, then they come out in server order', async () => {
    const { client, iterate } = subscribe({ from: 'start', filter: { streamPrefixes: ['order-'] } }, 25n);
    const iterator = iterate();
    const first = iterator.next();
    const server = await client.subscription(0);
    server.send({ event: resolved(10n) }, { checkpoint: 20n }, { event: resolved(30n) }, { caughtUp: true });
    expect(summary([(await first).value as SubscriptionMessage])).toEqual(['event@10']);
    expect(await take(iterator, 3)).toEqual(['checkpoint@20', 'event@30', 'caught-up@30']);
    expect(server.options.fromPosition).toBe('start');
    expect(server.options.filter).toMatchObject({ prefixes: ['order-'] });
    expect(server.readableOptions.highWaterMark).toBeGreaterThan(0);
  });

  it('given a dropped connection, then it resubscribes after the last position and skips what it already handed out', async () => {
    const { client, iterate } = subscribe({ from: 5n });
    const iterator = iterate();
    const first = iterator.next();
    const dropped = await client.subscription(0);
    expect(dropped.options.fromPosition).toEqual({ commit: 5n, prepare: 5n });
    dropped.send({ event: resolved(10n) });
    expect((await first).value).toMatchObject({ kind: 'event' });

    const second = iterator.next();
    dropped.emit('error', new UnavailableError());
    const resumed = await client.subscription(1);
    expect(resumed.options.fromPosition).toEqual({ commit: 10n, prepare: 10n });
    expect(dropped.unsubscribed).toBe(true);
    resumed.send({ event: resolved(10n) }, { event: resolved(20n) });
    expect(summary([(await second).value as SubscriptionMessage])).toEqual(['event@20']);
  });

  it('given a refusal that retrying cannot fix, then the iteration fails with it', async () => {
    const { client, iterate } = subscribe({ from: 'start' });
    const iterator = iterate();
    const first = iterator.next();
    (await client.subscription(0)).emit('error', new AccessDeniedError());
    await expect(first).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('given a consumer waiting for a message, when closed, then the wait ends and the server subscription is cancelled', async () => {
    let closed = 0;
    const { client, subscription, iterate } = subscribe({ from: 'start' }, undefined, () => closed++);
    const pending = iterate().next();
    const server = await client.subscription(0);
    await subscription.close();
    await subscription.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(server.unsubscribed).toBe(true);
    expect(server.destroyed).toBe(true);
    expect(closed).toBe(1);
  });

  it('given a consumer that stops iterating, then the server subscription is cancelled', async () => {
    const { client, subscription } = subscribe({ from: 'start' });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const message of subscription) {
        seen.push(message.kind);
        break;
      }
    })();
    const server = await client.subscription(0);
    server.send({ event: resolved(10n) });
    await reading;
    expect(seen).toEqual(['event']);
    expect(server.unsubscribed).toBe(true);
  });

  it('can be iterated once only', () => {
    const { iterate } = subscribe({ from: 'start' });
    iterate();
    expect(iterate).toThrow(/once/);
  });
});

/** An event as a legacy EventStoreDB transaction writes it: its own prepare, the transaction's commit. */
const inTransaction = (commit: bigint, prepare: bigint, stream = 'order-1'): AllStreamResolvedEvent => {
  const event = resolved(prepare, stream);
  return { ...event, event: { ...event.event!, position: { commit, prepare } }, commitPosition: commit };
};

describe('SubscriptionProgress: positions with commit and prepare (KurrentDB #4970, transactions)', () => {
  it('given the events of one transaction (one commit position, rising prepares), then every one passes, in order', () => {
    const progress = new SubscriptionProgress('start');
    const out = [
      ...progress.next(inTransaction(1000n, 800n)),
      ...progress.next(inTransaction(1000n, 850n)),
      ...progress.next(inTransaction(1000n, 900n)),
      ...progress.next(resolved(1100n)),
    ];
    expect(out.map((m) => (m.kind === 'event' ? m.event.id.slice(-4) : m.kind))).toEqual([
      '0800',
      '0850',
      '0900',
      '1100',
    ]);
    expect(summary(out)).toEqual(['event@1000', 'event@1000', 'event@1000', 'event@1100']);
  });

  it('given a transaction delivered again after a resubscribe, then only the events not handed out yet pass', () => {
    const progress = new SubscriptionProgress('start');
    progress.next(inTransaction(1000n, 800n));
    progress.next(inTransaction(1000n, 850n));
    const again = [
      ...progress.next(inTransaction(1000n, 800n)),
      ...progress.next(inTransaction(1000n, 850n)),
      ...progress.next(inTransaction(1000n, 900n)),
    ];
    expect(again.map((m) => (m.kind === 'event' ? m.event.id.slice(-4) : m.kind))).toEqual(['0900']);
  });

  it('given a checkpoint at the end of the log with prepare 0, then it is dropped and the event written at exactly that commit position passes', () => {
    const progress = new SubscriptionProgress('start', { streamPrefixes: ['order-'] });
    expect(summary(progress.next(resolved(50n)))).toEqual(['event@50']);
    expect(progress.next(new ServerMark('checkpoint', 200n, 0n))).toEqual([]);
    expect(progress.resumeFrom).toBe(50n); // a consumer never stores a checkpoint past an event it did not get

    expect(summary(progress.next(resolved(200n)))).toEqual(['event@200']);
    expect(progress.resumeFrom).toBe(200n);
  });

  it('given a clean checkpoint (prepare = commit), then it moves the resume bound as before', () => {
    const progress = new SubscriptionProgress('start');
    expect(summary(progress.next(new ServerMark('checkpoint', 300n, 300n)))).toEqual(['checkpoint@300']);
    expect(progress.resumeFrom).toBe(300n);
    expect(progress.next(resolved(250n))).toEqual([]); // before the bound: a repeat
  });
});

describe('SubscriptionProgress: an event before a clean checkpoint already handed out', () => {
  it('given an event, then a clean checkpoint past it, when an older event comes again, then it is dropped', () => {
    const progress = new SubscriptionProgress('start');
    progress.next(resolved(100n));
    progress.next(new ServerMark('checkpoint', 300n, 300n));
    expect(progress.next(resolved(250n))).toEqual([]);
    expect(summary(progress.next(resolved(301n)))).toEqual(['event@301']);
  });
});

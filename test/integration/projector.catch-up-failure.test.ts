import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, RecordedEvent, Subscription, SubscriptionMessage } from '../../src/eventstore';
import { Projector } from '../../src/readmodel/projector';
import {
  eventually,
  openProjectorBench,
  type ProjectorBench,
  tillRevenue,
} from '../support/projector-harness';

const NAME = 'till-revenue';

const saleAt = (position: bigint): RecordedEvent => ({
  id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
  stream: 'till-1',
  revision: position - 1n,
  position,
  type: 'Sold',
  data: { day: '2024-05-01', cents: 100 },
  metadata: {} as RecordedEvent['metadata'],
  recordedAt: new Date(0),
});

/**
 * A catch-up subscription (as EventStoreDB's is while the server is slow or the adapter backs off before
 * resubscribing): two events, then nothing for a while, no caught-up yet. close() ends the wait.
 */
const stallingStore = (): EventStore => {
  const subscribeAll = (): Subscription => {
    const queue: SubscriptionMessage[] = [
      { kind: 'event', event: saleAt(1n) },
      { kind: 'event', event: saleAt(2n) },
    ];
    let closed = false;
    let wake: (() => void) | undefined;
    return {
      close: async () => {
        closed = true;
        wake?.();
      },
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<SubscriptionMessage>> => {
          const message = queue.shift();
          if (message !== undefined) return { done: false, value: message };
          if (!closed) await new Promise<void>((resolve) => (wake = resolve));
          return { done: true, value: undefined };
        },
      }),
    };
  };
  return { subscribeAll } as unknown as EventStore;
};

describe('projector: a failed apply during catch-up, while the subscription has nothing ready', () => {
  let bench: ProjectorBench;
  let projector: Projector | undefined;
  beforeEach(async () => {
    bench = await openProjectorBench('catchup-failure');
    await bench.takeLease(NAME);
  });
  afterEach(async () => {
    await projector?.stop();
    await bench.dispose();
  });

  it('given a stalled catch-up, when the apply in flight is refused (stale lease), then the projector stops without waiting for the next message', async () => {
    let leaseLost = false;
    projector = new Projector({
      projection: tillRevenue(NAME),
      generation: 1,
      store: stallingStore(),
      redis: bench.seam,
      keys: bench.keys,
      leaseToken: () => 'not-the-holder', // the apply is refused: STALE_LEASE
      upcast: (event) => event,
      batchSize: 2,
      onLeaseLost: () => {
        leaseLost = true;
      },
    }).start();
    await eventually(
      () => leaseLost,
      (lost) => lost,
      { timeoutMs: 2_000, what: 'onLeaseLost' },
    );
    expect(projector.status).toBe('stopped');
  });
});

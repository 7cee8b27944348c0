import { describe, expect, it } from 'vitest';
import type { SubscriptionMessage } from '../../src/eventstore';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { newEvent } from '../contract/event-store.contract-support';

const label = (r: IteratorResult<SubscriptionMessage>): string =>
  r.done ? 'done' : r.value.kind === 'event' ? r.value.event.type : r.value.kind;

/**
 * Two consumers share one iterator. A waits for an append; B calls next() a few microtasks after the append
 * settles; A calls next() again as soon as its first answer arrives. Whatever the interleaving, the call
 * made first must get the earlier event (async-iterator / async-generator semantics).
 */
const run = async (hops: number): Promise<{ calls: string[]; answers: Record<string, string> }> => {
  const store = SqliteEventStore.open(':memory:');
  const messages = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
  expect(label(await messages.next())).toBe('caught-up');
  const calls: string[] = [];
  const answers: Record<string, string> = {};
  const call = (who: string) => {
    calls.push(who);
    return messages.next().then((r) => {
      answers[who] = label(r);
    });
  };
  const a1 = messages.next();
  calls.push('A1');
  const a2Done = a1.then((r) => {
    answers.A1 = label(r);
    return call('A2');
  });
  await store.append('s', [newEvent('E1'), newEvent('E2'), newEvent('E3')], {
    expectedRevision: 'no_stream',
  });
  let bDone: Promise<void> | undefined;
  const scheduleB = (left: number): void => {
    if (left === 0) bDone = call('B');
    else queueMicrotask(() => scheduleB(left - 1));
  };
  scheduleB(hops);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await Promise.all([a2Done, bDone]);
  await store.close();
  return { calls, answers };
};

describe('SqliteSubscription: next() calls queued behind a wait', () => {
  it('answers concurrent next() calls in the order they were made', async () => {
    const wrong: string[] = [];
    for (let hops = 0; hops <= 8; hops++) {
      const { calls, answers } = await run(hops);
      const got = calls.map((who) => answers[who]);
      if (got.join() !== 'E1,E2,E3')
        wrong.push(`hops=${hops}: calls ${calls.join('→')} got ${got.join(',')}`);
    }
    expect(wrong).toEqual([]);
  });
});

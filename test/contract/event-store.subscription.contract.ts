import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SubscriptionMessage } from '../../src/eventstore';
import type { ContractContext, MessageReader } from './event-store.contract-support';
import { eventsOf, newEvent, positionsOf } from './event-store.contract-support';

const expectNonDecreasing = (positions: bigint[]): void => {
  for (let i = 1; i < positions.length; i++) expect(positions[i]).toBeGreaterThanOrEqual(positions[i - 1]!);
};

const isMarkAtOrPast =
  (position: bigint) =>
  (m: SubscriptionMessage): boolean =>
    m.kind !== 'event' && m.position >= position;

/** Settles like `promise`, or fails with `what` when it takes longer than `timeoutMs`. */
const within = async <T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

const drain = async (reader: MessageReader): Promise<void> => {
  while (!(await reader.next()).done) {}
};

/** Subscription part of the contract; every subscription is filtered to this test's unique names. */
export const describeSubscriptionContract = (ctx: ContractContext): void => {
  describe('subscribeAll', () => {
    it('given events in two streams, when subscribing from start, then they come in position order, then caught-up', async () => {
      const prefix = ctx.unique('run');
      const [a, b] = [`${prefix}-a`, `${prefix}-b`];
      const appended = [
        await ctx.store.append(a, [newEvent(), newEvent()], { expectedRevision: 'no_stream' }),
        await ctx.store.append(b, [newEvent()], { expectedRevision: 'no_stream' }),
        await ctx.store.append(a, [newEvent()], { expectedRevision: 1n }),
      ];
      const reader = ctx.subscribe({ from: 'start', filter: { streamPrefixes: [prefix] } });
      const messages = await reader.untilCaughtUp();
      const events = eventsOf(messages);
      expect(events.map((e) => [e.stream, e.revision])).toEqual([
        [a, 0n],
        [a, 1n],
        [b, 0n],
        [a, 2n],
      ]);
      expect([events[1]!.position, events[2]!.position, events[3]!.position]).toEqual(
        appended.map((r) => r.position),
      );
      expect(messages.at(-1)!).toMatchObject({ kind: 'caught-up' });
      expect((messages.at(-1) as { position: bigint }).position).toBeGreaterThanOrEqual(
        appended[2]!.position,
      );
      expectNonDecreasing(positionsOf(messages));
    });

    it('given events, when subscribing from the position of the first, then only the later ones come', async () => {
      const stream = ctx.unique();
      const first = await ctx.store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
      await ctx.store.append(stream, [newEvent(), newEvent()], { expectedRevision: 0n });
      const reader = ctx.subscribe({ from: first.position, filter: { streamPrefixes: [stream] } });
      const events = eventsOf(await reader.untilCaughtUp());
      expect(events.map((e) => e.revision)).toEqual([1n, 2n]);
      expect(events[0]!.position).toBeGreaterThan(first.position);
    });

    it('given a caught-up subscription, when events are appended, then they arrive live at the positions append answered', async () => {
      const stream = ctx.unique();
      const reader = ctx.subscribe({
        from: await ctx.store.headPosition(),
        filter: { streamPrefixes: [stream] },
      });
      expect(eventsOf(await reader.untilCaughtUp())).toEqual([]);
      const arriving = reader.events(3);
      const first = await ctx.store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
      const second = await ctx.store.append(stream, [newEvent(), newEvent()], { expectedRevision: 0n });
      const events = await arriving;
      expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      expect(events[0]!.position).toBe(first.position);
      expect(events[2]!.position).toBe(second.position);
    });

    it('given a prefix filter, when events land in several streams, then only streams with one of the prefixes come', async () => {
      const prefix = ctx.unique('run');
      const [keepOne, keepTwo, skip] = [`${prefix}-keep1-x`, `${prefix}-keep2-y`, `${prefix}-skip-z`];
      const from = await ctx.store.headPosition();
      for (const stream of [skip, keepOne, skip, keepTwo]) {
        await ctx.store.append(stream, [newEvent()], { expectedRevision: 'any' });
      }
      const filter = { streamPrefixes: [`${prefix}-keep1`, `${prefix}-keep2`] };
      const events = eventsOf(await ctx.subscribe({ from, filter }).untilCaughtUp());
      expect(events.map((e) => e.stream)).toEqual([keepOne, keepTwo]);
    });

    it('given an event-type filter, when events of several types land, then only those types come', async () => {
      const [wanted, alsoWanted, unwanted] = ['Wanted', 'AlsoWanted', 'Unwanted'].map(
        (t) => `${t}-${randomUUID()}`,
      );
      const stream = ctx.unique();
      const from = await ctx.store.headPosition();
      await ctx.store.append(
        stream,
        [newEvent(unwanted!), newEvent(wanted!), newEvent(unwanted!), newEvent(alsoWanted!)],
        { expectedRevision: 'no_stream' },
      );
      const reader = ctx.subscribe({ from, filter: { eventTypes: [wanted!, alsoWanted!] } });
      const events = eventsOf(await reader.untilCaughtUp());
      expect(events.map((e) => [e.type, e.revision])).toEqual([
        [wanted, 1n],
        [alsoWanted, 3n],
      ]);
    });

    it('given both filters, then an event must match a prefix and a type', async () => {
      const prefix = ctx.unique('run');
      const from = await ctx.store.headPosition();
      await ctx.store.append(`${prefix}-in`, [newEvent('Kept'), newEvent('Other')], {
        expectedRevision: 'any',
      });
      await ctx.store.append(`${prefix}-out`, [newEvent('Kept')], { expectedRevision: 'any' });
      const filter = { streamPrefixes: [`${prefix}-in`], eventTypes: ['Kept'] };
      const events = eventsOf(await ctx.subscribe({ from, filter }).untilCaughtUp());
      expect(events.map((e) => [e.stream, e.type])).toEqual([[`${prefix}-in`, 'Kept']]);
    });

    it('given events the filter rejects, when the subscription scans past them, then a mark reaches their position and none is handed out', async () => {
      const prefix = ctx.unique('run');
      const from = await ctx.store.headPosition();
      const skipped = await ctx.store.append(`${prefix}-skip`, [newEvent(), newEvent(), newEvent()], {
        expectedRevision: 'no_stream',
      });
      const reader = ctx.subscribe({ from, filter: { streamPrefixes: [`${prefix}-keep`] } });
      const messages = await reader.until(isMarkAtOrPast(skipped.position));
      expect(eventsOf(messages)).toEqual([]);
      expectNonDecreasing(positionsOf(messages));

      const kept = await ctx.store.append(`${prefix}-keep`, [newEvent()], { expectedRevision: 'no_stream' });
      const live = await reader.until((m) => m.kind === 'event');
      expect(eventsOf(live).map((e) => e.position)).toEqual([kept.position]);
      expectNonDecreasing(positionsOf([...messages, ...live]));
    });

    it('given a subscription waiting for events, when it is closed, then its iteration ends', async () => {
      const stream = ctx.unique();
      const reader = ctx.subscribe({
        from: await ctx.store.headPosition(),
        filter: { streamPrefixes: [stream] },
      });
      await reader.untilCaughtUp();
      const pending = reader.next();
      await reader.subscription.close();
      await within(pending, 2000, 'a pending next() did not settle after close()');
      await within(drain(reader), 2000, 'the iteration did not end after close()');
    });
  });
};

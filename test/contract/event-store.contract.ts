import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendResult, ReadBackwardsOptions, RecordedEvent } from '../../src/eventstore';
import type { ContractContext, OpenEventStore } from './event-store.contract-support';
import {
  expectWrongExpectedVersion,
  MessageReader,
  newEvent,
  readAll,
  rejectionOf,
} from './event-store.contract-support';
import { describeSubscriptionContract } from './event-store.subscription.contract';

export type { OpenEventStore } from './event-store.contract-support';

/**
 * The event-store contract: every adapter runs it unchanged. It uses only the port, unique stream names,
 * and subscriptions from the current head with prefix filters, so a shared, never-emptied server works.
 */
export const describeEventStoreContract = (name: string, open: OpenEventStore): void => {
  describe(`event store contract: ${name}`, () => {
    const context = {} as ContractContext;
    let cleanup: () => Promise<void>;
    let readers: MessageReader[] = [];

    beforeEach(async () => {
      const opened = await open();
      cleanup = opened.cleanup;
      readers = [];
      context.store = opened.store;
      context.unique = (label = 'stream') => `contract-${randomUUID()}-${label}`;
      context.subscribe = (opts) => {
        const reader = new MessageReader(opened.store.subscribeAll(opts));
        readers.push(reader);
        return reader;
      };
    });

    afterEach(async () => {
      await Promise.all(readers.map((reader) => reader.subscription.close()));
      await cleanup();
    });

    describeAppendContract(context);
    describeReadContract(context);
    describeSubscriptionContract(context);
  });
};

const describeAppendContract = (ctx: ContractContext): void => {
  describe('append', () => {
    it('given a missing stream, when appending with no_stream, then revisions start at 0', async () => {
      const stream = ctx.unique();
      const result = await ctx.store.append(stream, [newEvent(), newEvent()], {
        expectedRevision: 'no_stream',
      });
      expect(result.nextRevision).toBe(1n);
      expect(result.position).toBeGreaterThan(0n);
    });

    it('given an existing stream, when appending with no_stream, then WrongExpectedVersion reports its revision', async () => {
      const stream = ctx.unique();
      await ctx.store.append(stream, [newEvent(), newEvent()], { expectedRevision: 'no_stream' });
      const conflict = ctx.store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
      await expectWrongExpectedVersion(conflict, 'no_stream', 1n);
    });

    it('given a missing stream, when appending with stream_exists, then WrongExpectedVersion reports no_stream', async () => {
      const conflict = ctx.store.append(ctx.unique(), [newEvent()], { expectedRevision: 'stream_exists' });
      await expectWrongExpectedVersion(conflict, 'stream_exists', 'no_stream');
    });

    it('given an existing stream, when appending with stream_exists, then it appends', async () => {
      const stream = ctx.unique();
      await ctx.store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
      const result = await ctx.store.append(stream, [newEvent()], { expectedRevision: 'stream_exists' });
      expect(result.nextRevision).toBe(1n);
    });

    it('given a stream at revision 1, when appending at another revision, then WrongExpectedVersion reports both', async () => {
      const stream = ctx.unique();
      await ctx.store.append(stream, [newEvent(), newEvent()], { expectedRevision: 'no_stream' });
      await expectWrongExpectedVersion(
        ctx.store.append(stream, [newEvent()], { expectedRevision: 0n }),
        0n,
        1n,
      );
      await expectWrongExpectedVersion(
        ctx.store.append(stream, [newEvent()], { expectedRevision: 5n }),
        5n,
        1n,
      );
      const result = await ctx.store.append(stream, [newEvent()], { expectedRevision: 1n });
      expect(result.nextRevision).toBe(2n);
    });

    it('given a missing stream, when appending at revision 0, then WrongExpectedVersion reports no_stream', async () => {
      const conflict = ctx.store.append(ctx.unique(), [newEvent()], { expectedRevision: 0n });
      await expectWrongExpectedVersion(conflict, 0n, 'no_stream');
    });

    it('given a missing or existing stream, when appending with any, then it always appends', async () => {
      const stream = ctx.unique();
      const first = await ctx.store.append(stream, [newEvent()], { expectedRevision: 'any' });
      const second = await ctx.store.append(stream, [newEvent()], { expectedRevision: 'any' });
      expect([first.nextRevision, second.nextRevision]).toEqual([0n, 1n]);
    });

    it('given a refused append, then nothing of it was written', async () => {
      const stream = ctx.unique();
      await ctx.store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
      await rejectionOf(ctx.store.append(stream, [newEvent(), newEvent()], { expectedRevision: 5n }));
      expect(await readAll(ctx.store.readStream(stream))).toHaveLength(1);
    });

    it('given an empty stream name, when appending, then it is refused and nothing is written', async () => {
      const head = await ctx.store.headPosition();
      const refused = await rejectionOf(ctx.store.append('', [newEvent()], { expectedRevision: 'any' }));
      expect(refused).toBeInstanceOf(TypeError);
      expect(await ctx.store.headPosition()).toBe(head);
    });

    it('given concurrent appends at the same expected revision, then exactly one wins', async () => {
      const stream = ctx.unique();
      await ctx.store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
      const attempts = Array.from({ length: 5 }, () =>
        ctx.store.append(stream, [newEvent()], { expectedRevision: 0n }),
      );
      const settled = await Promise.allSettled(attempts);
      const losers = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      expect(losers).toHaveLength(4);
      for (const loser of losers) expect(loser).toMatchObject({ name: 'WrongExpectedVersion', actual: 1n });
      expect(await readAll(ctx.store.readStream(stream))).toHaveLength(2);
    });

    it('given appends to several streams, then positions strictly increase in append order', async () => {
      const [a, b] = [ctx.unique('a'), ctx.unique('b')];
      const results = [];
      results.push(await ctx.store.append(a, [newEvent()], { expectedRevision: 'any' }));
      results.push(await ctx.store.append(b, [newEvent(), newEvent()], { expectedRevision: 'any' }));
      results.push(await ctx.store.append(a, [newEvent()], { expectedRevision: 'any' }));
      const positions = results.map((r) => r.position);
      expect([...positions].sort((x, y) => (x < y ? -1 : 1))).toEqual(positions);
      expect(new Set(positions).size).toBe(3);
    });
  });

  describe('idempotent re-append', () => {
    /** The first append's result again; a store that says whether it was already stored says so rightly. */
    const expectSameAppend = (again: AppendResult, first: AppendResult) => {
      expect({ nextRevision: again.nextRevision, position: again.position }).toEqual(first);
      expect(first.alreadyStored).toBeUndefined();
      expect(again.alreadyStored ?? true).toBe(true);
    };

    it.each([
      ['no_stream', () => 'no_stream' as const],
      ['any', () => 'any' as const],
    ])(
      'given events appended with %s, when the same ids are appended again the same way, then the first result is answered and nothing is duplicated',
      async (_, expected) => {
        const stream = ctx.unique();
        const events = [newEvent(), newEvent()];
        const first = await ctx.store.append(stream, events, { expectedRevision: expected() });
        const again = await ctx.store.append(stream, events, { expectedRevision: expected() });
        expectSameAppend(again, first);
        expect((await readAll(ctx.store.readStream(stream))).map((e) => e.id)).toEqual(
          events.map((e) => e.id),
        );
      },
    );

    it('given events appended at revision 0, when they are appended again at revision 0, then the first result is answered', async () => {
      const stream = ctx.unique();
      await ctx.store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
      const events = [newEvent(), newEvent()];
      const first = await ctx.store.append(stream, events, { expectedRevision: 0n });
      await ctx.store.append(stream, [newEvent()], { expectedRevision: first.nextRevision });
      const again = await ctx.store.append(stream, events, { expectedRevision: 0n });
      expectSameAppend(again, first);
      expect(await readAll(ctx.store.readStream(stream))).toHaveLength(4);
    });

    it('given events appended, when ids partially overlap at the original expectation, then WrongExpectedVersion and nothing is written', async () => {
      const stream = ctx.unique();
      const [e1, e2] = [newEvent(), newEvent()];
      await ctx.store.append(stream, [e1, e2], { expectedRevision: 'no_stream' });
      await expectWrongExpectedVersion(
        ctx.store.append(stream, [e1, newEvent()], { expectedRevision: 'no_stream' }),
        'no_stream',
        1n,
      );
      await expectWrongExpectedVersion(
        ctx.store.append(stream, [e2, newEvent()], { expectedRevision: 0n }),
        0n,
        1n,
      );
      expect((await readAll(ctx.store.readStream(stream))).map((e) => e.id)).toEqual([e1.id, e2.id]);
    });
  });
};

const describeReadContract = (ctx: ContractContext): void => {
  describe('readAllBackwards', () => {
    /** Every page of one filtered read, following `next` until it is absent (bounded). */
    const allPages = async (opts: Omit<ReadBackwardsOptions, 'before'>) => {
      const pages: RecordedEvent[][] = [];
      let before: bigint | undefined;
      for (let i = 0; i < 50; i++) {
        const page = await ctx.store.readAllBackwards({
          ...opts,
          ...(before === undefined ? {} : { before }),
        });
        pages.push(page.events);
        if (page.next === undefined) break;
        before = page.next;
      }
      return pages;
    };

    it('given events in three streams, when read backwards by stream prefix in pages of 2, then newest first, every event once, then the end', async () => {
      const prefix = ctx.unique('backwards');
      const appended: bigint[] = [];
      for (const [i, stream] of ['a', 'b', 'a', 'c', 'b'].entries()) {
        const { position } = await ctx.store.append(`${prefix}-${stream}`, [newEvent('Counted', { i })], {
          expectedRevision: 'any',
        });
        appended.push(position);
      }
      await ctx.store.append(ctx.unique('elsewhere'), [newEvent()], { expectedRevision: 'no_stream' });

      const pages = await allPages({ limit: 2, streamPrefixes: [prefix], scanLimit: 1_000_000 });
      const events = pages.flat();
      expect(events.map((e) => e.position)).toEqual([...appended].reverse());
      expect(events.map((e) => (e.data as { i: number }).i)).toEqual([4, 3, 2, 1, 0]);
      expect(pages[0]).toHaveLength(2);
      expect(events.every((e) => e.stream.startsWith(prefix))).toBe(true);
    });

    it('given events of several types and correlation ids, when filtered by type or by correlation id, then only those come back', async () => {
      const prefix = ctx.unique('filters');
      const correlationId = `corr-${prefix}`;
      await ctx.store.append(
        `${prefix}-1`,
        [
          newEvent('Placed', { n: 1 }, { correlationId }),
          newEvent('Noted', { n: 2 }, { correlationId: 'another' }),
          newEvent('Placed', { n: 3 }),
          newEvent('Shipped', { n: 4 }, { correlationId }),
        ],
        { expectedRevision: 'no_stream' },
      );
      const byType = (
        await allPages({ limit: 10, streamPrefixes: [prefix], eventTypes: ['Placed'], scanLimit: 1_000_000 })
      ).flat();
      expect(byType.map((e) => e.data)).toEqual([{ n: 3 }, { n: 1 }]);
      const byCorrelation = (await allPages({ limit: 10, correlationId, scanLimit: 1_000_000 })).flat();
      expect(byCorrelation.map((e) => [e.type, e.metadata.correlationId])).toEqual([
        ['Shipped', correlationId],
        ['Placed', correlationId],
      ]);
    });

    it('given a scan limit smaller than the events between matches, then a page may be short, and next leads on to the older match', async () => {
      const prefix = ctx.unique('scan');
      await ctx.store.append(`${prefix}-old`, [newEvent('Rare', { n: 1 })], {
        expectedRevision: 'no_stream',
      });
      const filler = ctx.unique('filler');
      await ctx.store.append(
        filler,
        Array.from({ length: 20 }, () => newEvent()),
        { expectedRevision: 'no_stream' },
      );

      const first = await ctx.store.readAllBackwards({ limit: 5, streamPrefixes: [prefix], scanLimit: 10 });
      expect(first.events).toEqual([]);
      expect(first.next).toBeDefined();
      const found = (await allPages({ limit: 5, streamPrefixes: [prefix], scanLimit: 10 })).flat();
      expect(found.map((e) => e.data)).toEqual([{ n: 1 }]);
    });
  });

  describe('readStream', () => {
    it('given a missing stream, when reading it, then it yields nothing', async () => {
      expect(await readAll(ctx.store.readStream(ctx.unique()))).toEqual([]);
    });

    it('given five events, when reading from revision 2, then revisions 2 to 4 come in order', async () => {
      const stream = ctx.unique();
      await ctx.store.append(
        stream,
        [1, 2, 3, 4, 5].map((n) => newEvent('Counted', { n })),
        {
          expectedRevision: 'no_stream',
        },
      );
      const events = await readAll(ctx.store.readStream(stream, { fromRevision: 2n }));
      expect(events.map((e) => [e.revision, e.data])).toEqual([
        [2n, { n: 3 }],
        [3n, { n: 4 }],
        [4n, { n: 5 }],
      ]);
      expect(await readAll(ctx.store.readStream(stream, { fromRevision: 5n }))).toEqual([]);
    });

    it('given an append, then readStream shows the positions append answered, strictly increasing', async () => {
      const stream = ctx.unique();
      const first = await ctx.store.append(stream, [newEvent(), newEvent()], {
        expectedRevision: 'no_stream',
      });
      const second = await ctx.store.append(stream, [newEvent()], { expectedRevision: 1n });
      const events = await readAll(ctx.store.readStream(stream));
      expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      expect(events[1]!.position).toBe(first.position);
      expect(events[2]!.position).toBe(second.position);
      expect(events[0]!.position).toBeLessThan(events[1]!.position);
      expect(events[1]!.position).toBeLessThan(events[2]!.position);
    });

    it('given nested JSON with unicode in data and metadata, when read back, then it is unchanged', async () => {
      const stream = ctx.unique();
      const data = {
        text: 'naïve café — 日本語 — 🚀 \u0000 "quoted" \\ back',
        nested: { list: [1, 2.5, -3, null, true, false, { deep: ['x'] }], empty: {} },
        big: Number.MAX_SAFE_INTEGER,
      };
      const metadata = { correlationId: randomUUID(), causationId: randomUUID(), tags: ['ü', 'ß'] };
      const event = newEvent('Unicode→Tested', data, metadata);
      const before = Date.now();
      await ctx.store.append(stream, [event], { expectedRevision: 'no_stream' });
      const [read] = await readAll(ctx.store.readStream(stream));
      expect(read).toMatchObject({
        id: event.id,
        stream,
        revision: 0n,
        type: 'Unicode→Tested',
        data,
        metadata,
      });
      expect(read!.recordedAt).toBeInstanceOf(Date);
      // Generous: the server's clock is not the test's.
      expect(Math.abs(read!.recordedAt.getTime() - before)).toBeLessThan(60_000);
    });
  });

  describe('headPosition and ping', () => {
    it('given an append, then the head is at least the position it answered, and above the head before', async () => {
      const before = await ctx.store.headPosition();
      const result = await ctx.store.append(ctx.unique(), [newEvent()], { expectedRevision: 'no_stream' });
      expect(result.position).toBeGreaterThan(before);
      expect(await ctx.store.headPosition()).toBeGreaterThanOrEqual(result.position);
    });

    it('given the store, when pinged, then it answers', async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
    });
  });
};

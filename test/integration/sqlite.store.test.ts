import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStoreUnavailable, WrongExpectedVersion } from '../../src/eventstore';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import {
  eventsOf,
  MessageReader,
  newEvent,
  positionsOf,
  readAll,
  rejectionOf,
} from '../contract/event-store.contract-support';

describe('SqliteEventStore', () => {
  let dir: string;
  const opened: SqliteEventStore[] = [];
  const readers: MessageReader[] = [];

  const openStore = (path: string, options?: Parameters<typeof SqliteEventStore.open>[1]) => {
    const store = SqliteEventStore.open(path, options);
    opened.push(store);
    return store;
  };
  const subscribe = (store: SqliteEventStore, opts: Parameters<SqliteEventStore['subscribeAll']>[0]) => {
    const reader = new MessageReader(store.subscribeAll(opts));
    readers.push(reader);
    return reader;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-sqlite-'));
  });

  afterEach(async () => {
    await Promise.all(readers.splice(0).map((reader) => reader.subscription.close()));
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('given a path under missing directories, when opened, appended and reopened, then the events persist', async () => {
    const file = join(dir, 'a', 'b', 'events.sqlite');
    const first = openStore(file);
    await first.append('kept', [newEvent('Kept', { n: 1 })], { expectedRevision: 'no_stream' });
    await first.close();
    const events = await readAll(openStore(file).readStream('kept'));
    expect(events.map((e) => [e.type, e.data, e.position])).toEqual([['Kept', { n: 1 }, 1n]]);
  });

  it('given an empty append, then it only checks the expectation and answers the current revision and position', async () => {
    const store = openStore(':memory:');
    expect(await store.append('empty', [], { expectedRevision: 'no_stream' })).toEqual({
      nextRevision: -1n,
      position: 0n,
    });
    const error = await rejectionOf(store.append('empty', [], { expectedRevision: 'stream_exists' }));
    expect(error).toBeInstanceOf(WrongExpectedVersion);
    await store.append('other', [newEvent()], { expectedRevision: 'no_stream' });
    const written = await store.append('empty', [newEvent(), newEvent()], { expectedRevision: 'no_stream' });
    expect(await store.append('empty', [], { expectedRevision: 1n })).toEqual(written);
    expect(await readAll(store.readStream('empty'))).toHaveLength(2);
  });

  it('given more events than a page, when reading a stream and subscribing, then all come once and in order', async () => {
    const store = openStore(':memory:', { pageSize: 3 });
    await store.append(
      'paged',
      Array.from({ length: 10 }, (_, n) => newEvent('Paged', { n })),
      {
        expectedRevision: 'no_stream',
      },
    );
    const read = await readAll(store.readStream('paged', { fromRevision: 1n }));
    expect(read.map((e) => e.revision)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    const messages = await subscribe(store, { from: 'start' }).untilCaughtUp();
    expect(eventsOf(messages).map((e) => e.position)).toEqual(
      Array.from({ length: 10 }, (_, i) => BigInt(i + 1)),
    );
    expect(messages.at(-1)).toEqual({ kind: 'caught-up', position: 10n });
  });

  it('given pages of filtered-out events, when subscribing, then a checkpoint marks the last position of each page', async () => {
    const store = openStore(':memory:', { pageSize: 2 });
    await store.append(
      'skip',
      [1, 2, 3, 4, 5].map(() => newEvent()),
      { expectedRevision: 'no_stream' },
    );
    const reader = subscribe(store, { from: 'start', filter: { streamPrefixes: ['keep'] } });
    expect(await reader.untilCaughtUp()).toEqual([
      { kind: 'checkpoint', position: 2n },
      { kind: 'checkpoint', position: 4n },
      { kind: 'checkpoint', position: 5n },
      { kind: 'caught-up', position: 5n },
    ]);
    const live = reader.until((m) => m.kind === 'event');
    await store.append('skip', [newEvent()], { expectedRevision: 4n });
    await store.append('keep', [newEvent()], { expectedRevision: 'no_stream' });
    expect(positionsOf(await live)).toEqual([6n, 7n]);
    expect((await live)[0]).toEqual({ kind: 'checkpoint', position: 6n });
  });

  it('given an empty store, when subscribing from start, then caught-up is at position 0', async () => {
    const store = openStore(':memory:');
    expect(await subscribe(store, { from: 'start' }).untilCaughtUp()).toEqual([
      { kind: 'caught-up', position: 0n },
    ]);
  });

  it('given a long poll interval, when appending in-process, then live subscribers are woken at once', async () => {
    const store = openStore(':memory:', { pollIntervalMs: 60_000 });
    const reader = subscribe(store, { from: 'start' });
    await reader.untilCaughtUp();
    const woken = reader.events(1, 1000);
    await store.append('woken', [newEvent()], { expectedRevision: 'no_stream' });
    const [event] = await woken;
    expect(event!.stream).toBe('woken');
  });

  it('given two stores on one file, when the first appends, then a subscription of the second sees it through the poll', async () => {
    const file = join(dir, 'shared.sqlite');
    const writer = openStore(file);
    const watcher = openStore(file, { pollIntervalMs: 50 });
    const reader = subscribe(watcher, { from: await watcher.headPosition() });
    await reader.untilCaughtUp();
    const seeing = reader.events(1, 2000);
    const appended = await writer.append('from-writer', [newEvent()], { expectedRevision: 'no_stream' });
    const [seen] = await seeing;
    expect(seen!.position).toBe(appended.position);
    await expect(
      watcher.append('from-writer', [newEvent()], { expectedRevision: 0n }),
    ).resolves.toMatchObject({
      nextRevision: 1n,
    });
  });

  it('given two stores on one file and no poll, when the first appends, then a subscription of the second is woken by the data_version check', async () => {
    const file = join(dir, 'watched.sqlite');
    const writer = openStore(file);
    // The backstop read would come after a minute: only the PRAGMA data_version check can wake it in time.
    const watcher = openStore(file, { pollIntervalMs: 60_000 });
    const reader = subscribe(watcher, { from: await watcher.headPosition() });
    await reader.untilCaughtUp();
    const seeing = reader.events(1, 5000);
    const appended = await writer.append('watched', [newEvent()], { expectedRevision: 'no_stream' });
    const [seen] = await seeing;
    expect(seen!.position).toBe(appended.position);
  });

  it('given live subscribers, when the store closes, then their pending next() resolves done', async () => {
    const store = openStore(':memory:');
    const reader = subscribe(store, { from: 'start' });
    await reader.untilCaughtUp();
    const pending = reader.next();
    await store.close();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('given two subscriptions catching up together, then each full page is parsed once: both get the same event objects', async () => {
    const store = openStore(':memory:', { pageSize: 10 });
    await store.append(
      'paged',
      Array.from({ length: 25 }, (_, n) => newEvent('Paged', { n })),
      {
        expectedRevision: 'no_stream',
      },
    );
    const first = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    const second = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    const shared: boolean[] = [];
    for (let i = 0; i < 25; i++) {
      const [a, b] = await Promise.all([first.next(), second.next()]);
      if (a.value?.kind !== 'event' || b.value?.kind !== 'event') throw new Error('expected events');
      expect(a.value.event.data).toEqual({ n: i });
      shared.push(a.value.event === b.value.event);
    }
    // Two full pages of 10 are shared, and so is the short last page (the head, until the next commit).
    expect(shared).toEqual(Array.from({ length: 25 }, () => true));
    await Promise.all([first.return?.(), second.return?.()]);
  });

  it('given a head page already read, when this store commits, then a subscription reading from there gets the new event, not the old head', async () => {
    const store = openStore(':memory:', { pollIntervalMs: 60_000 });
    const first = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    expect((await first.next()).value).toEqual({ kind: 'caught-up', position: 0n });
    const appended = await store.append('after-head', [newEvent()], { expectedRevision: 'no_stream' });
    const second = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    const { value } = await second.next();
    expect(value?.kind === 'event' ? value.event.position : value).toBe(appended.position);
    await Promise.all([first.return?.(), second.return?.()]);
  });

  it('given a head page already read, when the store closes, then a subscription reading from there fails as unavailable', async () => {
    const store = openStore(':memory:');
    const first = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    expect((await first.next()).value).toEqual({ kind: 'caught-up', position: 0n });
    await store.close();
    const second = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    await expect(second.next()).rejects.toBeInstanceOf(EventStoreUnavailable);
  });

  it('given a head page already read, when another process commits, then a subscription reading from there gets its event at once (data_version), not the old head', async () => {
    const file = join(dir, 'head.sqlite');
    // No poll and no data_version timer within the test: only the check before reusing the head page can see it.
    const reader = openStore(file, { pollIntervalMs: 60_000, foreignCommitCheckMs: 60_000 });
    const writer = openStore(file);
    const first = reader.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    expect((await first.next()).value).toEqual({ kind: 'caught-up', position: 0n });
    const appended = await writer.append('elsewhere', [newEvent()], { expectedRevision: 'no_stream' });
    const second = reader.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    const { value } = await second.next();
    expect(value?.kind === 'event' ? value.event.position : value).toBe(appended.position);
    await Promise.all([first.return?.(), second.return?.()]);
  });

  it('given next() called again while one waits for an append, then each call gets its own event, in order', async () => {
    const store = openStore(':memory:');
    const messages = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    expect((await messages.next()).value).toEqual({ kind: 'caught-up', position: 0n });
    const waiting = [messages.next(), messages.next()];
    await store.append('queued', [newEvent('A'), newEvent('B')], { expectedRevision: 'no_stream' });
    const [a, b] = await Promise.all(waiting);
    expect([a, b].map((r) => (r?.value?.kind === 'event' ? r.value.event.type : r?.value?.kind))).toEqual([
      'A',
      'B',
    ]);
    await messages.return?.();
  });

  it('given a consumer that breaks out of for await, then the subscription is closed and answers done', async () => {
    const store = openStore(':memory:');
    await store.append('once', [newEvent()], { expectedRevision: 'no_stream' });
    const subscription = store.subscribeAll({ from: 'start' });
    for await (const message of subscription) if (message.kind === 'event') break;
    expect(await subscription[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });

  it('given a read that fails, then next() rejects with EventStoreUnavailable and the subscription ends', async () => {
    const file = join(dir, 'failing.sqlite');
    const store = openStore(file);
    await store.append('doomed', [newEvent()], { expectedRevision: 'no_stream' });
    const messages = store.subscribeAll({ from: 'start' })[Symbol.asyncIterator]();
    const other = new Database(file);
    other.exec('DROP TABLE events'); // what a broken file looks like to the next read
    other.close();
    await expect(messages.next()).rejects.toBeInstanceOf(EventStoreUnavailable);
    expect(await messages.next()).toEqual({ done: true, value: undefined });
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStoreUnavailable, WrongExpectedVersion } from '../../src/eventstore';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { GroupCommit } from '../../src/eventstore/sqlite-append';
import { openDatabase, prepareStatements } from '../../src/eventstore/sqlite-db';
import { newEvent, readAll, rejectionOf } from '../contract/event-store.contract-support';

describe('SqliteEventStore group commit and failures', () => {
  let dir: string;
  let file: string;
  let store: SqliteEventStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-sqlite-'));
    file = join(dir, 'events.sqlite');
    store = SqliteEventStore.open(file, { busyTimeoutMs: 50 });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('given 100 appends to different streams made in one tick, when they settle, then they were written in one transaction', async () => {
    const before = store.stats();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        store.append(`burst-${i}`, [newEvent()], { expectedRevision: 'no_stream' }),
      ),
    );
    const after = store.stats();
    expect(after.appends - before.appends).toBe(100);
    expect(after.transactions - before.transactions).toBeLessThan(after.appends - before.appends);
    expect(after.transactions - before.transactions).toBe(1);
    expect(new Set(results.map((r) => r.position)).size).toBe(100);
    expect(await store.headPosition()).toBe(100n);
  });

  it('given a group where one append conflicts and one is malformed, when it commits, then only those two fail', async () => {
    await store.append('existing', [newEvent()], { expectedRevision: 'no_stream' });
    const before = store.stats();
    const duplicate = newEvent();
    const settled = await Promise.allSettled([
      store.append('ok-1', [newEvent()], { expectedRevision: 'no_stream' }),
      store.append('existing', [newEvent()], { expectedRevision: 5n }),
      store.append('ok-2', [newEvent()], { expectedRevision: 'any' }),
      store.append('malformed', [duplicate, duplicate], { expectedRevision: 'any' }),
      store.append('existing', [newEvent()], { expectedRevision: 0n }),
    ]);
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersion);
    expect((settled[3] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect(store.stats().transactions - before.transactions).toBe(1);
    expect(await readAll(store.readStream('malformed'))).toEqual([]);
    expect((await readAll(store.readStream('existing'))).map((e) => e.revision)).toEqual([0n, 1n]);
  });

  it('given appends to one stream in one group, when they commit, then their expectations are checked in call order', async () => {
    const inOrder = await Promise.allSettled([
      store.append('ordered', [newEvent()], { expectedRevision: 'no_stream' }),
      store.append('ordered', [newEvent()], { expectedRevision: 0n }),
      store.append('ordered', [newEvent()], { expectedRevision: 1n }),
    ]);
    expect(inOrder.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const reversed = await Promise.allSettled([
      store.append('reversed', [newEvent()], { expectedRevision: 0n }),
      store.append('reversed', [newEvent()], { expectedRevision: 'no_stream' }),
    ]);
    expect(reversed.map((s) => s.status)).toEqual(['rejected', 'fulfilled']);
  });

  it('given the same ids appended twice in one group, when it commits, then both answer the same result, the second as already stored', async () => {
    const events = [newEvent(), newEvent()];
    const [first, again] = await Promise.all([
      store.append('twice', events, { expectedRevision: 'no_stream' }),
      store.append('twice', events, { expectedRevision: 'no_stream' }),
    ]);
    expect(again).toEqual({ ...first, alreadyStored: true });
    expect(await readAll(store.readStream('twice'))).toHaveLength(2);
  });

  it('given an id stored in another stream, when appended to a second stream, then that append is refused', async () => {
    const event = newEvent();
    await store.append('first-home', [event], { expectedRevision: 'no_stream' });
    const error = await rejectionOf(store.append('second-home', [event], { expectedRevision: 'any' }));
    expect(String(error)).toMatch(/already stored in stream first-home/);
    expect(await readAll(store.readStream('second-home'))).toEqual([]);
  });

  it('given another connection holding the write lock, when appending, then every append of the group is unavailable and nothing is written', async () => {
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const settled = await Promise.allSettled([
        store.append('locked-1', [newEvent()], { expectedRevision: 'no_stream' }),
        store.append('locked-2', [newEvent()], { expectedRevision: 'any' }),
      ]);
      for (const outcome of settled) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(EventStoreUnavailable);
        expect(reason.cause).toMatchObject({ code: 'SQLITE_BUSY' });
      }
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(await store.headPosition()).toBe(0n);
    expect(await readAll(store.readStream('locked-1'))).toEqual([]);
    const retried = await store.append('locked-1', [newEvent()], { expectedRevision: 'no_stream' });
    expect(retried).toEqual({ nextRevision: 0n, position: 1n });
  });

  it('given a commit whose file check afterwards fails, when it settles, then the appends are unavailable and readers are told to look again', async () => {
    const db = openDatabase(':memory:', 50);
    let checks = 0;
    let woken = 0;
    const group = new GroupCommit(
      db,
      prepareStatements(db),
      () => woken++,
      () => {
        if (++checks === 2) throw new Error('the file at the store path was replaced');
      },
    );
    try {
      const append = group.enqueue({
        stream: 'checked',
        events: [newEvent()],
        expectedRevision: 'no_stream',
      });
      await expect(append).rejects.toBeInstanceOf(EventStoreUnavailable);
      // The commit went through before the check: a reader holding the old head must not keep trusting it.
      expect(woken).toBe(1);
    } finally {
      db.close();
    }
  });

  it('given a closed store, when used, then every operation throws EventStoreUnavailable', async () => {
    await store.close();
    await expect(
      store.append('after-close', [newEvent()], { expectedRevision: 'any' }),
    ).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(store.ping()).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(readAll(store.readStream('after-close'))).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('given an append not yet flushed, when the store closes, then it is written before the database closes', async () => {
    const pending = store.append('flushed-on-close', [newEvent()], { expectedRevision: 'no_stream' });
    await store.close();
    expect(await pending).toEqual({ nextRevision: 0n, position: 1n });
    const reopened = SqliteEventStore.open(file);
    try {
      expect(await readAll(reopened.readStream('flushed-on-close'))).toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });
});

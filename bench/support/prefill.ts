import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { orderHistory } from './order-history';
import { ROOT } from './processes';
import { elapsedMs, note, now } from './report';

export const CACHE_DIR = join(ROOT, 'bench', '.cache');

/** Appends per group commit: all are enqueued in one turn, so the store writes them in one transaction. */
const APPENDS_PER_TRANSACTION = 5000;

/** Writes `count` realistic order events into a new SQLite store at `path` through SqliteEventStore.append. */
export const prefillStore = async (path: string, count: number): Promise<{ ms: number; head: bigint }> => {
  const store = SqliteEventStore.open(path);
  const started = now();
  try {
    let pending: Promise<unknown>[] = [];
    let written = 0;
    for (const append of orderHistory(count)) {
      pending.push(store.append(append.stream, append.events, { expectedRevision: append.expectedRevision }));
      written += append.events.length;
      if (pending.length >= APPENDS_PER_TRANSACTION) {
        await Promise.all(pending);
        pending = [];
        if (written % 100_000 < APPENDS_PER_TRANSACTION) note(`prefill: ${written.toLocaleString()} events`);
      }
    }
    await Promise.all(pending);
    return { ms: elapsedMs(started), head: await store.headPosition() };
  } finally {
    await store.close();
  }
};

/**
 * A private copy of a store prefilled with `count` events. The prefilled file is built once and kept in
 * bench/.cache/ (gitignored), keyed by count; every run works on its own copy in a temp dir.
 */
export const prefilledStoreCopy = async (
  count: number,
): Promise<{ path: string; built: boolean; prefillMs?: number; remove: () => void }> => {
  mkdirSync(CACHE_DIR, { recursive: true });
  const cached = join(CACHE_DIR, `orders-${count}.sqlite`);
  let built = false;
  let prefillMs: number | undefined;
  if (!existsSync(cached)) {
    note(`prefilling ${count.toLocaleString()} events into ${cached} (once; cached afterwards)`);
    const building = `${cached}.building-${process.pid}`;
    const result = await prefillStore(building, count);
    rmSync(`${building}-wal`, { force: true });
    rmSync(`${building}-shm`, { force: true });
    renameSync(building, cached); // only a complete file ever gets the cache's name
    built = true;
    prefillMs = result.ms;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-store-'));
  const path = join(dir, 'events.sqlite');
  copyFileSync(cached, path);
  return {
    path,
    built,
    ...(prefillMs === undefined ? {} : { prefillMs }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
};

import { mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  Position,
  ReadBackwardsOptions,
  RecordedEvent,
  StreamName,
  StreamRevision,
  SubscriptionMessage,
} from './event-store.js';
import { EventStoreUnavailable } from './event-store.js';

export type SqliteDatabase = Database.Database;

/**
 * One row of the events table as better-sqlite3 returns it in raw mode (an array: no object with eight
 * named properties per row) with safe integers on. Indexes are the ROW constants below.
 */
export type EventRow = [
  position: Position,
  id: string,
  stream: StreamName,
  revision: StreamRevision,
  type: string,
  data: string,
  metadata: string,
  recordedAt: bigint,
];

/** Column indexes of an EventRow, in the order EVENT_COLUMNS selects them. */
export const ROW = {
  position: 0,
  id: 1,
  stream: 2,
  revision: 3,
  type: 4,
  data: 5,
  metadata: 6,
  recordedAt: 7,
} as const;
const EVENT_COLUMNS = 'position, id, stream, revision, type, data, metadata, recorded_at';

interface StoredEventRef {
  stream: StreamName;
  revision: StreamRevision;
  position: Position;
}

// The integer primary key is the global position; AUTOINCREMENT so a position is never reused.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT    NOT NULL UNIQUE,
  stream      TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at INTEGER NOT NULL,
  UNIQUE (stream, revision)
) STRICT`;

export const isMemoryPath = (path: string): boolean => path === ':memory:';

/**
 * Opens (creating if needed) the database file in WAL mode with synchronous=FULL: every commit is
 * fsynced to the WAL. Group commit makes that one fsync per batch of appends, so FULL stays cheap.
 */
export const openDatabase = (path: string, busyTimeoutMs: number): SqliteDatabase => {
  let db: SqliteDatabase | undefined;
  try {
    if (!isMemoryPath(path)) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: busyTimeoutMs });
    db.defaultSafeIntegers(true);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    return db;
  } catch (error) {
    db?.close();
    throw new EventStoreUnavailable(`cannot open SQLite event store at ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
};

/**
 * A backwards page of `$all`, newest first, within [from, before): stream prefixes compared as prefixes
 * (substr, no LIKE wildcards to escape), types by equality, the correlation id read from the metadata JSON.
 */
export const backwardsSql = (opts: ReadBackwardsOptions): string => {
  const where = ['position < ?', 'position >= ?'];
  if (opts.streamPrefixes !== undefined)
    where.push(`(${opts.streamPrefixes.map(() => 'substr(stream, 1, length(?)) = ?').join(' OR ') || '0'})`);
  if (opts.eventTypes !== undefined)
    where.push(opts.eventTypes.length === 0 ? '0' : `type IN (${opts.eventTypes.map(() => '?').join(', ')})`);
  if (opts.correlationId !== undefined) where.push("json_extract(metadata, '$.correlationId') = ?");
  return `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY position DESC LIMIT ?`;
};

/** The arguments of backwardsSql(opts), in its order. */
export const backwardsArgs = (opts: ReadBackwardsOptions, before: Position, from: Position): unknown[] => [
  before,
  from,
  ...(opts.streamPrefixes ?? []).flatMap((prefix) => [prefix, prefix]),
  ...(opts.eventTypes ?? []),
  ...(opts.correlationId === undefined ? [] : [opts.correlationId]),
  opts.limit,
];

export const prepareStatements = (db: SqliteDatabase) => ({
  currentRevision: db.prepare<[StreamName], { revision: StreamRevision }>(
    'SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
  ),
  eventById: db.prepare<[string], StoredEventRef>(
    'SELECT stream, revision, position FROM events WHERE id = ?',
  ),
  positionAt: db.prepare<[StreamName, StreamRevision], { position: Position }>(
    'SELECT position FROM events WHERE stream = ? AND revision = ?',
  ),
  insert: db.prepare<[string, StreamName, StreamRevision, string, string, string, number]>(
    'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ),
  streamPage: db
    .prepare<[StreamName, StreamRevision, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    )
    .raw(true),
  allPage: db
    .prepare<[Position, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    )
    .raw(true),
  headPosition: db.prepare<[], { head: Position | null }>('SELECT max(position) AS head FROM events'),
  ping: db.prepare<[], { ok: bigint }>('SELECT 1 AS ok'),
  /** Changes when another connection commits to the file (never for this connection's own commits). */
  dataVersion: db.prepare<[], bigint>('PRAGMA data_version').pluck(),
});

export type Statements = ReturnType<typeof prepareStatements>;

type EventMessage = Extract<SubscriptionMessage, { kind: 'event' }>;

/**
 * Rows of the events table as subscriptions share them (every projection of a process catching up reads
 * the same pages): each row is parsed at most once, and only when a subscription wants it.
 */
export class EventPage {
  readonly #messages: Array<EventMessage | undefined>;

  constructor(readonly rows: readonly EventRow[]) {
    this.#messages = new Array(rows.length);
  }

  /** The `event` message of row `index`, parsed on first use. Shared: read-only. */
  messageAt(index: number): EventMessage {
    let message = this.#messages[index];
    if (message === undefined) {
      message = { kind: 'event', event: toRecordedEvent(this.rows[index]!) };
      this.#messages[index] = message;
    }
    return message;
  }
}

export const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  id: row[ROW.id],
  stream: row[ROW.stream],
  revision: row[ROW.revision],
  position: row[ROW.position],
  type: row[ROW.type],
  data: JSON.parse(row[ROW.data]),
  metadata: JSON.parse(row[ROW.metadata]),
  recordedAt: new Date(Number(row[ROW.recordedAt])),
});

/**
 * True when SQLite itself failed (busy, read-only, I/O, disk full, closed…), as opposed to one append
 * being refused (a constraint, bad input): the first aborts a whole group commit, the second only its append.
 */
export const isStoreFailure = (error: unknown): boolean =>
  (error instanceof Database.SqliteError && !error.code.startsWith('SQLITE_CONSTRAINT')) ||
  (error instanceof TypeError && /database connection is not open/i.test(error.message));

export const toUnavailable = (what: string, error: unknown): EventStoreUnavailable => {
  if (error instanceof EventStoreUnavailable) return error;
  const code = error instanceof Database.SqliteError ? error.code : undefined;
  return new EventStoreUnavailable(`${what}: ${messageOf(error)}`, {
    cause: error,
    ...(code ? { code } : {}),
  });
};

/** The message with SQLite's code in front (`SQLITE_FULL: database or disk is full`): the code is what to search for. */
const messageOf = (error: unknown): string => {
  if (error instanceof Database.SqliteError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
};

/** Below this much free space on the store's disk, /ready says the store cannot take appends. */
const MIN_FREE_BYTES = 64 * 1024;

/**
 * Throws EventStoreUnavailable (DISK_FULL) when the filesystem of `path` has (almost) no space left: a full
 * disk refuses appends whether or not one was tried lately, so readiness looks at it directly.
 */
export const assertDiskSpace = (path: string): void => {
  const { bavail, bsize } = statfsSync(dirname(path));
  const free = bavail * bsize;
  if (free >= MIN_FREE_BYTES) return;
  throw new EventStoreUnavailable(
    `no space left on the disk of the SQLite event store ${path} (${free} bytes free): appends fail`,
    { code: 'DISK_FULL' },
  );
};

/**
 * The file a store opened, by device and inode. A file deleted (or replaced) under a running store would
 * take every later write with it: SQLite keeps writing into the unlinked inode, and a restart finds nothing.
 */
export class FileIdentity {
  /** Device and inode of the database file and of its -wal and -shm files (once they exist). */
  readonly #known = new Map<string, { dev: number; ino: number } | undefined>();

  private constructor(readonly path: string) {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      const stat = statSync(file, { throwIfNoEntry: false });
      this.#known.set(file, stat && { dev: stat.dev, ino: stat.ino });
    }
  }

  /** Undefined for ':memory:', which has no file. */
  static of(path: string): FileIdentity | undefined {
    if (isMemoryPath(path)) return undefined;
    statSync(path);
    return new FileIdentity(path);
  }

  /**
   * Throws EventStoreUnavailable when the path no longer names the file that was opened, or its write-ahead
   * log was deleted or replaced (a commit there would be lost at the next open). A stat each: microseconds.
   */
  assertUnchanged(): void {
    for (const [file, known] of this.#known) {
      const now = statSync(file, { throwIfNoEntry: false });
      if (known === undefined) {
        // SQLite creates the -wal and -shm files on first use: from then on they must stay.
        if (now !== undefined) this.#known.set(file, { dev: now.dev, ino: now.ino });
        continue;
      }
      if (now === undefined) throw this.#lost(file, 'was deleted', 'FILE_DELETED');
      if (now.dev !== known.dev || now.ino !== known.ino)
        throw this.#lost(file, 'was replaced', 'FILE_REPLACED');
    }
  }

  #lost(file: string, what: string, code: string): EventStoreUnavailable {
    return new EventStoreUnavailable(
      `the SQLite event store file ${file} ${what} while open; appends are refused until a restart opens the file at ${this.path}`,
      { code },
    );
  }
}

import type {
  AppendResult,
  BackwardsPage,
  EventStore,
  ExpectedRevision,
  NewEvent,
  Position,
  ReadBackwardsOptions,
  RecordedEvent,
  StreamName,
  StreamRevision,
  SubscribeOptions,
  Subscription,
} from './event-store.js';
import { DEFAULT_BACKWARDS_SCAN_LIMIT, EventStoreUnavailable } from './event-store.js';
import type { GroupCommitStats } from './sqlite-append.js';
import { GroupCommit } from './sqlite-append.js';
import type { EventRow, SqliteDatabase, Statements } from './sqlite-db.js';
import {
  assertDiskSpace,
  backwardsArgs,
  backwardsSql,
  EventPage,
  FileIdentity,
  openDatabase,
  prepareStatements,
  ROW,
  toRecordedEvent,
  toUnavailable,
} from './sqlite-db.js';
import { SqliteSubscription } from './sqlite-subscription.js';
import { ForeignCommitWatch } from './sqlite-watch.js';

export type { GroupCommitStats } from './sqlite-append.js';

export interface SqliteEventStoreOptions {
  /** How long a write waits for another connection's lock before failing (EventStoreUnavailable). */
  busyTimeoutMs?: number;
  /** How often the store checks whether another process appended to the same file (PRAGMA data_version). */
  foreignCommitCheckMs?: number;
  /** How often a waiting subscription reads again anyway: a safety net behind the check above. */
  pollIntervalMs?: number;
  /** Rows read per query by readStream and subscriptions. */
  pageSize?: number;
}

const DEFAULTS: Required<SqliteEventStoreOptions> = {
  busyTimeoutMs: 5000,
  foreignCommitCheckMs: 10,
  pollIntervalMs: 1000,
  pageSize: 500,
};

/** SQLite's largest integer: no position or revision is past it. */
const MAX_INTEGER = 2n ** 63n - 1n;
/** Full pages kept for subscriptions reading the same range at about the same time (oldest dropped first). */
const SHARED_PAGES = 16;

/**
 * The embedded event store: one SQLite file (WAL, synchronous=FULL), or ':memory:' for a throwaway one.
 *
 * - Appends made in the same turn of the event loop are written in one transaction (group commit).
 * - Live subscriptions are woken in-process by appends; appends by another process on the same file are
 *   noticed within `foreignCommitCheckMs` (PRAGMA data_version), with a `pollIntervalMs` read as a backstop.
 * - better-sqlite3 is synchronous: a write waiting on another process's lock blocks this process's
 *   event loop for up to `busyTimeoutMs`.
 */
export class SqliteEventStore implements EventStore {
  readonly #db: SqliteDatabase;
  readonly #statements: Statements;
  readonly #groupCommit: GroupCommit;
  readonly #tuning: Required<SqliteEventStoreOptions>;
  readonly #appendListeners = new Set<() => void>();
  readonly #fullPages = new Map<string, EventPage>();
  /** The last short page read: the head then. Shared until a commit, ours (#wakeSubscribers) or another process's. */
  #headPage: { after: Position; limit: number; dataVersion: unknown; page: EventPage } | undefined;
  readonly #subscriptions = new Set<SqliteSubscription>();
  /** readAllBackwards' statements, one per shape of filter. */
  readonly #backwards = new Map<string, ReturnType<SqliteDatabase['prepare']>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  readonly #file: FileIdentity | undefined;
  /** Undefined for ':memory:', which no other connection can write. */
  readonly #foreignCommits: ForeignCommitWatch | undefined;

  private constructor(db: SqliteDatabase, path: string, tuning: Required<SqliteEventStoreOptions>) {
    this.#db = db;
    this.#tuning = tuning;
    this.#file = FileIdentity.of(path);
    this.#statements = prepareStatements(db);
    this.#foreignCommits =
      path === ':memory:'
        ? undefined
        : new ForeignCommitWatch(
            () => this.#statements.dataVersion.get(),
            tuning.foreignCommitCheckMs,
            () => this.#wakeSubscribers(),
          );
    this.#groupCommit = new GroupCommit(
      db,
      this.#statements,
      () => this.#wakeSubscribers(),
      () => this.#file?.assertUnchanged(),
    );
  }

  /** Opens or creates the store at `path` (parent directories included); ':memory:' is a throwaway store. */
  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const tuning = { ...DEFAULTS, ...options };
    const db = openDatabase(path, tuning.busyTimeoutMs);
    try {
      return new SqliteEventStore(db, path, tuning);
    } catch (error) {
      db.close();
      throw toUnavailable(`cannot open SQLite event store at ${path}`, error);
    }
  }

  /**
   * Expectation checked inside the group's transaction, in call order. Re-appending ids already stored
   * answers the original result. An empty `events` only checks the expectation and answers the stream's
   * current revision and last position ({ nextRevision: -1n, position: 0n } for a missing stream).
   */
  append(
    stream: StreamName,
    events: NewEvent[],
    opts: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new EventStoreUnavailable('the SQLite event store is closed'));
    return this.#groupCommit.enqueue({
      stream,
      events: [...events],
      expectedRevision: opts.expectedRevision,
    });
  }

  async *readStream(
    stream: StreamName,
    opts: { fromRevision?: StreamRevision } = {},
  ): AsyncGenerator<RecordedEvent> {
    const { pageSize } = this.#tuning;
    let from = opts.fromRevision ?? 0n;
    if (from > MAX_INTEGER) return; // past anything SQLite can store (and bind)
    while (true) {
      const rows = this.#query('readStream', () => this.#statements.streamPage.all(stream, from, pageSize));
      for (const row of rows) yield toRecordedEvent(row);
      if (rows.length < pageSize) return;
      from = rows.at(-1)![ROW.revision] + 1n;
    }
  }

  async readAllBackwards(opts: ReadBackwardsOptions): Promise<BackwardsPage> {
    // From the newest event when `before` is past it (also a bound SQLite could not bind, ≥ 2^63).
    const end = (await this.headPosition()) + 1n;
    const before = opts.before === undefined || opts.before > end ? end : opts.before;
    // Positions are dense here (AUTOINCREMENT), so the scan bound is a range of positions.
    const floor = before - BigInt(opts.scanLimit ?? DEFAULT_BACKWARDS_SCAN_LIMIT);
    const from = floor > 1n ? floor : 1n;
    const rows = this.#query('readAllBackwards', () =>
      this.#backwardsStatement(opts).all(...backwardsArgs(opts, before, from)),
    );
    const events = rows.map(toRecordedEvent);
    if (events.length === opts.limit) return { events, next: events.at(-1)!.position };
    return from > 1n ? { events, next: from } : { events };
  }

  /** One prepared statement per shape of filter (how many prefixes and types, whether a correlation id). */
  #backwardsStatement(opts: ReadBackwardsOptions) {
    const shape = `${opts.streamPrefixes?.length ?? -1}:${opts.eventTypes?.length ?? -1}:${opts.correlationId !== undefined}`;
    let statement = this.#backwards.get(shape);
    if (statement === undefined) {
      statement = this.#db.prepare(backwardsSql(opts)).raw(true);
      this.#backwards.set(shape, statement);
    }
    return statement as unknown as { all: (...args: unknown[]) => EventRow[] };
  }

  subscribeAll(opts: SubscribeOptions): Subscription {
    const subscription = new SqliteSubscription(
      {
        readPage: (after, limit) => this.#readAllPage(after, limit),
        finishedPage: (page, finisher) => this.#finishedPage(page, finisher),
        onNextAppend: (listener) => this.#onNextAppend(listener),
        forget: (ended) => {
          this.#subscriptions.delete(ended);
          if (this.#subscriptions.size === 0) this.#foreignCommits?.stop();
        },
      },
      opts,
      this.#tuning,
    );
    this.#subscriptions.add(subscription);
    this.#foreignCommits?.start();
    return subscription;
  }

  async headPosition(): Promise<Position> {
    return this.#query('headPosition', () => this.#statements.headPosition.get()?.head ?? 0n);
  }

  /** Also fails when the file at the store's path is no longer the one it has open (deleted, replaced). */
  async ping(): Promise<void> {
    this.#query('ping', () => {
      this.#file?.assertUnchanged();
      if (this.#file !== undefined) assertDiskSpace(this.#file.path);
      return this.#statements.ping.get();
    });
  }

  /** Writes appends already accepted, ends subscriptions, then closes the database. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Honest counters for the group commit: fewer transactions than appends means appends were grouped. */
  stats(): GroupCommitStats {
    return this.#groupCommit.stats();
  }

  async #shutdown(): Promise<void> {
    this.#groupCommit.flush();
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    this.#foreignCommits?.stop();
    this.#db.close();
  }

  /**
   * A full page is final (positions only grow, and writers commit in order), so subscriptions reading the
   * same range — every projection of a process catching up together — share one read and one parse.
   */
  #readAllPage(after: Position, limit: number): EventPage {
    // Inside #query: a closed store answers EventStoreUnavailable, cached pages or not.
    return this.#query('subscribeAll', () => {
      const key = `${after}:${limit}`;
      const cached = this.#fullPages.get(key);
      if (cached !== undefined) return cached;
      // Live projections woken by the same commit read the same head: one read and one parse for all of them.
      const dataVersion = this.#foreignDataVersion();
      const head = this.#headPage;
      if (head?.after === after && head.limit === limit && head.dataVersion === dataVersion) return head.page;
      const page = new EventPage(this.#statements.allPage.all(after, limit));
      if (page.rows.length === limit) {
        this.#fullPages.set(key, page);
        if (this.#fullPages.size > SHARED_PAGES) this.#fullPages.delete(this.#fullPages.keys().next().value!);
      } else {
        this.#headPage = { after, limit, dataVersion, page };
      }
      return page;
    });
  }

  /**
   * Changes when another connection commits (PRAGMA data_version; never for ':memory:'). Read before a page, so
   * a commit between the two makes the next comparison fail rather than pass on a page that lacks it.
   */
  #foreignDataVersion(): unknown {
    return this.#foreignCommits === undefined ? undefined : this.#statements.dataVersion.get();
  }

  /**
   * A shared page no other subscription still has to read is dropped at once: parsed events kept for
   * nobody would outlive young-generation collections and be copied, then promoted, for nothing.
   */
  #finishedPage(page: EventPage, finisher: SqliteSubscription): void {
    const last = page.rows.at(-1)?.[ROW.position];
    if (last === undefined) return;
    for (const subscription of this.#subscriptions)
      if (subscription !== finisher && subscription.position < last) return;
    for (const [key, cached] of this.#fullPages) {
      if (cached === page) {
        this.#fullPages.delete(key);
        return;
      }
    }
  }

  #onNextAppend(listener: () => void): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  #wakeSubscribers(): void {
    this.#headPage = undefined;
    const listeners = [...this.#appendListeners];
    this.#appendListeners.clear();
    for (const listener of listeners) listener();
  }

  #query<T>(what: string, run: () => T): T {
    if (this.#closed) throw new EventStoreUnavailable(`${what}: the SQLite event store is closed`);
    try {
      return run();
    } catch (error) {
      throw toUnavailable(`${what} failed`, error);
    }
  }
}

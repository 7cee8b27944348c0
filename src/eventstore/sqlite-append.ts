import type Database from 'better-sqlite3';
import type { AppendResult, ExpectedRevision, NewEvent, StreamName, StreamRevision } from './event-store.js';
import { assertStreamName, WrongExpectedVersion } from './event-store.js';
import type { SqliteDatabase, Statements } from './sqlite-db.js';
import { isStoreFailure, toUnavailable } from './sqlite-db.js';

export interface AppendRequest {
  stream: StreamName;
  events: NewEvent[];
  expectedRevision: ExpectedRevision;
}

export interface GroupCommitStats {
  /** Write transactions committed. */
  transactions: number;
  /** Append calls settled by those transactions (successful or refused). */
  appends: number;
  /** Events written by them. */
  events: number;
}

type CurrentRevision = StreamRevision | 'no_stream';

interface Applied {
  result: AppendResult;
  written: number;
}

interface Pending {
  request: AppendRequest;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; applied: Applied } | { ok: false; error: unknown };

const satisfies = (expected: ExpectedRevision, current: CurrentRevision): boolean => {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === 'no_stream';
  if (expected === 'stream_exists') return current !== 'no_stream';
  return current === expected;
};

const currentRevisionOf = (statements: Statements, stream: StreamName): CurrentRevision =>
  statements.currentRevision.get(stream)?.revision ?? 'no_stream';

/**
 * When the request's ids are already stored as one contiguous run of this stream, written by an append
 * whose expectation this request repeats, answers that append's result (EventStoreDB idempotency).
 * Throws when only some ids are stored, or elsewhere; answers undefined when none is stored.
 */
const findEarlierAppend = (
  statements: Statements,
  request: AppendRequest,
  current: CurrentRevision,
): AppendResult | undefined => {
  const stored = request.events.map((event) => statements.eventById.get(event.id));
  if (stored.every((ref) => ref === undefined)) return undefined;
  const elsewhere = stored.find((ref) => ref !== undefined && ref.stream !== request.stream);
  if (elsewhere) {
    throw new Error(
      `append to ${request.stream}: an event id is already stored in stream ${elsewhere.stream}`,
    );
  }
  const first = stored[0];
  const isOneRun =
    first !== undefined && stored.every((ref, i) => ref?.revision === first.revision + BigInt(i));
  if (!isOneRun) throw new WrongExpectedVersion(request.stream, request.expectedRevision, current);
  const revisionBefore: CurrentRevision = first.revision === 0n ? 'no_stream' : first.revision - 1n;
  if (!satisfies(request.expectedRevision, revisionBefore)) {
    throw new WrongExpectedVersion(request.stream, request.expectedRevision, current);
  }
  const last = stored.at(-1)!;
  return { nextRevision: last.revision, position: last.position };
};

/** An empty append writes nothing: it answers the stream's revision (-1n when missing) and last position (0n). */
const emptyAppendResult = (statements: Statements, stream: StreamName, current: CurrentRevision) =>
  current === 'no_stream'
    ? { nextRevision: -1n, position: 0n }
    : { nextRevision: current, position: statements.positionAt.get(stream, current)?.position ?? 0n };

const assertWellFormed = (events: NewEvent[]): void => {
  for (const event of events) {
    if (typeof event.id !== 'string' || event.id === '')
      throw new TypeError('event id must be a non-empty string');
    if (typeof event.type !== 'string' || event.type === '')
      throw new TypeError('event type must be a non-empty string');
  }
  if (new Set(events.map((event) => event.id)).size !== events.length) {
    throw new TypeError('an append must not carry the same event id twice');
  }
};

/** Checks the expectation and writes one append; must run inside a transaction (or savepoint). */
const applyAppend = (statements: Statements, request: AppendRequest, recordedAt: number): Applied => {
  assertStreamName(request.stream);
  assertWellFormed(request.events);
  const { stream, events, expectedRevision } = request;
  const current = currentRevisionOf(statements, stream);
  const earlier = findEarlierAppend(statements, request, current);
  if (earlier) return { result: { ...earlier, alreadyStored: true }, written: 0 };
  if (!satisfies(expectedRevision, current))
    throw new WrongExpectedVersion(stream, expectedRevision, current);
  if (events.length === 0) return { result: emptyAppendResult(statements, stream, current), written: 0 };
  let revision = current === 'no_stream' ? 0n : current + 1n;
  let position = 0n;
  for (const event of events) {
    const data = JSON.stringify(event.data ?? null);
    const metadata = JSON.stringify(event.metadata ?? {});
    const info = statements.insert.run(event.id, stream, revision, event.type, data, metadata, recordedAt);
    position = BigInt(info.lastInsertRowid);
    revision += 1n;
  }
  return { result: { nextRevision: revision - 1n, position }, written: events.length };
};

/**
 * Gathers the appends made before the next turn of the event loop and writes them in one IMMEDIATE
 * transaction (one fsync for all). Each append runs in its own savepoint, in call order, so a refused
 * append rolls back alone; a failure of SQLite itself aborts the group and rejects every append in it.
 */
export class GroupCommit {
  readonly #queue: Pending[] = [];
  #scheduled = false;
  readonly #stats: GroupCommitStats = { transactions: 0, appends: 0, events: 0 };
  readonly #appendInSavepoint: Database.Transaction<(request: AppendRequest, at: number) => Applied>;
  readonly #commitGroup: Database.Transaction<(group: Pending[]) => Outcome[]>;

  constructor(
    db: SqliteDatabase,
    statements: Statements,
    /** After a commit that wrote events, and after a failed one that may have (readers look again). */
    private readonly onEventsWritten: () => void,
    /** Throws when the store must not write (its file was deleted): checked before and after each commit. */
    private readonly assertWritable: () => void = () => {},
  ) {
    this.#appendInSavepoint = db.transaction((request: AppendRequest, at: number) =>
      applyAppend(statements, request, at),
    );
    this.#commitGroup = db.transaction((group: Pending[]) => {
      const at = Date.now();
      return group.map((pending) => this.#tryAppend(pending.request, at));
    });
  }

  enqueue(request: AppendRequest): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#schedule();
    });
  }

  stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /** Writes everything queued now; also called by close() so accepted appends are not dropped. */
  flush(): void {
    this.#scheduled = false;
    const group = this.#queue.splice(0);
    if (group.length === 0) return;
    let outcomes: Outcome[];
    try {
      this.assertWritable();
      outcomes = this.#commitGroup.immediate(group);
      // Nothing is acknowledged that went into a file no longer at the store's path.
      this.assertWritable();
    } catch (error) {
      const failure = toUnavailable('SQLite append failed; nothing of it was written', error);
      for (const pending of group) pending.reject(failure);
      // The check after the commit may be what failed: let readers look again rather than trust what they hold.
      this.onEventsWritten();
      return;
    }
    this.#settle(group, outcomes);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate rather than a microtask: it also gathers appends made after other awaits in this turn.
    setImmediate(() => this.flush());
  }

  #tryAppend(request: AppendRequest, at: number): Outcome {
    try {
      return { ok: true, applied: this.#appendInSavepoint(request, at) };
    } catch (error) {
      if (isStoreFailure(error)) throw error;
      return { ok: false, error };
    }
  }

  #settle(group: Pending[], outcomes: Outcome[]): void {
    let written = 0;
    group.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        written += outcome.applied.written;
        pending.resolve(outcome.applied.result);
      } else {
        pending.reject(outcome.error);
      }
    });
    this.#stats.transactions += 1;
    this.#stats.appends += group.length;
    this.#stats.events += written;
    if (written > 0) this.onEventsWritten();
  }
}

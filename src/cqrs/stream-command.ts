import {
  type AppendResult,
  type EventStore,
  EventStoreUnavailable,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type RecordedEvent,
  type StreamRevision,
  WrongExpectedVersion,
} from '../eventstore/index.js';
import { ConcurrencyConflict, IdempotencyKeyReused, PreconditionFailed } from './errors.js';
import { claimIdempotencyKey } from './idempotency-claim.js';
import { type Command, eventIdFor } from './messages.js';
import type { EventSchemas } from './upcasting.js';

/** A pure decider: the domain's whole write-side logic. */
export interface Decider<C, E extends { type: string; data: unknown }, S> {
  initialState: () => S;
  evolve: (state: S, event: E) => S;
  decide: (command: C, state: S) => E[];
}

export interface StreamCommandResult {
  /** The stream's revision after the command. */
  version: StreamRevision;
  /** Global position of the command's last event. */
  position: Position;
  /** True when the command had already been applied (same Idempotency-Key) and nothing was appended. */
  replayed: boolean;
}

/** What If-Match pins a command to: one version, or any of a list (empty: none can match). */
export type ExpectedVersion = StreamRevision | readonly StreamRevision[];

export interface StreamCommandOptions {
  /**
   * From If-Match: run only at this revision (or one of these), else PreconditionFailed; conflicts are then
   * not retried. An empty list matches no revision.
   */
  expectedVersion?: ExpectedVersion;
  /**
   * The stream is almost surely new (its id was just made, as a placed order's): decide on the initial state
   * and append expecting no stream, without reading it first. If it exists after all, the command goes the
   * usual way (load, replay check, decide again), so the answer is the same, only one read cheaper. Ignored
   * for a command with an Idempotency-Key (its retry must be found by reading).
   */
  likelyNew?: boolean;
  maxConflictRetries?: number;
  onConflict?: () => void;
  onRetry?: () => void;
}

export interface StreamCommandContext {
  store: EventStore;
  schemas: EventSchemas;
  upcast: (event: RecordedEvent) => RecordedEvent;
  /** Called before decide with the loaded state: lets the domain answer 404 before If-Match is checked. */
  assertExists?: (revision: StreamRevision | 'no_stream') => void;
}

interface LoadedStream<S> {
  state: S;
  revision: StreamRevision | 'no_stream';
  /** Events this very command appended earlier (same command id). */
  previous: RecordedEvent[];
}

const loadStream = async <C, E extends { type: string; data: unknown }, S>(
  ctx: StreamCommandContext,
  decider: Decider<C, E, S>,
  stream: string,
  commandId: string,
): Promise<LoadedStream<S>> => {
  let state = decider.initialState();
  let revision: StreamRevision | 'no_stream' = 'no_stream';
  const previous: RecordedEvent[] = [];
  for await (const recorded of ctx.store.readStream(stream)) {
    const event = ctx.upcast(recorded);
    state = decider.evolve(state, { type: event.type, data: event.data } as E);
    revision = event.revision;
    if (event.metadata.commandId === commandId) previous.push(event);
  }
  return { state, revision, previous };
};

const toNewEvents = <E extends { type: string; data: unknown }>(
  events: E[],
  command: Command,
  schemas: EventSchemas,
): NewEvent[] =>
  events.map((event, index) => ({
    id: eventIdFor(command.metadata, index),
    type: event.type,
    data: event.data,
    metadata: {
      ...command.metadata,
      causationId: command.metadata.commandId,
      commandType: command.type,
      schemaVersion: schemas[event.type]?.current ?? 1,
    },
  }));

/** An append's answer; one the store had already stored (a concurrent retry of the same request) is a replay. */
const resultOf = (result: AppendResult): StreamCommandResult => ({
  version: result.nextRevision,
  position: result.position,
  replayed: result.alreadyStored === true,
});

const replayOf = (previous: RecordedEvent[], command: Command): StreamCommandResult => {
  if (previous[0]?.metadata.requestHash !== command.metadata.requestHash) {
    throw new IdempotencyKeyReused('this Idempotency-Key was used with a different request');
  }
  const last = previous[previous.length - 1]!;
  return { version: last.revision, position: last.position, replayed: true };
};

// With capped full jitter, 10 retries resolve dozens of writers racing on one stream within ~1.5 s.
const DEFAULT_CONFLICT_RETRIES = 10;
const MAX_RETRY_DELAY_MS = 250;

/** Full jitter, capped: contenders spread out instead of colliding again on the same turn. */
const jitteredDelay = (attempt: number): Promise<void> =>
  new Promise((resolve) =>
    setTimeout(resolve, Math.random() * Math.min(MAX_RETRY_DELAY_MS, 5 * 2 ** attempt)),
  );

const describeRevision = (revision: StreamRevision | 'no_stream'): string =>
  revision === 'no_stream' ? 'does not exist yet' : `is at version ${revision}`;

/**
 * Appends; an unavailable store is tried once more with the same ids and expected revision, which is
 * idempotent. A store still unavailable fails the command with EventStoreUnavailable (a 503 over HTTP).
 */
const appendOnce = async (
  store: EventStore,
  stream: string,
  events: NewEvent[],
  expected: ExpectedRevision,
) => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.append(stream, events, { expectedRevision: expected });
    } catch (error) {
      if (!(error instanceof EventStoreUnavailable) || attempt >= 1) throw error;
      await jitteredDelay(3);
    }
  }
};

const assertExpectedVersion = (
  loaded: LoadedStream<unknown>,
  expected: ExpectedVersion | undefined,
): void => {
  if (expected === undefined) return;
  const versions = typeof expected === 'bigint' ? [expected] : expected;
  if (loaded.revision !== 'no_stream' && versions.includes(loaded.revision)) return;
  const wanted = versions.length === 0 ? 'a version no entity-tag named' : `version ${versions.join(' or ')}`;
  throw new PreconditionFailed(`expected ${wanted}, but the stream ${describeRevision(loaded.revision)}`);
};

/** The command decided on the initial state and appended expecting no stream; undefined if it exists. */
const appendAsNew = async <C extends Command, E extends { type: string; data: unknown }, S>(
  ctx: StreamCommandContext,
  decider: Decider<C, E, S>,
  stream: string,
  command: C,
): Promise<StreamCommandResult | undefined> => {
  let events: E[];
  try {
    ctx.assertExists?.('no_stream');
    events = decider.decide(command, decider.initialState());
  } catch {
    return undefined; // the usual way decides on what is really there, and answers its own error
  }
  try {
    const result = await appendOnce(
      ctx.store,
      stream,
      toNewEvents(events, command, ctx.schemas),
      'no_stream',
    );
    return resultOf(result);
  } catch (error) {
    if (error instanceof WrongExpectedVersion) return undefined;
    throw error;
  }
};

/**
 * Load → decide → append with the revision read. Conflicts are retried (bounded, with jitter) unless the
 * caller pinned a version; a command already applied (same command id) answers as the first time did.
 */
export const executeStreamCommand = async <C extends Command, E extends { type: string; data: unknown }, S>(
  ctx: StreamCommandContext,
  decider: Decider<C, E, S>,
  stream: string,
  command: C,
  options: StreamCommandOptions = {},
): Promise<StreamCommandResult> => {
  const maxRetries = options.maxConflictRetries ?? DEFAULT_CONFLICT_RETRIES;
  await claimIdempotencyKey(ctx.store, command, stream);
  // Not with an Idempotency-Key: a retry must be answered as a replay, and appending the same event ids
  // again succeeds without a conflict (stores deduplicate them), so only reading the stream tells.
  if (
    options.likelyNew &&
    options.expectedVersion === undefined &&
    command.metadata.requestHash === undefined
  ) {
    const created = await appendAsNew(ctx, decider, stream, command);
    if (created !== undefined) return created;
  }
  for (let attempt = 0; ; attempt++) {
    const loaded = await loadStream(ctx, decider, stream, command.metadata.commandId);
    if (loaded.previous.length > 0) return replayOf(loaded.previous, command);
    ctx.assertExists?.(loaded.revision);
    assertExpectedVersion(loaded, options.expectedVersion);
    const newEvents = toNewEvents(decider.decide(command, loaded.state), command, ctx.schemas);
    try {
      const result = await appendOnce(ctx.store, stream, newEvents, loaded.revision);
      return resultOf(result);
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      options.onConflict?.();
      if (attempt >= maxRetries)
        throw new ConcurrencyConflict('the stream kept changing concurrently; try again');
      // Pinned by If-Match: no retry; the reload answers a replay as such, anything else fails with 412.
      if (options.expectedVersion !== undefined) continue;
      options.onRetry?.();
      await jitteredDelay(attempt);
    }
  }
};

/**
 * Pure translations between the event-store port and @eventstore/db-client 6.x: revisions, errors,
 * positions, recorded events, server-side filters, the resubscribe schedule and subscription progress.
 * No I/O here, so all of it is unit tested without a server.
 */

import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendExpectedRevision,
  Position as ClientPosition,
  EventData,
  Filter,
  JSONType,
  ReadPosition,
  ResolvedEvent,
} from '@eventstore/db-client';
import {
  ANY,
  convertToCommandError,
  ErrorType,
  eventTypeFilter,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  streamNameFilter,
} from '@eventstore/db-client';
import type {
  EventMetadata,
  ExpectedRevision,
  NewEvent,
  Position,
  RecordedEvent,
  StreamName,
  StreamRevision,
  SubscriptionFilter,
} from './event-store.js';
import { EventStoreUnavailable, WrongExpectedVersion } from './event-store.js';

// ── expected revision ────────────────────────────────────────────────────────────────────────────

export const toClientExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    case 'any':
      return ANY;
    default:
      if (expected < 0n) throw new RangeError(`expected revision must be >= 0, got ${expected}`);
      return expected;
  }
};

// ── errors ───────────────────────────────────────────────────────────────────────────────────────

/**
 * The client tags every CommandError with a string `type`; reading it also works across duplicate copies of
 * the client. Some paths (the first call's server-features probe) reject with a raw gRPC error: convert it.
 */
export const clientErrorType = (err: unknown): string | undefined => {
  const converted: unknown = err instanceof Error ? convertToCommandError(err) : err;
  const type =
    typeof converted === 'object' && converted !== null ? (converted as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : undefined;
};

/** Errors that mean "the server did not answer (in time)", not "the server said no". */
const UNAVAILABLE_TYPES: ReadonlySet<string> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.CANCELLED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER, // the write was refused by a follower; nothing was written
]);

export const isUnavailableError = (err: unknown): boolean => {
  const type = clientErrorType(err);
  if (type !== undefined) return UNAVAILABLE_TYPES.has(type);
  // Gossip discovery (esdb+discover:// or several hosts) gives up with a plain Error.
  return err instanceof Error && err.message.startsWith('Failed to discover');
};

export const isStreamNotFoundError = (err: unknown): boolean =>
  clientErrorType(err) === ErrorType.STREAM_NOT_FOUND;

/** A dropped subscription is worth re-opening unless the server refused it for good (access denied, bad filter…). */
export const isWorthResubscribing = (err: unknown): boolean => {
  const type = clientErrorType(err);
  return type === undefined || type === ErrorType.UNKNOWN || isUnavailableError(err);
};

interface ClientWrongExpectedVersion {
  streamName: string;
  expectedVersion: AppendExpectedRevision;
  actualVersion: bigint | 'no_stream';
}

const toActualRevision = (actual: bigint | 'no_stream'): StreamRevision | 'no_stream' =>
  typeof actual === 'bigint' && actual >= 0n ? actual : 'no_stream';

/** What was asked for, when the error comes from an append: our own words beat the server's echo of them. */
export interface AppendAttempt {
  stream: StreamName;
  expected: ExpectedRevision;
}

/** Client error → the port's error; anything else passes through unchanged. */
export const toStoreError = (err: unknown, attempt?: AppendAttempt): Error => {
  if (clientErrorType(err) === ErrorType.WRONG_EXPECTED_VERSION) {
    const wrong = convertToCommandError(err as Error) as unknown as ClientWrongExpectedVersion;
    return new WrongExpectedVersion(
      attempt?.stream ?? wrong.streamName,
      attempt?.expected ?? wrong.expectedVersion,
      toActualRevision(wrong.actualVersion),
    );
  }
  if (isUnavailableError(err)) {
    // A deadline does not prove an append failed. That is safe: callers retry with the same event ids and
    // expected revision, which EventStoreDB answers idempotently (as the first append) instead of writing twice.
    const reason = err instanceof Error && err.message !== '' ? err.message : clientErrorType(err);
    return new EventStoreUnavailable(`EventStoreDB unavailable: ${reason ?? 'unknown reason'}`, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
};

// ── positions and events ─────────────────────────────────────────────────────────────────────────

/** Positions the server hands out never reach 2^63; larger values are its "no position" sentinels. */
export const MAX_VALID_POSITION = 2n ** 63n;

/**
 * Where a subscription resumes. 'start' and 0n both mean "from the beginning" (no event sits at 0).
 * Events written over gRPC have prepare = commit, so the commit position alone names the record.
 */
export const toClientReadPosition = (from: Position | 'start'): ReadPosition =>
  from === 'start' || from === 0n ? START : { commit: from, prepare: from };

export const commitPositionOf = (resolved: ResolvedEvent | AllStreamResolvedEvent): Position | undefined =>
  resolved.event?.position?.commit ?? resolved.commitPosition;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** undefined when the event cannot be placed on the global order (no event, or no position). */
export const toRecordedEvent = (
  resolved: ResolvedEvent | AllStreamResolvedEvent,
): RecordedEvent | undefined => {
  const event = resolved.event;
  const position = commitPositionOf(resolved);
  if (event === undefined || position === undefined) return undefined;
  const metadata: EventMetadata = isPlainObject(event.metadata) ? event.metadata : {};
  return {
    id: event.id,
    stream: event.streamId,
    revision: event.revision,
    position,
    type: event.type,
    data: event.data,
    metadata,
    recordedAt: event.created,
  };
};

/** Our event → a JSON event whose id is ours, so a retried append is recognised as the same one. */
export const toEventData = (event: NewEvent): EventData =>
  jsonEvent({ id: event.id, type: event.type, data: event.data as JSONType, metadata: event.metadata });

export const isSystemStream = (stream: StreamName): boolean => stream.startsWith('$');

// ── subscription filters ─────────────────────────────────────────────────────────────────────────

/** Excludes system streams ($stats-…, $$metadata, $settings…) when the caller named no prefixes. */
export const USER_STREAMS_REGEX = '^[^$]';
/** The server sends a checkpoint every checkpointInterval × maxSearchWindow scanned events. */
export const CHECKPOINT_EVERY_EVENTS = 32;

type CheckpointReached = (subscription: AllStreamSubscription, position: ClientPosition) => void;

const nonEmpty = (list: string[] | undefined): string[] | undefined =>
  list !== undefined && list.length > 0 ? list : undefined;

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exact names, not prefixes: OrderPlaced must not let OrderPlacedV2 through. */
export const exactNamesRegex = (names: string[]): string => `^(?:${names.map(escapeRegex).join('|')})$`;

/**
 * The server filters on stream names or on event types, not both: prefixes win (the cheaper, usual
 * case) and {@link matchesFilter} applies the rest on our side.
 */
export const toServerFilter = (
  filter: SubscriptionFilter | undefined,
  onCheckpoint: CheckpointReached,
): Filter => {
  const cadence = {
    checkpointInterval: 1,
    maxSearchWindow: CHECKPOINT_EVERY_EVENTS,
    checkpointReached: onCheckpoint,
  };
  const prefixes = nonEmpty(filter?.streamPrefixes);
  if (prefixes !== undefined) return streamNameFilter({ prefixes, ...cadence });
  const types = nonEmpty(filter?.eventTypes);
  if (types !== undefined) return eventTypeFilter({ regex: exactNamesRegex(types), ...cadence });
  return streamNameFilter({ regex: USER_STREAMS_REGEX, ...cadence });
};

/** The whole filter, exactly, on our side (the server's part is a superset). Empty lists mean "no condition". */
export const matchesFilter = (
  event: Pick<RecordedEvent, 'stream' | 'type'>,
  filter: SubscriptionFilter | undefined,
): boolean => {
  const prefixes = nonEmpty(filter?.streamPrefixes);
  const types = nonEmpty(filter?.eventTypes);
  const streamMatches =
    prefixes === undefined ? !isSystemStream(event.stream) : prefixes.some((p) => event.stream.startsWith(p));
  return streamMatches && (types === undefined || types.includes(event.type));
};

// ── resubscribing ────────────────────────────────────────────────────────────────────────────────

export const RESUBSCRIBE_BACKOFF = { initialMs: 100, maxMs: 5_000 } as const;

/** 100, 200, 400 … ms, capped at 5 s; `failures` counts drops since the last message that got through. */
export const resubscribeDelayMs = (failures: number, backoff = RESUBSCRIBE_BACKOFF): number =>
  Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, failures));

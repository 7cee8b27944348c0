import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import {
  AccessDeniedError,
  ANY,
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import {
  commitPositionOf,
  isStreamNotFoundError,
  isUnavailableError,
  isWorthResubscribing,
  resubscribeDelayMs,
  toClientExpectedRevision,
  toClientReadPosition,
  toEventData,
  toRecordedEvent,
  toStoreError,
} from '../../src/eventstore/esdb-mapping';
import { EventStoreUnavailable, WrongExpectedVersion } from '../../src/eventstore/event-store';

const created = new Date('2024-05-01T12:00:00.000Z');

/** A resolved event shaped exactly as the client's convertGrpcEvent builds it for a JSON event. */
const resolvedEvent = (
  overrides: {
    position?: bigint;
    commitPosition?: bigint;
    metadata?: unknown;
    stream?: string;
    type?: string;
  } = {},
): AllStreamResolvedEvent =>
  ({
    event: {
      streamId: overrides.stream ?? 'order-1',
      id: '6f1c1f7e-6a53-4b8e-9f55-3d1c0a9f0b11',
      revision: 3n,
      type: overrides.type ?? 'OrderPlaced',
      data: { orderId: '1', total: 1250 },
      metadata: 'metadata' in overrides ? overrides.metadata : { correlationId: 'c-1' },
      isJson: true,
      created,
      position:
        overrides.position === undefined
          ? undefined
          : { commit: overrides.position, prepare: overrides.position },
    },
    commitPosition: overrides.commitPosition,
  }) as AllStreamResolvedEvent;

describe('toClientExpectedRevision', () => {
  it.each([
    ['no_stream', NO_STREAM],
    ['stream_exists', STREAM_EXISTS],
    ['any', ANY],
  ] as const)('maps %s to the client constant', (ours, theirs) => {
    expect(toClientExpectedRevision(ours)).toBe(theirs);
  });

  it('passes a revision through as a bigint', () => {
    expect(toClientExpectedRevision(7n)).toBe(7n);
  });

  it('refuses a negative revision instead of letting the server read it as a magic number', () => {
    expect(() => toClientExpectedRevision(-1n)).toThrow(RangeError);
  });
});

describe('toStoreError', () => {
  const wrongVersion = (
    expected: bigint | 'no_stream' | 'stream_exists' | 'any',
    current: bigint | 'no_stream',
  ) => new WrongExpectedVersionError(undefined, { streamName: 'order-1', expected, current });

  it('given the client WrongExpectedVersionError of an append, then our WrongExpectedVersion with what we asked for', () => {
    const error = toStoreError(wrongVersion(NO_STREAM, 4n), { stream: 'order-1', expected: 'no_stream' });
    expect(error).toBeInstanceOf(WrongExpectedVersion);
    expect(error).toMatchObject({ stream: 'order-1', expected: 'no_stream', actual: 4n });
  });

  it('given a missing stream, then actual is no_stream', () => {
    const error = toStoreError(wrongVersion(STREAM_EXISTS, NO_STREAM), {
      stream: 'order-1',
      expected: 'stream_exists',
    });
    expect(error).toMatchObject({ expected: 'stream_exists', actual: 'no_stream' });
  });

  it('given no append context, then the fields come from the client error', () => {
    expect(toStoreError(wrongVersion(2n, 5n))).toMatchObject({ stream: 'order-1', expected: 2n, actual: 5n });
  });

  it.each([
    ['UnavailableError', () => new UnavailableError()],
    ['DeadlineExceededError', () => new DeadlineExceededError()],
    ['CancelledError', () => new CancelledError()],
    ['TimeoutError', () => new TimeoutError()],
    ['NotLeaderError (duck-typed: its constructor needs gRPC metadata)', () => ({ type: 'not-leader' })],
    ['a failed gossip discovery', () => new Error('Failed to discover after 10 attempts.')],
  ])('given %s, then EventStoreUnavailable keeping the cause', (_, make) => {
    const cause = make();
    const error = toStoreError(cause);
    expect(error).toBeInstanceOf(EventStoreUnavailable);
    expect(error.cause).toBe(cause);
    expect(isUnavailableError(cause)).toBe(true);
  });

  it.each([
    ['AccessDeniedError', new AccessDeniedError()],
    ['StreamNotFoundError', new StreamNotFoundError(undefined, 'order-1')],
    ['UnknownError', new UnknownError()],
    ['a plain Error', new Error('boom')],
  ])('given %s, then it passes through unchanged', (_, cause) => {
    expect(toStoreError(cause)).toBe(cause);
    expect(isUnavailableError(cause)).toBe(false);
  });

  it('given something thrown that is not an Error, then an Error that says what it was', () => {
    expect(toStoreError('bad')).toEqual(new Error('bad'));
  });
});

describe('isStreamNotFoundError', () => {
  it('recognises the error readStream throws on its first step', () => {
    expect(isStreamNotFoundError(new StreamNotFoundError(undefined, 'order-1'))).toBe(true);
    expect(isStreamNotFoundError(new UnknownError())).toBe(false);
  });
});

describe('isWorthResubscribing', () => {
  it.each([
    ['UnavailableError', new UnavailableError(), true],
    ['CancelledError (server shutting down)', new CancelledError(), true],
    ['UnknownError (e.g. a reset HTTP/2 stream)', new UnknownError(), true],
    ['a plain Error (e.g. premature close)', new Error('Premature close'), true],
    ['AccessDeniedError', new AccessDeniedError(), false],
    ['InvalidArgumentError', new InvalidArgumentError('bad filter'), false],
  ])('%s → %s', (_, error, expected) => {
    expect(isWorthResubscribing(error)).toBe(expected);
  });
});

describe('positions', () => {
  it('starts from the beginning for start and for 0n', () => {
    expect(toClientReadPosition('start')).toBe(START);
    expect(toClientReadPosition(0n)).toBe(START);
  });

  it('resumes from a commit position with prepare = commit', () => {
    expect(toClientReadPosition(4242n)).toEqual({ commit: 4242n, prepare: 4242n });
  });

  it('takes the commit position of the event, else of the resolved event', () => {
    expect(commitPositionOf(resolvedEvent({ position: 10n, commitPosition: 99n }))).toBe(10n);
    expect(commitPositionOf(resolvedEvent({ commitPosition: 99n }))).toBe(99n);
    expect(commitPositionOf(resolvedEvent())).toBeUndefined();
  });
});

describe('toRecordedEvent', () => {
  it('maps every field, with the commit position and the created date', () => {
    expect(toRecordedEvent(resolvedEvent({ position: 10n }))).toEqual({
      id: '6f1c1f7e-6a53-4b8e-9f55-3d1c0a9f0b11',
      stream: 'order-1',
      revision: 3n,
      position: 10n,
      type: 'OrderPlaced',
      data: { orderId: '1', total: 1250 },
      metadata: { correlationId: 'c-1' },
      recordedAt: created,
    });
  });

  it('gives undefined for an event without a position, so subscriptions can skip it', () => {
    expect(toRecordedEvent(resolvedEvent())).toBeUndefined();
    expect(toRecordedEvent({ commitPosition: 5n })).toBeUndefined();
  });

  it.each([
    ['missing', undefined],
    ['binary', new Uint8Array([1, 2])],
    ['an array', [1, 2]],
  ])('given %s metadata, then empty metadata', (_, metadata) => {
    expect(toRecordedEvent(resolvedEvent({ position: 1n, metadata }))?.metadata).toEqual({});
  });
});

describe('toEventData', () => {
  it('writes a JSON event with our id, type, data and metadata', () => {
    const event = {
      id: 'a3c3e9a4-0000-4000-8000-000000000001',
      type: 'OrderPlaced',
      data: { n: 1 },
      metadata: { m: 2 },
    };
    expect(toEventData(event)).toEqual({
      id: event.id,
      contentType: 'application/json',
      type: 'OrderPlaced',
      data: { n: 1 },
      metadata: { m: 2 },
    });
  });
});

describe('resubscribeDelayMs', () => {
  it('doubles from 100 ms and stays at 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => resubscribeDelayMs(n))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000,
    ]);
  });

  it('treats a negative count as the first attempt', () => {
    expect(resubscribeDelayMs(-3)).toBe(100);
  });
});

describe('raw gRPC errors (the client does not convert every path)', () => {
  const rawGrpcError = (code: number, message: string) =>
    Object.assign(new Error(message), { code, details: message, metadata: undefined });

  it('given UNAVAILABLE from the first call of a process, then EventStoreUnavailable', () => {
    const raw = rawGrpcError(14, '14 UNAVAILABLE: No connection established');
    expect(isUnavailableError(raw)).toBe(true);
    expect(toStoreError(raw)).toBeInstanceOf(EventStoreUnavailable);
  });

  it('given DEADLINE_EXCEEDED, then EventStoreUnavailable', () => {
    expect(toStoreError(rawGrpcError(4, '4 DEADLINE_EXCEEDED'))).toBeInstanceOf(EventStoreUnavailable);
  });

  it('given an error the client would not recognise either, then it passes through', () => {
    const raw = rawGrpcError(13, '13 INTERNAL: boom');
    expect(toStoreError(raw)).toBe(raw);
  });
});

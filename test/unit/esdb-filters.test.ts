import { EVENT_TYPE, STREAM_NAME } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import {
  exactNamesRegex,
  matchesFilter,
  toServerFilter,
  USER_STREAMS_REGEX,
} from '../../src/eventstore/esdb-mapping';

describe('toServerFilter', () => {
  const onCheckpoint = () => {};

  it('given stream prefixes, then a stream-name prefix filter with a checkpoint on every window', () => {
    expect(toServerFilter({ streamPrefixes: ['order-'] }, onCheckpoint)).toEqual({
      filterOn: STREAM_NAME,
      prefixes: ['order-'],
      checkpointInterval: 1,
      maxSearchWindow: 32,
      checkpointReached: onCheckpoint,
    });
  });

  it('given prefixes and types, then the server filters on prefixes (types are checked on our side)', () => {
    const filter = toServerFilter({ streamPrefixes: ['order-'], eventTypes: ['OrderPlaced'] }, onCheckpoint);
    expect(filter).toMatchObject({ filterOn: STREAM_NAME, prefixes: ['order-'] });
  });

  it('given only event types, then an event-type regex matching exactly those names', () => {
    const filter = toServerFilter({ eventTypes: ['OrderPlaced', 'OrderShipped'] }, onCheckpoint);
    expect(filter).toMatchObject({ filterOn: EVENT_TYPE, regex: '^(?:OrderPlaced|OrderShipped)$' });
  });

  it.each([undefined, {}, { streamPrefixes: [], eventTypes: [] }])(
    'given no condition (%o), then system streams are excluded',
    (filter) => {
      expect(toServerFilter(filter, onCheckpoint)).toMatchObject({
        filterOn: STREAM_NAME,
        regex: USER_STREAMS_REGEX,
      });
    },
  );

  it('excludes exactly the $-streams with its regex', () => {
    const regex = new RegExp(USER_STREAMS_REGEX);
    expect(['order-1', 'customer-x'].every((s) => regex.test(s))).toBe(true);
    expect(['$stats-127.0.0.1:2113', '$$order-1', '$settings'].some((s) => regex.test(s))).toBe(false);
  });
});

describe('exactNamesRegex', () => {
  it('matches whole names only and escapes regex characters', () => {
    const regex = new RegExp(exactNamesRegex(['Order.Placed', 'A+B']));
    expect(regex.test('Order.Placed')).toBe(true);
    expect(regex.test('A+B')).toBe(true);
    expect(regex.test('OrderXPlaced')).toBe(false);
    expect(regex.test('Order.PlacedV2')).toBe(false);
    expect(regex.test('AAB')).toBe(false);
  });
});

describe('matchesFilter', () => {
  const event = (stream: string, type = 'OrderPlaced') => ({ stream, type });

  it('without a filter keeps user streams and drops system streams', () => {
    expect(matchesFilter(event('order-1'), undefined)).toBe(true);
    expect(matchesFilter(event('$stats-1'), undefined)).toBe(false);
  });

  it('with prefixes keeps streams starting with one of them', () => {
    const filter = { streamPrefixes: ['order-', 'customer-'] };
    expect(matchesFilter(event('customer-9'), filter)).toBe(true);
    expect(matchesFilter(event('invoice-9'), filter)).toBe(false);
  });

  it('with both needs a prefix and a type', () => {
    const filter = { streamPrefixes: ['order-'], eventTypes: ['OrderShipped'] };
    expect(matchesFilter(event('order-1', 'OrderShipped'), filter)).toBe(true);
    expect(matchesFilter(event('order-1', 'OrderPlaced'), filter)).toBe(false);
    expect(matchesFilter(event('other-1', 'OrderShipped'), filter)).toBe(false);
  });

  it('with types only compares whole names and still drops system streams', () => {
    const filter = { eventTypes: ['OrderPlaced'] };
    expect(matchesFilter(event('order-1', 'OrderPlacedV2'), filter)).toBe(false);
    expect(matchesFilter(event('$$order-1', 'OrderPlaced'), filter)).toBe(false);
  });
});

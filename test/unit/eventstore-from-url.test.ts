import { describe, expect, it } from 'vitest';
import { parseEventStoreUrl } from '../../src/eventstore/from-url';

describe('parseEventStoreUrl: tuning of the embedded store after "?"', () => {
  it.each([
    ['sqlite:./data/events.sqlite', './data/events.sqlite', {}],
    ['sqlite::memory:', ':memory:', {}],
    ['sqlite:/tmp/e.sqlite?busyTimeoutMs=200', '/tmp/e.sqlite', { busyTimeoutMs: 200 }],
    ['sqlite:/tmp/e.sqlite?busyTimeoutMs=0', '/tmp/e.sqlite', { busyTimeoutMs: 0 }],
    [
      'sqlite:e.sqlite?busyTimeoutMs=50&pollIntervalMs=100&pageSize=10',
      'e.sqlite',
      { busyTimeoutMs: 50, pollIntervalMs: 100, pageSize: 10 },
    ],
  ])('given %s, then the path and options are read', (url, path, options) => {
    expect(parseEventStoreUrl(url)).toEqual({ kind: 'sqlite', path, options });
  });

  it.each([
    ['sqlite:e.sqlite?busyTimeout=200', /unknown sqlite option "busyTimeout"/],
    ['sqlite:e.sqlite?busyTimeoutMs=abc', /busyTimeoutMs=abc must be a whole number/],
    ['sqlite:e.sqlite?busyTimeoutMs=-1', /busyTimeoutMs=-1/],
    ['sqlite:e.sqlite?busyTimeoutMs=1.5', /busyTimeoutMs=1.5/],
    ['sqlite:e.sqlite?pageSize=0', /pageSize=0/],
    ['sqlite:e.sqlite?busyTimeoutMs=600001', /up to 600000/],
    ['sqlite:?busyTimeoutMs=1', /needs a path/],
  ])('given %s, then the error names the problem', (url, message) => {
    expect(() => parseEventStoreUrl(url)).toThrow(message);
  });

  it('given an esdb URL, then its query is left to the client', () => {
    expect(parseEventStoreUrl('esdb://localhost:2113?tls=false')).toEqual({
      kind: 'esdb',
      connectionString: 'esdb://localhost:2113?tls=false',
    });
  });
});

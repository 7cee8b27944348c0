import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationFailed } from '../../src/cqrs';
import { consistencyParams } from '../../src/http/consistency-params';
import { parseParams } from '../../src/http/request';

/** What a parse answers, comparable: the value without absent keys, or the 400's message and field errors. */
const outcome = (parse: () => object) => {
  try {
    return { ok: JSON.parse(JSON.stringify(parse())) };
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    return { refused: error.message, errors: error.errors };
  }
};

const digits = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength }).map(String);
const value = fc.oneof(
  digits(22),
  fc.constantFrom(
    '9007199254740991',
    '9007199254740992',
    '9999999999999999',
    '0',
    '00',
    ' 7',
    '+7',
    '1e3',
    '0x10',
  ),
  fc.string({ maxLength: 8 }),
);
const rawQuery = fc.record(
  { minPosition: value, minVersion: value, limit: value },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;

describe('read-your-writes query parameters', () => {
  it.each([true, false])(
    'answers exactly what the schema answers (route with a version: %s)',
    (withVersion) => {
      const params = consistencyParams(withVersion);
      fc.assert(
        fc.property(rawQuery, (raw) => {
          expect(outcome(() => params.parse(raw))).toEqual(
            outcome(() => parseParams(params.schema, raw, 'query')),
          );
        }),
        { numRuns: 2000 },
      );
    },
  );

  it('reads minVersion as a number and leaves minPosition a decimal string', () => {
    const { parse } = consistencyParams(true);
    expect(parse({ minVersion: '12', minPosition: '18446744073709551615' })).toEqual({
      minVersion: 12,
      minPosition: '18446744073709551615',
    });
    expect(parse({})).toEqual({});
  });

  it('refuses a version past the largest safe integer with the field named', () => {
    const { parse } = consistencyParams(true);
    expect(() => parse({ minVersion: '9007199254740992' })).toThrow(ValidationFailed);
    expect(outcome(() => parse({ minVersion: '9007199254740992' }))).toMatchObject({
      errors: [{ path: 'minVersion' }],
    });
  });

  it('ignores minVersion on a route without a version, as the schema does', () => {
    expect(consistencyParams(false).parse({ minVersion: 'ten' })).toEqual({});
  });
});

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

const digits = (maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength });
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
    '٣', // Arabic-Indic three
    '３', // fullwidth three
  ),
  fc.string({ maxLength: 8 }),
);
/** As Hono's `c.req.query()` answers: an object without a prototype, so `__proto__` is a key like any other. */
const rawQuery = fc
  .array(fc.tuple(fc.constantFrom('minPosition', 'minVersion', 'limit', '__proto__', 'constructor'), value), {
    maxLength: 4,
  })
  .map((entries) => {
    const raw = Object.create(null) as Record<string, string>;
    for (const [key, text] of entries) raw[key] = text;
    return raw;
  });

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

  it('names the range, not the digits, for a version of too many digits', () => {
    const { parse } = consistencyParams(true);
    expect(outcome(() => parse({ minVersion: '18446744073709551616' }))).toMatchObject({
      errors: [{ path: 'minVersion', message: `must be at most ${Number.MAX_SAFE_INTEGER}` }],
    });
  });

  it('ignores minVersion on a route without a version, as the schema does', () => {
    expect(consistencyParams(false).parse({ minVersion: 'ten' })).toEqual({});
  });
});

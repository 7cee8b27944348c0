// The generated half of bad-input.test.ts: fast-check arbitraries that only ever produce requests the
// contract refuses (every body is filtered through the route's own schema).
import fc from 'fast-check';
import { z } from 'zod';
import { isJsonMediaType } from '../../src/http/request';
import { AddItemBody, AddressBody, CancelOrderBody, PlaceOrderBody, ShipOrderBody } from '../../src/orders';
import { validOrder } from '../support/app';
import {
  address,
  type BadRequest,
  DELETE,
  JSON_TYPE,
  jsonRequest,
  line,
  place,
  REDIS_LIKE,
  rawPlace,
  withField,
} from './bad-input.requests';

/** Values of every JSON kind, the edge numbers and Redis-like strings among them. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(DELETE),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.double(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(
    1e308,
    -1e308,
    2 ** 53 + 1,
    'NaN',
    'Infinity',
    '-Infinity',
    '',
    ' ',
    ...REDIS_LIKE,
    'x'.repeat(5_000),
  ),
);

const invalidFor = (schema: z.ZodType) => (value: unknown) => !z.safeParse(schema, value).success;

/** A valid body with one field (possibly a new one) replaced by anything at all, refused by the schema. */
const mutated = (valid: unknown, paths: string[], schema: z.ZodType) =>
  fc
    .tuple(fc.constantFrom(...paths), anyValue)
    .map(([path, value]) => withField(valid, path, value))
    .filter(invalidFor(schema));

const PLACE_PATHS = [
  'customerId',
  'items',
  'items.0',
  'items.0.sku',
  'items.0.quantity',
  'items.0.unitPrice',
  'items.1.extra',
  'shippingAddress',
  'shippingAddress.line1',
  'shippingAddress.line2',
  'shippingAddress.city',
  'shippingAddress.postalCode',
  'shippingAddress.country',
  'currency',
  'extra',
];

/** Bodies for each command route, each one refused by that route's own schema. */
export const invalidCommandBodies = (orderId: string): fc.Arbitrary<BadRequest> =>
  fc.oneof(
    mutated(validOrder(), PLACE_PATHS, PlaceOrderBody).map((v) => place('mutated place', v)),
    fc
      .jsonValue({ maxDepth: 4 })
      .filter(invalidFor(PlaceOrderBody))
      .map((v) => place('any JSON to place', v)),
    mutated(line, ['sku', 'quantity', 'unitPrice', 'extra'], AddItemBody).map((v) =>
      jsonRequest('mutated line', 'POST', `/orders/${orderId}/items`, v),
    ),
    mutated(address, ['line1', 'line2', 'city', 'postalCode', 'country', 'extra'], AddressBody).map((v) =>
      jsonRequest('mutated address', 'PUT', `/orders/${orderId}/shipping-address`, v),
    ),
    mutated({ trackingNumber: 'T-1' }, ['trackingNumber', 'extra'], ShipOrderBody).map((v) =>
      jsonRequest('mutated ship', 'POST', `/orders/${orderId}/ship`, v),
    ),
    mutated({ reason: 'r' }, ['reason', 'extra'], CancelOrderBody).map((v) =>
      jsonRequest('mutated cancel', 'DELETE', `/orders/${orderId}`, v),
    ),
    fc
      .jsonValue({ maxDepth: 3 })
      .filter(invalidFor(z.strictObject({})))
      .map((v) => jsonRequest('any JSON to confirm', 'POST', `/orders/${orderId}/confirm`, v)),
  );

const parsesAsValidOrder = (bytes: Uint8Array): boolean => {
  try {
    return !invalidFor(PlaceOrderBody)(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
  } catch {
    return false;
  }
};

/** Raw bytes and text sent as JSON: bad UTF-8, bad syntax, or JSON of the wrong shape. */
export const invalidRawBodies: fc.Arbitrary<BadRequest> = fc
  .oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ unit: 'binary', maxLength: 200 }).map((text) => Buffer.from(text)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v).slice(0, -1))),
  )
  .filter((bytes) => !parsesAsValidOrder(bytes))
  .map((bytes) => rawPlace('raw bytes as JSON', bytes));

/** Content types that are not JSON, on an otherwise valid order. */
export const nonJsonContentTypes: fc.Arbitrary<BadRequest> = fc
  .stringMatching(/^[a-z]{1,12}\/[a-z0-9.+-]{1,20}(; ?charset=[a-z0-9-]{1,10})?$/)
  .filter((type) => !isJsonMediaType(type))
  .map((type) => rawPlace(`content-type ${type}`, JSON.stringify(validOrder()), { 'content-type': type }));

/** Every byte percent-encoded: any string (invalid UTF-8 included) becomes one path segment. */
const segmentOf = (bytes: Uint8Array): string =>
  [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');

const notAUuid = (bytes: Uint8Array) => !z.uuid().safeParse(Buffer.from(bytes).toString()).success;
const notACustomerId = (bytes: Uint8Array) => !/^[A-Za-z0-9_.-]{1,64}$/.test(Buffer.from(bytes).toString());

/** Bad path parameters on reads and on commands. */
export const invalidPathParams: fc.Arbitrary<BadRequest> = fc.oneof(
  fc
    .uint8Array({ minLength: 1, maxLength: 100 })
    .filter(notAUuid)
    .chain((bytes) =>
      fc.constantFrom(
        { label: 'order id (read)', method: 'GET', path: `/orders/${segmentOf(bytes)}` },
        { label: 'order id (confirm)', method: 'POST', path: `/orders/${segmentOf(bytes)}/confirm` },
        { label: 'order id (cancel)', method: 'DELETE', path: `/orders/${segmentOf(bytes)}` },
      ),
    ),
  fc
    .uint8Array({ minLength: 1, maxLength: 100 })
    .filter(notACustomerId)
    .map((bytes) => ({ label: 'customer id', method: 'GET', path: `/customers/${segmentOf(bytes)}/orders` })),
);

// What a server receives of a header value: HTTP strips surrounding spaces and tabs.
const receivedAs = (value: string) => value.replace(/^[ \t]+|[ \t]+$/g, '');
const isUsableKey = (value: string) => /^[\x20-\x7E]{1,128}$/.test(receivedAs(value));

/** Idempotency-Keys and correlation ids that are too long or not printable, on an otherwise valid order. */
export const invalidHeaders: fc.Arbitrary<BadRequest> = fc
  .tuple(
    fc.constantFrom('idempotency-key', 'x-correlation-id'),
    fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 129, maxLength: 2_000 }),
      fc.string({ unit: fc.constantFrom(...'ab\t\u0080\u00e9\u00ff'), minLength: 1, maxLength: 40 }),
    ),
  )
  .filter(([, value]) => !isUsableKey(value) && receivedAs(value) !== '')
  .map(([name, value]) => ({
    ...place(`${name} ${JSON.stringify(value.slice(0, 20))}`, validOrder()),
    headers: { ...JSON_TYPE, [name]: value },
  }));

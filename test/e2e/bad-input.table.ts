// The hand-written half of bad-input.test.ts: every kind of bad input issue 5.5 lists, by hand.
import { validOrder } from '../support/app';
import {
  address,
  type BadRequest,
  DELETE,
  JSON_TYPE,
  jsonRequest,
  line,
  orderWith,
  place,
  REDIS_LIKE,
  rawPlace,
  withField,
} from './bad-input.requests';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** The hand-written table: every kind of bad input the issue lists, on the routes it concerns. */
export const handWrittenCases = (orderId: string): BadRequest[] => [
  // Wrong types and missing fields.
  place('customerId a number', orderWith('customerId', 42)),
  place('items a string', orderWith('items', 'SKU-1')),
  place('items of numbers', orderWith('items', [1, 2])),
  place('address an array', orderWith('shippingAddress', [])),
  place('quantity a string', orderWith('items.0.quantity', '1')),
  place('unitPrice a string', orderWith('items.0.unitPrice', '19.99')),
  place('currency a number', orderWith('currency', 978)),
  place('the body an array', [validOrder()]),
  place('the body null', null),
  place('the body a number', 42),
  place('no customerId', orderWith('customerId', DELETE)),
  place('no items', orderWith('items', DELETE)),
  place('no address', orderWith('shippingAddress', DELETE)),
  place('an item without unitPrice', orderWith('items.0.unitPrice', DELETE)),
  place('an address without city', orderWith('shippingAddress.city', DELETE)),
  place('empty items', orderWith('items', [])),
  // Numbers at and beyond the edges.
  place('quantity 1e308', orderWith('items.0.quantity', 1e308)),
  place('quantity 2**53+1', orderWith('items.0.quantity', 2 ** 53 + 1)),
  place('unitPrice 1e308', orderWith('items.0.unitPrice', 1e308)),
  place('unitPrice -1e308', orderWith('items.0.unitPrice', -1e308)),
  rawPlace(
    'quantity 1e400 (Infinity once parsed)',
    JSON.stringify(validOrder()).replace('"quantity":2', '"quantity":1e400'),
  ),
  rawPlace('unitPrice a bare NaN token', JSON.stringify(validOrder()).replace('19.99', 'NaN')),
  ...['NaN', 'Infinity', '-Infinity'].flatMap((text) => [
    place(`quantity "${text}"`, orderWith('items.0.quantity', text)),
    place(`unitPrice "${text}"`, orderWith('items.0.unitPrice', text)),
  ]),
  ...[-1, 0, 1.5, 0.0001, 10_001].map((q) => place(`quantity ${q}`, orderWith('items.0.quantity', q))),
  ...[19.999, 0.001, 1.005, -0.01, 1_000_000.01].map((p) =>
    place(`unitPrice ${p}`, orderWith('items.0.unitPrice', p)),
  ),
  place(
    '10,000 items',
    orderWith(
      'items',
      Array.from({ length: 10_000 }, (_, i) => ({ ...line, sku: `S${i}` })),
    ),
  ),
  // Depth, encoding, media types.
  rawPlace('100k levels of nested arrays', nested(100_000)),
  rawPlace('100k levels of nested objects', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`),
  rawPlace('100k levels inside customerId', `{"customerId":${nested(100_000)}}`),
  rawPlace(
    'invalid UTF-8 in a string',
    Buffer.concat([Buffer.from('{"customerId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
  ),
  rawPlace(
    'an overlong UTF-8 slash',
    Buffer.concat([Buffer.from('{"customerId":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
  ),
  rawPlace(
    'a UTF-8 encoded lone surrogate',
    Buffer.concat([Buffer.from('{"customerId":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
  ),
  rawPlace('a UTF-16 body', Buffer.from(JSON.stringify(validOrder()), 'utf16le')),
  rawPlace('an empty body', ''),
  rawPlace('truncated JSON', JSON.stringify(validOrder()).slice(0, 40)),
  ...[
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/json-patch',
    'text/json',
  ].map((type) => rawPlace(`content-type ${type}`, JSON.stringify(validOrder()), { 'content-type': type })),
  rawPlace('no content-type', JSON.stringify(validOrder()), {}),
  // Very long ids and keys.
  { label: 'a 10,000-character order id', method: 'POST', path: `/orders/${'a'.repeat(10_000)}/confirm` },
  place('a 65-character customerId', orderWith('customerId', 'c'.repeat(65))),
  place('a 100,000-character customerId', orderWith('customerId', 'c'.repeat(100_000))),
  place('a 100,000-character sku', orderWith('items.0.sku', 's'.repeat(100_000))),
  {
    ...place('a 5,000-character Idempotency-Key', validOrder()),
    headers: { ...JSON_TYPE, 'idempotency-key': 'k'.repeat(5_000) },
  },
  {
    ...place('a non-ASCII Idempotency-Key', validOrder()),
    headers: { ...JSON_TYPE, 'idempotency-key': 'k\u00ff' },
  },
  {
    ...place('a 5,000-character X-Correlation-Id', validOrder()),
    headers: { ...JSON_TYPE, 'x-correlation-id': 'c'.repeat(5_000) },
  },
  {
    label: 'If-Match not a version',
    method: 'POST',
    path: `/orders/${orderId}/confirm`,
    headers: { 'if-match': 'latest' },
  },
  // Path traversal and odd paths.
  { label: 'GET /orders/../admin', method: 'GET', path: '/orders/../admin' },
  // Dot segments are resolved as any URL's are (so /orders/../orders is just /orders): they cannot escape a route.
  {
    label: 'POST /orders/../admin/projections/x/rebuild',
    method: 'POST',
    path: '/orders/../admin/projections/x/rebuild',
  },
  {
    label: 'GET /orders/x/../../admin/projections',
    method: 'GET',
    path: '/orders/x/../../admin/projections',
  },
  { label: 'DELETE /orders/..%2Fadmin', method: 'DELETE', path: '/orders/..%2Fadmin' },
  { label: 'GET /orders/%2e%2e/admin', method: 'GET', path: '/orders/%2e%2e/admin' },
  jsonRequest('POST //orders', 'POST', '//orders', validOrder()),
  { label: 'POST /orders/{id}//confirm', method: 'POST', path: `/orders/${orderId}//confirm` },
  jsonRequest('PATCH an order', 'PATCH', `/orders/${orderId}`, { status: 'shipped' }),
  { label: 'GET /admin/projections without a token', method: 'GET', path: '/admin/projections' },
  // Redis-key-like ids in path parameters and in customerId.
  ...REDIS_LIKE.flatMap((id) => {
    const segment = encodeURIComponent(id);
    return [
      { label: `order id ${JSON.stringify(id)} (read)`, method: 'GET', path: `/orders/${segment}` },
      {
        label: `order id ${JSON.stringify(id)} (confirm)`,
        method: 'POST',
        path: `/orders/${segment}/confirm`,
      },
      { label: `customer id ${JSON.stringify(id)}`, method: 'GET', path: `/customers/${segment}/orders` },
      place(`customerId ${JSON.stringify(id)}`, orderWith('customerId', `c${id}`)),
      jsonRequest(`sku ${JSON.stringify(id)}`, 'POST', `/orders/${orderId}/items`, {
        ...line,
        sku: `s${id}`,
      }),
    ];
  }),
  { label: 'order id %0a', method: 'GET', path: '/orders/%0a' },
  { label: 'customer id %0a', method: 'GET', path: '/customers/a%0ab/orders' },
  // Unknown fields, prototype keys included.
  place('an unknown top-level field', orderWith('discount', 10)),
  place('an unknown item field', orderWith('items.0.colour', 'red')),
  place('an unknown address field', orderWith('shippingAddress.state', 'BE')),
  rawPlace('a __proto__ field', JSON.stringify(validOrder()).replace('{', '{"__proto__":{"admin":true},')),
  place('a constructor field', orderWith('constructor', { prototype: {} })),
  jsonRequest('an unknown field on confirm', 'POST', `/orders/${orderId}/confirm`, { force: true }),
  jsonRequest('an unknown field on cancel', 'DELETE', `/orders/${orderId}`, { reason: 'x', refund: true }),
  jsonRequest('a blank tracking number', 'POST', `/orders/${orderId}/ship`, { trackingNumber: '   ' }),
  jsonRequest(
    'an address without country',
    'PUT',
    `/orders/${orderId}/shipping-address`,
    withField(address, 'country', DELETE),
  ),
  // Bodies on GET.
  ...[`/orders/${orderId}`, '/orders', '/customers/customer-1/orders', '/health'].map((path) => ({
    label: `a body on GET ${path}`,
    method: 'GET',
    path,
    headers: JSON_TYPE,
    body: '{"minVersion":0}',
  })),
  // Query parameters out of range or of the wrong kind.
  ...[
    '/orders?limit=0',
    '/orders?limit=-1',
    '/orders?limit=1e308',
    '/orders?limit=NaN',
    '/orders?limit=101',
    '/orders?sort=__proto__',
    '/orders?status=*',
    '/orders?cursor=%00%ff',
    '/orders?cursor=' + 'c'.repeat(5_000),
    '/orders?minPosition=-1',
    '/orders?minPosition=1e308',
    `/orders/${orderId}?minVersion=NaN`,
    `/orders/${orderId}?minVersion=-1`,
    `/orders/${orderId}?minVersion=${2 ** 64}`,
    '/customers/customer-1/orders?status=lost',
    '/reports/daily-revenue?from=2026-02-30&to=2026-03-01',
    '/reports/daily-revenue?from=2026-01-02&to=2026-01-01',
    '/reports/daily-revenue?from=2020-01-01&to=2026-01-01',
    '/reports/daily-revenue?from=*&to=:',
  ].map((path) => ({ label: `query ${path.slice(0, 60)}`, method: 'GET', path })),
];

// What an adversarial run found at the HTTP edge (paths, RFC 9110 semantics, text, money, the admin token),
// each with the answer it must get. Real HTTP against the whole service; raw requests where fetch would
// normalise what is sent.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import {
  eventsOf,
  expectProblem,
  expectRawProblem,
  jsonAs,
  placeOrder,
  rawRequest,
} from './commands.requests';

const TOKEN = 'hardening-admin-token-0123456789';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ ADMIN_TOKEN: TOKEN });
});
afterAll(async () => t.stop());

/** A request with header lines sent as given, repeated names included (fetch would merge them). */
const withHeaderLines = (
  method: string,
  path: string,
  lines: Array<[string, string]>,
  body?: string,
): Promise<{ status: number; body: string }> => {
  const url = new URL(t.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    for (const [name, value] of lines) req.appendHeader(name, value);
    if (body !== undefined) {
      req.setHeader('content-type', 'application/json');
      req.setHeader('content-length', Buffer.byteLength(body));
    }
    req.end(body);
  });
};

describe('paths: dot segments and encoded separators are refused before routing', () => {
  it.each([
    '/orders/%2e%2e/admin/projections',
    '/orders/%2E%2E/admin/projections',
    '/orders/.%2e/admin/projections',
    '/orders/../admin/projections',
    '/orders/./x',
    '/orders/a%2Fb',
    '/orders/a%5cb',
  ])('given %s, then 400 (not the admin list, not a 404)', async (path) => {
    const answer = await rawRequest(t, 'GET', path, { headers: { authorization: `Bearer ${TOKEN}` } });
    const problem = expectRawProblem(answer, 400);
    expect(problem.errors?.[0]?.path).toBe('path');
  });

  it('given an order id in upper case, then it names the same order (normalised, not a 404)', async () => {
    const { orderId } = await placeOrder(t);
    const upper = orderId.toUpperCase();
    const read = await t.http(`/orders/${upper}?minVersion=0`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { orderId: string }).orderId).toBe(orderId);
    const confirmed = await t.http(`/orders/${upper}/confirm`, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(await eventsOf(t, orderId)).toHaveLength(2);
  });
});

describe('HTTP semantics by RFC 9110', () => {
  it('given a known path and a method it does not support, then 405 with Allow', async () => {
    const { orderId } = await placeOrder(t);
    const put = await t.http(`/orders/${orderId}`, { method: 'PUT' });
    await expectProblem(put, 405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD');
    const get = await t.http(`/orders/${orderId}/confirm`);
    await expectProblem(get, 405);
    expect(get.headers.get('allow')).toBe('POST');
    await expectProblem(await t.http('/no-such-route', { method: 'DELETE' }), 404);
  });

  it('given If-Match, then only a strong match of the current version applies; `*` and lists work; every other answer is 412 and appends nothing', async () => {
    const { orderId } = await placeOrder(t); // version 0
    const confirm = (ifMatch: string) =>
      t.http(`/orders/${orderId}/confirm`, { method: 'POST', headers: { 'if-match': ifMatch } });
    for (const ifMatch of ['W/"0"', '"00"', '"1", "2"', '"abc"'])
      await expectProblem(await confirm(ifMatch), 412);
    expect(await eventsOf(t, orderId)).toHaveLength(1);
    expect((await confirm('"5", "0"')).status).toBe(200); // a list matches any of its entries
    const star = await t.http(`/orders/${orderId}/ship`, jsonAs('POST', {}, { 'if-match': '*' }));
    expect(star.status).toBe(200);
    expect(await eventsOf(t, orderId)).toHaveLength(3);
  });

  it('given two If-Match lines that disagree, or two Idempotency-Key lines, then 400 and nothing is appended', async () => {
    const { orderId } = await placeOrder(t);
    const ifMatch = await withHeaderLines('POST', `/orders/${orderId}/confirm`, [
      ['if-match', '"0"'],
      ['if-match', '"1"'],
    ]);
    expect(ifMatch.status, ifMatch.body).toBe(400);
    expect(JSON.parse(ifMatch.body).errors[0].path).toBe('header.if-match');

    const headBefore = await t.app.store.headPosition();
    const keys = await withHeaderLines(
      'POST',
      '/orders',
      [
        ['idempotency-key', 'key-a'],
        ['idempotency-key', 'key-b'],
      ],
      JSON.stringify(validOrder()),
    );
    expect(keys.status, keys.body).toBe(400);
    expect(JSON.parse(keys.body).errors[0].path).toBe('header.idempotency-key');
    expect(await t.app.store.headPosition()).toBe(headBefore);
  });

  it.each([
    ['minVersion=0x10', 'minVersion'],
    ['minVersion=1e1', 'minVersion'],
    ['minVersion=%2B1', 'minVersion'],
    ['minVersion=1&minVersion=2', 'minVersion'],
  ])('given an order read with ?%s, then 400 naming %s', async (query, field) => {
    const { orderId } = await placeOrder(t);
    const problem = await expectProblem(await t.http(`/orders/${orderId}?${query}`), 400);
    expect(problem.errors?.[0]?.path).toBe(field);
  });

  it.each([
    ['limit=0x10', 'limit'],
    ['limit=5&limit=6', 'limit'],
    ['status=pending&status=shipped', 'status'],
  ])('given a list read with ?%s, then 400 naming %s', async (query, field) => {
    const problem = await expectProblem(await t.http(`/orders?${query}`), 400);
    expect(problem.errors?.[0]?.path).toBe(field);
  });
});

describe('text fields: no control characters, no bidi overrides, not invisible-only, well-formed', () => {
  const bad: Array<[string, string]> = [
    ['NUL', 'a\u0000b'],
    ['an ANSI escape', '\u001b[31mred'],
    ['a C1 control', 'a\u0085b'],
    ['a bidi override', 'abc\u202Edcba'],
    ['a bidi isolate', 'a\u2066b'],
    ['zero-width characters only', '\u200B\u200D\uFEFF'],
    ['a left-to-right mark', 'abc\u200Edef'],
    ['an Arabic letter mark', 'abc\u061Cdef'],
    ['a line separator', 'one\u2028two'],
    ['a paragraph separator', 'one\u2029two'],
    ['invisible operators only', '\u2061\u2062\u2063\u2064'],
    ['a Mongolian vowel separator and a grapheme joiner only', '\u180E\u034F'],
    ['tag characters only', '\u{E0041}\u{E0042}'],
    ['Hangul fillers only', '\u3164\u3164'],
    ['blank Braille patterns only', '\u2800\u2800'],
    ['a lone surrogate', 'a\uD800b'],
    ['a newline', 'line\nbreak'],
  ];

  it.each(bad)('given an address line with %s, then 400 naming the field', async (_, text) => {
    const body = validOrder({
      shippingAddress: { line1: text, city: 'Berlin', postalCode: '10115', country: 'DE' },
    });
    const problem = await expectProblem(await t.http('/orders', json(body)), 400);
    expect(problem.errors?.map((e) => e.path)).toContain('shippingAddress.line1');
  });

  it.each([
    ['city', { city: '\u200B' }],
    ['postalCode', { postalCode: '10\u0007115' }],
  ])('given a %s with a control or invisible-only text, then 400 naming it', async (field, override) => {
    const shippingAddress = { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' };
    const body = validOrder({ shippingAddress: { ...shippingAddress, ...override } });
    const problem = await expectProblem(await t.http('/orders', json(body)), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(`shippingAddress.${field}`);
  });

  it.each(bad.filter(([what]) => !what.endsWith(' only')))(
    'given a cancel reason with %s, then 400 naming reason and nothing is appended',
    async (_, text) => {
      const { orderId } = await placeOrder(t);
      const problem = await expectProblem(
        await t.http(`/orders/${orderId}`, jsonAs('DELETE', { reason: text })),
        400,
      );
      expect(problem.errors?.map((e) => e.path)).toContain('reason');
      expect(await eventsOf(t, orderId)).toHaveLength(1);
    },
  );

  it('given a tracking number with a bidi override, then 400 naming trackingNumber', async () => {
    const { orderId } = await placeOrder(t);
    await t.http(`/orders/${orderId}/confirm`, { method: 'POST' });
    const problem = await expectProblem(
      await t.http(`/orders/${orderId}/ship`, json({ trackingNumber: '1Z\u202E999' })),
      400,
    );
    expect(problem.errors?.map((e) => e.path)).toContain('trackingNumber');
  });

  it('given a reason with a tab and non-ASCII text, then it is kept as sent in the event and the view alike', async () => {
    const { orderId } = await placeOrder(t);
    const reason = 'Kunde\tmöchte 🚲 nicht mehr';
    const res = await t.http(`/orders/${orderId}`, jsonAs('DELETE', { reason }));
    expect(res.status).toBe(200);
    const events = await eventsOf(t, orderId);
    expect((events.at(-1)!.data as { reason: string }).reason).toBe(reason);
    const view = (await (await t.http(`/orders/${orderId}?minVersion=1`)).json()) as {
      cancellationReason?: string;
    };
    expect(view.cancellationReason).toBe(reason);
  });

  it('given a reason of zero-width characters only, then it means no reason', async () => {
    const { orderId } = await placeOrder(t);
    expect((await t.http(`/orders/${orderId}`, jsonAs('DELETE', { reason: '\u200B\u200B' }))).status).toBe(
      200,
    );
    const events = await eventsOf(t, orderId);
    expect(events.at(-1)!.data).not.toHaveProperty('reason');
  });
});

describe('money: the decimals a currency has', () => {
  it.each([
    ['JPY', 1.5, 400],
    ['JPY', 1500, 201],
    ['USD', 19.99, 201],
    ['USD', 19.999, 400],
    ['KWD', 1.25, 201],
    ['KWD', 1.234, 201],
    ['KWD', 1.2345, 400],
  ])('given a %s order with unitPrice %d, then %i', async (currency, unitPrice, status) => {
    const body = validOrder({ currency, items: [{ sku: 'SKU-1', quantity: 1, unitPrice }] });
    const res = await t.http('/orders', json(body));
    if (status === 201) {
      expect(res.status).toBe(201);
    } else {
      const problem = await expectProblem(res, 400);
      expect(problem.errors?.map((e) => e.path)).toContain('items.0.unitPrice');
    }
  });

  it('given a JPY order, when an item with a fraction of a yen is added, then 400 naming unitPrice and nothing is appended', async () => {
    const { orderId } = await placeOrder(t, {
      currency: 'JPY',
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
    });
    const problem = await expectProblem(
      await t.http(`/orders/${orderId}/items`, json({ sku: 'SKU-2', quantity: 1, unitPrice: 0.5 })),
      400,
    );
    expect(problem.errors?.map((e) => e.path)).toContain('unitPrice');
    expect(await eventsOf(t, orderId)).toHaveLength(1);
  });
});

describe("money: kept in each currency's minor unit, read back exactly", () => {
  it('given a KWD order with a third decimal, then the event keeps thousandths and the view and the report show 1.234 exactly', async () => {
    const shippedAt = new Date().toISOString().slice(0, 10);
    const placed = await placeOrder(t, {
      currency: 'KWD',
      items: [{ sku: 'SKU-1', quantity: 3, unitPrice: 1.234 }],
    });
    const [event] = await eventsOf(t, placed.orderId);
    expect(event!.data).toMatchObject({ minorUnits: 3, totalMinor: 3702, items: [{ unitPriceMinor: 1234 }] });

    const view = await t.http(`/orders/${placed.orderId}?minVersion=${placed.version}`);
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({
      currency: 'KWD',
      totalAmount: 3.702,
      items: [{ unitPrice: 1.234 }],
    });

    await t.http(`/orders/${placed.orderId}/confirm`, { method: 'POST' });
    const shipped = await t.http(`/orders/${placed.orderId}/ship`, { method: 'POST' });
    expect(shipped.status).toBe(200);
    const { position } = (await shipped.json()) as { position: string };
    const report = await t.http(
      `/reports/daily-revenue?from=${shippedAt}&to=${shippedAt}&minPosition=${position}`,
    );
    expect(report.status).toBe(200);
    const [day] = ((await report.json()) as { days: Array<{ revenue: number; revenueDecimal: string }> })
      .days;
    // Other tests ship orders today too: the thousandth survives the sum whatever they added.
    expect(day!.revenueDecimal).toMatch(/^\d+\.\d{3}$/);
    expect(Number(day!.revenueDecimal)).toBe(day!.revenue);
  });
});

describe('the admin token: failures from one address are limited', () => {
  it('given 10 wrong tokens within a minute, then the 11th call (even with the right token) is 429 with Retry-After, and failures are counted', async () => {
    const admin = (token: string) =>
      t.http('/admin/projections', { headers: { authorization: `Bearer ${token}` } });
    expect((await admin(TOKEN)).status).toBe(200);
    for (let i = 0; i < 10; i++) await expectProblem(await admin(`wrong-token-${i}`), 401);
    const limited = await admin(TOKEN);
    await expectProblem(limited, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const text = await (await t.http('/metrics')).text();
    expect(text).toMatch(/^sluice_admin_auth_failures_total 10$/m);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/http/request';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { eventsOf, expectProblem, expectRawProblem, placeOrder, rawRequest } from './commands.requests';

/** Valid JSON of exactly `bytes` bytes: `{"reason":"xxx…"}`, so only its size can refuse it. */
const jsonOfSize = (bytes: number): string => {
  const frame = '{"reason":""}';
  return `{"reason":"${'x'.repeat(bytes - frame.length)}"}`;
};

/** The same bytes as a chunked stream: no Content-Length for the server to go by. */
const chunkedStream = (text: string): ReadableStream<Uint8Array> => {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 64 * 1024));
      offset += 64 * 1024;
    },
  });
};

describe('the HTTP layer of commands: body limit, bodies on GET, CORS, correlation ids', () => {
  let t: TestApp;
  let orderId: string;
  beforeAll(async () => {
    t = await startTestApp();
    ({ orderId } = await placeOrder(t));
  });
  afterAll(async () => t.stop());

  const routes = () => [
    { method: 'POST', path: '/orders' },
    { method: 'POST', path: `/orders/${orderId}/items` },
    { method: 'PUT', path: `/orders/${orderId}/shipping-address` },
    { method: 'POST', path: `/orders/${orderId}/confirm` },
    { method: 'POST', path: `/orders/${orderId}/ship` },
    { method: 'DELETE', path: `/orders/${orderId}` },
  ];

  it('given a body one byte over 1 MiB with a Content-Length, when sent to any command, then 413, the connection closes and nothing is appended', async () => {
    const before = await t.app.store.headPosition();
    const body = jsonOfSize(MAX_BODY_BYTES + 1);
    for (const { method, path } of routes()) {
      const res = await t.http(path, { method, headers: { 'content-type': 'application/json' }, body });
      const problem = await expectProblem(res, 413);
      expect(problem.type, `${method} ${path}`).toMatch(/\/payload-too-large$/);
      expect(res.headers.get('connection')).toBe('close');
    }
    expect(await t.app.store.headPosition()).toBe(before);
    expect((await t.http('/health')).status).toBe(200);
  });

  it('given a body over 1 MiB with a Content-Length on a route that is no command (admin, unknown), then 413 as well', async () => {
    const body = jsonOfSize(MAX_BODY_BYTES + 1);
    for (const path of ['/admin/projections/order-view/rebuild', '/no-such-route']) {
      for (const init of [{ body }]) {
        const res = await t.http(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          ...init,
        } as RequestInit);
        expect((await expectProblem(res, 413)).type, path).toMatch(/\/payload-too-large$/);
      }
    }
  });

  it('given a chunked body over 1 MiB without a Content-Length, when sent to any command, then 413 and nothing is appended', async () => {
    const before = await t.app.store.headPosition();
    for (const { method, path } of routes()) {
      const init = {
        method,
        headers: { 'content-type': 'application/json' },
        body: chunkedStream(jsonOfSize(MAX_BODY_BYTES + 1)),
        duplex: 'half',
      };
      const problem = await expectProblem(await t.http(path, init as RequestInit), 413);
      expect(problem.type, `${method} ${path}`).toMatch(/\/payload-too-large$/);
    }
    expect(await t.app.store.headPosition()).toBe(before);
    expect((await t.http('/health')).status).toBe(200);
  });

  it('given a body of exactly 1 MiB, when it is sent, then it is read and judged on its content (400), not its size', async () => {
    const body = jsonOfSize(MAX_BODY_BYTES);
    for (const init of [{ body }, { body: chunkedStream(body), duplex: 'half' }]) {
      const res = await t.http(`/orders/${orderId}`, {
        method: 'DELETE',
        headers: { 'content-type': 'application/json' },
        ...init,
      } as RequestInit);
      const problem = await expectProblem(res, 400);
      expect(problem.errors?.map((e) => e.path)).toEqual(['reason']);
    }
    expect(await eventsOf(t, orderId)).toHaveLength(1);
  });

  it('given a chunked body a route never reads (admin without a token), when it answers, then the connection closes and the next request works', async () => {
    const body = jsonOfSize(MAX_BODY_BYTES + 1);
    for (let attempt = 0; attempt < 3; attempt++) {
      const init = {
        method: 'POST',
        body: chunkedStream(body),
        duplex: 'half',
        headers: { 'content-type': 'application/json' },
      };
      const res = await t.http('/admin/projections/order-view/rebuild', init as RequestInit);
      await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('connection')).toBe('close');
      expect((await t.http('/health')).status).toBe(200);
    }
  });

  it('given a body on GET or HEAD, when sent to a query or the health check, then 400 problem', async () => {
    for (const method of ['GET', 'HEAD']) {
      for (const path of [`/orders/${orderId}`, '/health', '/orders?limit=5']) {
        const answer = await rawRequest(t, method, path, {
          headers: { 'content-type': 'application/json' },
          body: '{"sku":"A"}',
        });
        if (method === 'HEAD') expect(answer.status, `${method} ${path}`).toBe(400);
        else expect(expectRawProblem(answer, 400).errors?.[0]?.path).toBe('body');
      }
    }
  });

  it('given requests from another origin, when answered (success, problem, preflight), then no CORS header grants them', async () => {
    const origin = { origin: 'https://elsewhere.example' };
    const answers = [
      await t.http('/orders', json(validOrder(), origin)),
      await t.http('/orders', json({}, origin)),
      await t.http(`/orders/${orderId}`, { headers: origin }),
      await t.http('/health', { headers: origin }),
    ];
    for (const path of ['/orders', `/orders/${orderId}`, `/orders/${orderId}/confirm`]) {
      const preflight = await t.http(path, {
        method: 'OPTIONS',
        headers: {
          ...origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(preflight.status, `OPTIONS ${path}`).toBeGreaterThanOrEqual(400);
      answers.push(preflight);
    }
    for (const res of answers) {
      const cors = [...res.headers.keys()].filter((name) => name.startsWith('access-control-'));
      expect(cors, `${res.status} ${res.url}`).toEqual([]);
    }
  });

  it('given an X-Correlation-Id that is too long or not printable, then a command gets 400 naming the header and a read is answered under a generated id', async () => {
    for (const bad of ['c'.repeat(129), 'caf\u00e9', 'a\tb']) {
      const problem = await expectProblem(
        await t.http('/orders', json(validOrder(), { 'x-correlation-id': bad })),
        400,
      );
      expect(problem.errors?.[0]?.path).toBe('header.x-correlation-id');
      const health = await t.http('/health', { headers: { 'x-correlation-id': bad } });
      expect(health.status).toBe(200);
      expect(health.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const longest = 'c'.repeat(128);
    const res = await t.http('/health', { headers: { 'x-correlation-id': longest } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe(longest);
  });

  it('given HEAD on a read, then the headers a GET gets (correlation id, content type with charset), and no body', async () => {
    for (const path of [
      '/health',
      '/ready',
      '/openapi.json',
      '/orders',
      `/orders/${orderId}`,
      '/customers/c-1/orders',
    ]) {
      const headers = { 'x-correlation-id': `head-${path}` };
      const get = await t.http(path, { headers });
      await get.arrayBuffer();
      const head = await t.http(path, { method: 'HEAD', headers });
      expect([path, head.status]).toEqual([path, get.status]);
      expect([path, head.headers.get('x-correlation-id')]).toEqual([path, `head-${path}`]);
      expect([path, head.headers.get('content-type')]).toEqual([path, get.headers.get('content-type')]);
      expect(await head.text()).toBe('');
    }
  });
});

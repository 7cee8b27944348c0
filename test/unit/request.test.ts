import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp } from '../../src/http/app';
import { toProblem } from '../../src/http/problem';
import {
  ifMatchVersions,
  isJsonMediaType,
  limitedBody,
  MAX_BODY_BYTES,
  printableHeader,
  readJsonBody,
} from '../../src/http/request';
import { createLogger } from '../../src/ops/logger';
import { createMetrics } from '../../src/ops/metrics';

/** A body that arrives in chunks of 64 KiB without a Content-Length. */
const chunked = (bytes: number): ReadableStream<Uint8Array> => {
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const size = Math.min(64 * 1024, left);
      left -= size;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
  });
};

const drain = async (stream: ReadableStream<Uint8Array>): Promise<number> => {
  let total = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) total += chunk.byteLength;
  return total;
};

const Line = z.strictObject({ sku: z.string(), quantity: z.number().int() });

/** A bare app with one route per helper, so each is tested through a real Request. */
const helpersApp = () => {
  const app = new Hono();
  app.onError((error, c) => toProblem(error, c.req.path));
  app.post('/required', async (c) => c.json(await readJsonBody(c, Line)));
  app.post('/optional', async (c) =>
    c.json(await readJsonBody(c, z.strictObject({ reason: z.string().optional() }), { optional: true })),
  );
  app.get('/key', (c) => c.json({ key: printableHeader(c, 'idempotency-key', 8) ?? null }));
  app.get('/if-match', (c) => c.json({ versions: ifMatchVersions(c)?.map(String) ?? null }));
  return app;
};

const post = (
  path: string,
  body: NonNullable<RequestInit['body']> | null,
  headers: Record<string, string> = {},
) => helpersApp().request(path, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

describe('isJsonMediaType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['application/problem+json', true],
    ['application/merge-patch+json; charset=utf-8', true],
    ['text/json', false],
    ['text/plain', false],
    ['application/jsonx', false],
    ['application/x-www-form-urlencoded', false],
  ])('given %s, then %s', (contentType, expected) => {
    expect(isJsonMediaType(contentType)).toBe(expected);
  });
});

describe('limitedBody', () => {
  it('given a body of exactly the limit, when read, then every byte passes and nothing is reported', async () => {
    let reported = false;
    const total = await drain(limitedBody(chunked(MAX_BODY_BYTES), { onExceeded: () => (reported = true) }));
    expect(total).toBe(MAX_BODY_BYTES);
    expect(reported).toBe(false);
  });

  it('given a body one byte over the limit, when read, then the read fails with 413 and the excess is reported', async () => {
    let reported = false;
    const read = drain(limitedBody(chunked(MAX_BODY_BYTES + 1), { onExceeded: () => (reported = true) }));
    await expect(read).rejects.toMatchObject({ status: 413 });
    expect(reported).toBe(true);
  });
});

describe('readJsonBody', () => {
  it('given a valid JSON body, then it answers the parsed value', async () => {
    const res = await post('/required', JSON.stringify({ sku: 'A', quantity: 2 }), {
      'content-type': 'application/json',
    });
    expect(await res.json()).toEqual({ sku: 'A', quantity: 2 });
  });

  it.each([
    ['malformed JSON', '{"sku":', { 'content-type': 'application/json' }, 400, 'malformed-json'],
    [
      'invalid UTF-8',
      new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      { 'content-type': 'application/json' },
      400,
      'malformed-json',
    ],
    [
      'a schema failure',
      '{"sku":1,"quantity":1.5,"x":0}',
      { 'content-type': 'application/json' },
      400,
      'validation-failed',
    ],
    [
      'text/plain',
      '{"sku":"A","quantity":1}',
      { 'content-type': 'text/plain' },
      415,
      'unsupported-media-type',
    ],
    ['no content-type', new Uint8Array([0x7b, 0x7d]), {}, 415, 'unsupported-media-type'],
    ['an empty required body', '', { 'content-type': 'application/json' }, 400, 'malformed-json'],
  ])('given %s, then %i %s', async (_, body, headers, status, type) => {
    const res = await post(
      '/required',
      body as NonNullable<RequestInit['body']>,
      headers as Record<string, string>,
    );
    expect(res.status).toBe(status);
    expect(((await res.json()) as { type: string }).type).toMatch(new RegExp(`/${type}$`));
  });

  it('given a schema failure, then errors name every bad field, the unknown one included', async () => {
    const res = await post('/required', '{"sku":1,"quantity":1.5,"x":0}', {
      'content-type': 'application/json',
    });
    const problem = (await res.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['quantity', 'sku', 'x']);
  });

  it('given an optional body that is absent, whatever the content-type, then it is the empty object', async () => {
    for (const headers of [
      {},
      { 'content-type': 'application/json' },
      { 'content-type': 'text/plain' },
    ] as Record<string, string>[]) {
      const res = await post('/optional', null, headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
    }
  });

  it('given a chunked body over 1 MiB, then 413 without a Content-Length to go by', async () => {
    const res = await post('/required', chunked(MAX_BODY_BYTES + 1), { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
  });
});

describe('header helpers', () => {
  it.each([
    ['absent', undefined, 200, null],
    ['printable', 'key-1_A.', 200, 'key-1_A.'],
    ['one over the maximum', 'x'.repeat(9), 400, undefined],
    ['with a tab inside', 'a\tb', 400, undefined],
    ['with a latin-1 letter', 'cl\u00e9', 400, undefined],
  ])('given an Idempotency-Key %s, then %i', async (_, key, status, echoed) => {
    const res = await helpersApp().request('/key', {
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
    expect(res.status).toBe(status);
    if (echoed !== undefined) expect(await res.json()).toEqual({ key: echoed });
  });

  // RFC 9110 §13.1.1: strong comparison (a weak tag, or "00" for "0", matches nothing), `*` for any, a
  // list for any of its entries; a tag that is no version of ours is valid but matches nothing (412 later).
  it.each([
    ['"3"', 200, ['3']],
    ['W/"12"', 200, []],
    ['"00"', 200, []],
    ['*', 200, null],
    ['"1", "2"', 200, ['1', '2']],
    ['W/"0", "4"', 200, ['4']],
    ['"-1"', 200, []],
    ['"9999999999999999999"', 200, []],
    ['"9",,"0"', 200, ['9', '0']],
    [', "5" ,', 200, ['5']],
    ['"a,b"', 200, []],
    ['"a,b", "7"', 200, ['7']],
    ['3', 400, undefined],
    ['"1" "2"', 400, undefined],
    ['"1", 2', 400, undefined],
    ['"unterminated', 400, undefined],
  ])('given If-Match %s, then %i', async (ifMatch, status, versions) => {
    const res = await helpersApp().request('/if-match', { headers: { 'if-match': ifMatch } });
    expect(res.status).toBe(status);
    if (versions !== undefined) expect(await res.json()).toEqual({ versions });
  });
});

describe('the body limit of the whole app', () => {
  const appWithRoute = () => {
    const app = createHttpApp({ log: createLogger('silent'), metrics: createMetrics(), ops: { checks: [] } });
    // A route that reads its body its own way and makes its own answer of a failed read.
    app.post('/echo-length', async (c) => {
      try {
        return c.json({ length: (await c.req.text()).length });
      } catch {
        return c.json({ error: 'could not read the body' }, 400);
      }
    });
    return app;
  };

  it('given a route that reads with c.req.text() and answers 400 when that fails, when a chunked body over 1 MiB arrives, then 413 and the connection closes', async () => {
    const res = await appWithRoute().request('/echo-length', {
      method: 'POST',
      body: chunked(MAX_BODY_BYTES + 1),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('connection')).toBe('close');
  });

  it('given the same route, when a body of exactly 1 MiB arrives, then the route reads all of it', async () => {
    const res = await appWithRoute().request('/echo-length', {
      method: 'POST',
      body: chunked(MAX_BODY_BYTES),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ length: MAX_BODY_BYTES });
  });
});

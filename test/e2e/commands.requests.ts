// Requests and checks the command e2e suites share: raw HTTP where fetch would rewrite the request.
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore';
import { orderStream } from '../../src/orders';
import { json, type TestApp, validOrder } from '../support/app';

export interface CommandAnswer {
  orderId: string;
  version: number;
  position: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

export const withMethod = (method: string, init: RequestInit): RequestInit => ({ ...init, method });

/** A JSON request with any method (json() is POST). */
export const jsonAs = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit =>
  withMethod(method, json(body, headers));

export const placeOrder = async (
  t: TestApp,
  overrides: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<CommandAnswer> => {
  const res = await t.http('/orders', json(validOrder(overrides), headers));
  expect(res.status).toBe(201);
  return (await res.json()) as CommandAnswer;
};

export const eventsOf = async (t: TestApp, orderId: string): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of t.app.store.readStream(orderStream(orderId))) events.push(event);
  return events;
};

/** Asserts an RFC 9457 answer with this status and answers its body. */
export const expectProblem = async (res: Response, status: number): Promise<Problem> => {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(text) as Problem;
  expect(problem).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(typeof problem.detail).toBe('string');
  expect(problem.detail.length).toBeGreaterThan(0);
  return problem;
};

export const expectSuccess = async (res: Response, status: 200 | 201): Promise<CommandAnswer> => {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const answer = JSON.parse(text) as CommandAnswer;
  expect(answer.position).toMatch(/^\d+$/);
  expect(res.headers.get('etag')).toBe(`"${answer.version}"`);
  return answer;
};

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request over node:http, sent as written: no path normalisation (`/orders/../admin` stays), bodies
 * on GET, bytes that are not UTF-8, any header. `body` undefined sends no body and no length.
 */
export const rawRequest = (
  t: TestApp,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawAnswer> => {
  const url = new URL(t.baseUrl);
  const { body } = options;
  // node:http frames no GET body by itself: without a length its bytes would read as the next request.
  const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  const headers = { ...length, ...options.headers };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
};

/** The raw-answer twin of expectProblem (HEAD answers carry no body to check). */
export const expectRawProblem = (answer: RawAnswer, status: number): Problem => {
  expect(answer.status, answer.body).toBe(status);
  expect(String(answer.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(answer.body) as Problem;
  expect(problem).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(problem.detail.length).toBeGreaterThan(0);
  return problem;
};

/** The order view once the projection has reached `version` (read-your-writes). */
export const viewAt = async (t: TestApp, orderId: string, version: number) => {
  const res = await t.http(`/orders/${orderId}?minVersion=${version}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-consistency')).toBe('fresh');
  return (await res.json()) as {
    status: string;
    version: number;
    items: Array<{ sku: string; quantity: number; unitPrice: number }>;
    totalAmount: number;
    shippingAddress: Record<string, string>;
    trackingNumber?: string;
    cancellationReason?: string;
  };
};

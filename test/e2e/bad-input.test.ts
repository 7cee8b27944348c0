import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import {
  invalidCommandBodies,
  invalidHeaders,
  invalidPathParams,
  invalidRawBodies,
  nonJsonContentTypes,
} from './bad-input.arbitraries';
import type { BadRequest } from './bad-input.requests';
import { handWrittenCases } from './bad-input.table';
import { placeOrder, rawRequest } from './commands.requests';

// Fixed seed and bounded runs: the same few hundred requests every time, in well under the test timeout.
const SEED = 20_260_126;
const RUNS = 40;

describe('bad input over HTTP: always a 4xx problem, never a 5xx, nothing appended, the server stays up', () => {
  let t: TestApp;
  let orderId: string;
  let headBefore: bigint;
  let sent = 0;

  beforeAll(async () => {
    t = await startTestApp();
    ({ orderId } = await placeOrder(t));
    headBefore = await t.app.store.headPosition();
  });
  afterAll(async () => t.stop());

  /** Sends one bad request as written and checks that the answer is a well-formed 4xx problem. */
  const expectRefused = async (request: BadRequest): Promise<void> => {
    const { method, path, headers, body } = request;
    const answer = await rawRequest(t, method, path, { headers: headers ?? {}, body });
    sent += 1;
    const what = `${request.label}: ${method} ${path.slice(0, 80)} → ${answer.status} ${answer.body.slice(0, 200)}`;
    expect(answer.status, what).toBeGreaterThanOrEqual(400);
    expect(answer.status, what).toBeLessThan(500);
    expect(String(answer.headers['content-type']), what).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    expect(problem, what).toMatchObject({
      type: expect.stringMatching(/^https?:\/\//),
      title: expect.any(String),
      status: answer.status,
      detail: expect.any(String),
    });
  };

  const checkAll = (arbitrary: fc.Arbitrary<BadRequest>) =>
    fc.assert(fc.asyncProperty(arbitrary, expectRefused), { seed: SEED, numRuns: RUNS, endOnFailure: true });

  it('given the hand-written table (types, edges, depth, encodings, media types, lengths, paths, Redis-like ids, unknown fields, GET bodies), then each is refused', async () => {
    const cases = handWrittenCases(orderId);
    for (const request of cases) await expectRefused(request);
    expect(cases.length).toBeGreaterThan(100);
  });

  it('given command bodies each of their own schema refuses, when sent, then each is refused', async () => {
    await checkAll(invalidCommandBodies(orderId));
  });

  it('given random bytes and broken JSON as an order, when sent, then each is refused', async () => {
    await checkAll(invalidRawBodies);
  });

  it('given content types that are not JSON, when an order is sent with them, then each is refused', async () => {
    await checkAll(nonJsonContentTypes);
  });

  it('given path parameters that are not ids, when read or commanded, then each is refused', async () => {
    await checkAll(invalidPathParams);
  });

  it('given Idempotency-Keys and correlation ids that are too long or not printable, then each is refused', async () => {
    await checkAll(invalidHeaders);
  });

  it('given all of the above, then nothing was appended and the server still answers', async () => {
    expect(sent).toBeGreaterThan(300);
    expect(await t.app.store.headPosition()).toBe(headBefore);
    expect((await t.http('/health')).status).toBe(200);
    const view = await t.http(`/orders/${orderId}?minVersion=0`);
    expect(view.status).toBe(200);
    expect(((await view.json()) as { status: string; version: number }).version).toBe(0);
  });
});

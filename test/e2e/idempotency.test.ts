import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { eventsOf, expectProblem, expectSuccess, placeOrder } from './commands.requests';

const key = () => `key-${crypto.randomUUID()}`;
const withKey = (k: string) => ({ 'idempotency-key': k });

/** Status, body and the headers a replay must repeat, to compare a first answer with a replay. */
const snapshot = async (res: Response) => ({
  status: res.status,
  body: await res.text(),
  etag: res.headers.get('etag'),
  location: res.headers.get('location'),
});

// Several rounds on open connections, so the requests really arrive together rather than one by one.
const RACE_ROUNDS = 5;
const warmConnections = async (t: TestApp, count: number): Promise<void> => {
  await Promise.all(Array.from({ length: count }, () => t.http('/health').then((r) => r.text())));
};

const waitUntil = async (
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Idempotency-Key over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.stop());

  it('given a placed order, when the same request is sent again with its key, then the same 201 answer, Idempotent-Replayed and nothing appended', async () => {
    const k = key();
    const first = await t.http('/orders', json(validOrder(), withKey(k)));
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const original = await snapshot(first);
    expect(original.status).toBe(201);
    const head = await t.app.store.headPosition();

    const replay = await t.http('/orders', json(validOrder(), withKey(k)));
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await snapshot(replay)).toEqual(original);
    expect(await t.app.store.headPosition()).toBe(head);
    expect(await eventsOf(t, JSON.parse(original.body).orderId)).toHaveLength(1);
  });

  it('given a key used on one order, when it is sent with a command on another order or with a new order, then 422 and nothing appended', async () => {
    const first = await placeOrder(t);
    const second = await placeOrder(t);
    const k = key();
    const line = { sku: 'SKU-9', quantity: 1, unitPrice: 2 };
    await expectSuccess(await t.http(`/orders/${first.orderId}/items`, json(line, withKey(k))), 200);
    const head = await t.app.store.headPosition();

    await expectProblem(await t.http(`/orders/${second.orderId}/items`, json(line, withKey(k))), 422);
    await expectProblem(await t.http('/orders', json(validOrder(), withKey(k))), 422);
    expect(await t.app.store.headPosition()).toBe(head);
    expect(await eventsOf(t, second.orderId)).toHaveLength(1);
  });

  it('given an item added with a key, when it is replayed after the order moved on (and could no longer take items), then the first 200 answer again', async () => {
    const { orderId } = await placeOrder(t);
    const k = key();
    const line = { sku: 'SKU-5', quantity: 2, unitPrice: 3.5 };
    const original = await snapshot(await t.http(`/orders/${orderId}/items`, json(line, withKey(k))));
    expect(original.status).toBe(200);
    await expectSuccess(await t.http(`/orders/${orderId}/confirm`, { method: 'POST' }), 200);
    const eventsBefore = await eventsOf(t, orderId);

    // Keys in another order are the same body.
    const reordered = { unitPrice: line.unitPrice, quantity: line.quantity, sku: line.sku };
    const replay = await t.http(`/orders/${orderId}/items`, json(reordered, withKey(k)));
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await snapshot(replay)).toEqual(original);
    expect(await eventsOf(t, orderId)).toEqual(eventsBefore);
  });

  it('given a used key, when it comes with another body (place or add item), then 422 problem and nothing appended', async () => {
    const k = key();
    await placeOrder(t, {}, withKey(k));
    const head = await t.app.store.headPosition();
    const otherPlace = await t.http('/orders', json(validOrder({ customerId: 'someone-else' }), withKey(k)));
    expect((await expectProblem(otherPlace, 422)).type).toMatch(/\/idempotency-key-reused$/);

    const { orderId } = await placeOrder(t);
    const addKey = key();
    await expectSuccess(
      await t.http(
        `/orders/${orderId}/items`,
        json({ sku: 'A', quantity: 1, unitPrice: 1 }, withKey(addKey)),
      ),
      200,
    );
    const headAfterAdd = await t.app.store.headPosition();
    const otherAdd = await t.http(
      `/orders/${orderId}/items`,
      json({ sku: 'A', quantity: 2, unitPrice: 1 }, withKey(addKey)),
    );
    expect((await expectProblem(otherAdd, 422)).type).toMatch(/\/idempotency-key-reused$/);
    // The key of the first item, reused for another command on the same order.
    const otherCommand = await t.http(`/orders/${orderId}/confirm`, {
      method: 'POST',
      headers: withKey(addKey),
    });
    await expectProblem(otherCommand, 422);
    expect(await t.app.store.headPosition()).toBe(headAfterAdd);
    expect(headAfterAdd).toBeGreaterThan(head);
  });

  /** Sends the same request 10 times at once and answers the distinct answers seen. */
  const race = async (path: string, body: unknown, k: string) => {
    await warmConnections(t, 10);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => t.http(path, json(body, withKey(k))).then(snapshot)),
    );
    return [...new Set(answers.map((a) => JSON.stringify(a)))].map(
      (a) => JSON.parse(a) as Awaited<ReturnType<typeof snapshot>>,
    );
  };

  it('given 10 concurrent requests with one key, when they race (place, then add item), then the events exist once and every answer is the same success', async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const placed = await race('/orders', validOrder(), key());
      expect(placed).toHaveLength(1);
      expect(placed[0]!.status).toBe(201);
      const { orderId } = JSON.parse(placed[0]!.body) as { orderId: string };
      expect(await eventsOf(t, orderId)).toHaveLength(1);

      const added = await race(
        `/orders/${orderId}/items`,
        { sku: 'RACE', quantity: 1, unitPrice: 9.99 },
        key(),
      );
      expect(added).toHaveLength(1);
      expect(added[0]!.status).toBe(200);
      const events = await eventsOf(t, orderId);
      expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderItemAdded']);
      expect(String(events[1]!.position)).toBe(JSON.parse(added[0]!.body).position);
    }
  });

  it('given 10 concurrent requests with one key, then one answer is the first and nine say Idempotent-Replayed; one append is counted', async () => {
    const appendsCounted = async () =>
      Number(
        /^sluice_appends_total(?:\{[^}]*\})? (\d+)/m.exec(await (await t.http('/metrics')).text())?.[1] ?? 0,
      );
    const before = await appendsCounted();
    await warmConnections(t, 10);
    const k = key();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => t.http('/orders', json(validOrder(), withKey(k)))),
    );
    const replayed = answers.map((answer) => answer.headers.get('idempotent-replayed'));
    expect(new Set(await Promise.all(answers.map((answer) => answer.text()))).size).toBe(1);
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(201));
    expect(replayed.filter((header) => header === null)).toHaveLength(1);
    expect(replayed.filter((header) => header === 'true')).toHaveLength(9);
    expect((await appendsCounted()) - before).toBe(1);
  });

  it('given 10 concurrent places with one key but two different bodies, then one body wins everywhere and the other gets 422', async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const k = key();
      const bodies = [validOrder({ customerId: 'racer-a' }), validOrder({ customerId: 'racer-b' })];
      const sent = Array.from({ length: 10 }, (_, i) => i % 2);
      await warmConnections(t, sent.length);
      const answers = await Promise.all(
        sent.map((which) => t.http('/orders', json(bodies[which], withKey(k))).then(snapshot)),
      );
      const statusesOf = (which: number) =>
        new Set(answers.filter((_, i) => sent[i] === which).map((a) => a.status));
      const outcomes = [statusesOf(0), statusesOf(1)];
      const winner = outcomes.findIndex((s) => s.has(201));
      expect(winner).not.toBe(-1);
      expect(outcomes[winner]).toEqual(new Set([201]));
      expect(outcomes[1 - winner]).toEqual(new Set([422]));

      const { orderId } = JSON.parse(answers.find((a) => a.status === 201)!.body) as { orderId: string };
      const events = await eventsOf(t, orderId);
      expect(events).toHaveLength(1);
      expect(events[0]!.data).toMatchObject({ customerId: bodies[winner]!.customerId });
    }
  });

  it('given a place whose response was lost, when the client retries with the key later, then it learns the first answer and nothing is appended', async () => {
    const k = key();
    const head = await t.app.store.headPosition();
    const body = JSON.stringify(validOrder());
    const socket = connect(Number(new URL(t.baseUrl).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write(
      `POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nIdempotency-Key: ${k}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // Two appends: the key's claim, then the order's event (waiting for the first alone raced the second).
    await waitUntil(
      async () => (await t.app.store.headPosition()) >= head + 2n,
      'the first attempt to be appended (claim and event)',
    );
    socket.destroy(); // the answer is never read
    const appended = await t.app.store.headPosition();

    const retry = await t.http('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...withKey(k) },
      body,
    });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const answer = await expectSuccess(retry, 201);
    expect(await t.app.store.headPosition()).toBe(appended);
    const events = await eventsOf(t, answer.orderId);
    expect(events).toHaveLength(1);
    expect(events[0]!.position).toBe(BigInt(answer.position));
  });

  it('given an Idempotency-Key longer than 128 or not printable, when a command is sent, then 400 names the header and nothing is appended', async () => {
    const head = await t.app.store.headPosition();
    for (const bad of ['k'.repeat(129), 'clé', 'tab\there']) {
      const problem = await expectProblem(await t.http('/orders', json(validOrder(), withKey(bad))), 400);
      expect(problem.errors?.[0]?.path).toBe('header.idempotency-key');
    }
    expect(await t.app.store.headPosition()).toBe(head);
    await placeOrder(t, {}, withKey('k'.repeat(128)));
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { eventsOf, expectProblem, expectSuccess, placeOrder } from './commands.requests';

// A short busy timeout: better-sqlite3 waits synchronously, so the default 5 s would stall every append.
const BUSY_TIMEOUT_MS = 100;

describe('commands while the event store cannot be written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-store-down-'));
  const file = join(dir, 'events.sqlite');
  let t: TestApp;
  let blocker: Database.Database | undefined;

  /** Another connection holds the write lock, as a stuck writer would: every append gets SQLITE_BUSY. */
  const lockTheStore = () => {
    blocker = new Database(file, { timeout: 0 });
    blocker.exec('BEGIN EXCLUSIVE');
  };
  const unlockTheStore = () => {
    blocker?.exec('ROLLBACK');
    blocker?.close();
    blocker = undefined;
  };

  beforeAll(async () => {
    t = await startTestApp({ EVENTSTORE_URL: `sqlite:${file}?busyTimeoutMs=${BUSY_TIMEOUT_MS}` });
  });
  afterAll(async () => {
    unlockTheStore();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given the store is locked, when any command is sent, then 503 with Retry-After and nothing is appended; once free, commands work again', async () => {
    const { orderId } = await placeOrder(t);
    const eventsBefore = await eventsOf(t, orderId);
    lockTheStore();
    try {
      const head = await t.app.store.headPosition();
      const attempts: Array<[string, RequestInit]> = [
        ['/orders', json(validOrder())],
        [`/orders/${orderId}/items`, json({ sku: 'LOCKED', quantity: 1, unitPrice: 1 })],
        [`/orders/${orderId}/confirm`, { method: 'POST' }],
        [`/orders/${orderId}`, { method: 'DELETE' }],
      ];
      for (const [path, init] of attempts) {
        const res = await t.http(path, init);
        const problem = await expectProblem(res, 503);
        expect(problem.type, path).toMatch(/\/service-unavailable$/);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(await t.app.store.headPosition()).toBe(head);
      expect(await eventsOf(t, orderId)).toEqual(eventsBefore);
      expect((await t.http('/health')).status).toBe(200);
    } finally {
      unlockTheStore();
    }
    const added = await expectSuccess(
      await t.http(`/orders/${orderId}/items`, json({ sku: 'FREED', quantity: 1, unitPrice: 1 })),
      200,
    );
    expect(added.version).toBe(eventsBefore.length);
  });

  it('given a keyed place answered 503, when it is retried after the store recovers, then it is applied once, as a first time', async () => {
    const key = `down-${crypto.randomUUID()}`;
    lockTheStore();
    try {
      await expectProblem(await t.http('/orders', json(validOrder(), { 'idempotency-key': key })), 503);
    } finally {
      unlockTheStore();
    }
    const retry = await t.http('/orders', json(validOrder(), { 'idempotency-key': key }));
    // Nothing was appended the first time, so this is no replay.
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const placed = await expectSuccess(retry, 201);
    expect(await eventsOf(t, placed.orderId)).toHaveLength(1);
  });
});

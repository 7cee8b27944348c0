import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { json, validOrder } from '../support/app';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { startServiceProcess } from '../support/service-process';

interface Acknowledged {
  orderId: string;
  version: number;
}

/** Sends commands with a few connections until stopped; remembers every 2xx answer. */
const commandLoad = (baseUrl: string, acknowledged: Acknowledged[]) => {
  let running = true;
  const worker = async (n: number) => {
    for (let i = 0; running && i < 10_000; i++) {
      try {
        const placed = await fetch(`${baseUrl}/orders`, json(validOrder({ customerId: `kill-${n}` })));
        if (placed.status !== 201) continue;
        const body = (await placed.json()) as Acknowledged;
        acknowledged.push(body);
        const added = await fetch(
          `${baseUrl}/orders/${body.orderId}/items`,
          json({ sku: 'EXTRA', quantity: 1, unitPrice: 1 }),
        );
        if (added.status === 200) acknowledged.push((await added.json()) as Acknowledged);
      } catch {
        return; // the process died under us: connection refused/reset
      }
    }
  };
  const done = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
  const stop = async () => {
    running = false;
    await done;
  };
  return { stop };
};

describe('SIGKILL under a load of commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kill-'));
  const prefix = uniqueRedisPrefix('kill');
  const env = {
    EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    CONSISTENCY_TIMEOUT_MS: '5000',
  };
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('given acknowledged commands, when the service is killed and restarted, then each is in the store and the read model, which holds exactly the store', async () => {
    const acknowledged: Acknowledged[] = [];
    const first = await startServiceProcess(env);
    const load = commandLoad(first.baseUrl, acknowledged);
    await new Promise((r) => setTimeout(r, 1500));
    await first.kill('SIGKILL');
    await load.stop();
    expect(acknowledged.length).toBeGreaterThan(10);

    const second = await startServiceProcess(env);
    try {
      const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
      try {
        for (const { orderId, version } of acknowledged) {
          const revisions: bigint[] = [];
          for await (const event of store.readStream(`order-${orderId}`)) revisions.push(event.revision);
          expect(revisions).toContain(BigInt(version));
          const view = await fetch(`${second.baseUrl}/orders/${orderId}?minVersion=${version}`);
          expect(view.status).toBe(200);
          expect(view.headers.get('x-consistency')).toBe('fresh');
        }
        // Exactly the store: every order stream (including one appended without its answer) is projected.
        const head = await store.headPosition();
        // orderId → the order's last revision in the store
        const placedInStore = new Map<string, number>();
        for await (const message of store.subscribeAll({ from: 'start' })) {
          if (message.kind === 'event') {
            const id = (message.event.data as { orderId: string }).orderId;
            placedInStore.set(id, Number(message.event.revision));
          }
          if (message.kind === 'caught-up') break;
        }
        const page = await fetch(`${second.baseUrl}/orders?limit=100&minPosition=${head}`);
        expect(page.headers.get('x-consistency')).toBe('fresh');
        const listed = new Map<string, number>();
        let cursor: string | null = null;
        do {
          const res: Response = await fetch(
            `${second.baseUrl}/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          const body = (await res.json()) as {
            items: Array<{ orderId: string; version: number }>;
            nextCursor: string | null;
          };
          for (const item of body.items) listed.set(item.orderId, item.version);
          cursor = body.nextCursor;
        } while (cursor);
        expect(listed).toEqual(placedInStore);
      } finally {
        await store.close();
      }
    } finally {
      await second.kill('SIGTERM');
    }
  }, 60_000);
});

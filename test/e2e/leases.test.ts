import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderProjections as allProjections } from '../../src/orders';
import { readModelKeys } from '../../src/readmodel';
import { json, validOrder } from '../support/app';
import { eventually } from '../support/projector-harness';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

/** The projection runner's default lease TTL; a standby takes over within it plus one renewal tick. */
const LEASE_TTL_MS = 5000;
const NAMES = allProjections.map(({ name }) => name);

/** The projections a process started a projector for, from its own log lines. */
const startedIn = (service: ServiceProcess): string[] =>
  service.logs
    .filter((l): l is Record<string, unknown> => typeof l === 'object' && l.msg === 'projector started')
    .map((l) => String(l.projection));

describe('projection leases between two projector processes on one store and prefix (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leases-'));
  const prefix = uniqueRedisPrefix('leases');
  const keys = readModelKeys(prefix);
  const redis = createClient({ url: TEST_REDIS_URL });
  const processes: ServiceProcess[] = [];
  const start = async (role: string) => {
    const service = await startServiceProcess({
      ROLE: role,
      EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
    });
    processes.push(service);
    return service;
  };

  beforeAll(async () => {
    await redis.connect();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await deleteKeysWithPrefix(prefix).catch(() => {});
    redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given two projector processes, when both run, then each projection runs in exactly one; when its holder is SIGKILLed, then the other takes over within the lease time and new orders become readable', async () => {
    const [api, first, second] = await Promise.all([start('api'), start('projector'), start('projector')]);
    const projectors = [first, second];
    await eventually(
      () => projectors.flatMap(startedIn).sort(),
      (s) => s.length === NAMES.length,
      {
        what: 'a projector for every projection',
      },
    );
    await new Promise((r) => setTimeout(r, 1500)); // a few renewal ticks: nobody else starts one meanwhile

    expect(projectors.flatMap(startedIn).sort()).toEqual([...NAMES].sort());
    for (const name of NAMES) {
      expect(await redis.pTTL(keys.lease(name))).toBeGreaterThan(0);
      expect(await redis.pTTL(keys.lease(name))).toBeLessThanOrEqual(LEASE_TTL_MS);
      expect(await redis.hGet(keys.state(name), 'status')).toMatch(/^(running|catching-up)$/);
    }

    const holder = projectors.find((p) => startedIn(p).includes('order-view'))!;
    const standby = projectors.find((p) => p !== holder)!;
    const held = startedIn(holder);
    const tokensBefore = await Promise.all(held.map((name) => redis.get(keys.lease(name))));
    const before = startedIn(standby).length;
    await holder.kill('SIGKILL');
    const killedAt = Date.now();
    const placed = await fetch(`${api.baseUrl}/orders`, json(validOrder({ customerId: 'after-kill' })));
    expect(placed.status).toBe(201);
    const { orderId, position } = (await placed.json()) as { orderId: string; position: string };

    await eventually(
      () => startedIn(standby).length,
      (n) => n === before + held.length,
      {
        timeoutMs: LEASE_TTL_MS + 7000,
        what: 'the standby taking over',
      },
    );
    // The lease TTL, one renewal tick (TTL / 5) and the start, with slack for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(LEASE_TTL_MS + 4000);
    expect(startedIn(standby).sort()).toEqual([...NAMES].sort());
    const tokensAfter = await Promise.all(held.map((name) => redis.get(keys.lease(name))));
    for (const [i, token] of tokensAfter.entries()) expect(token).not.toBe(tokensBefore[i]);

    const view = await fetch(`${api.baseUrl}/orders/${orderId}?minVersion=0&minPosition=${position}`);
    expect(view.status).toBe(200);
    expect(view.headers.get('x-consistency')).toBe('fresh');
    const list = await fetch(`${api.baseUrl}/customers/after-kill/orders?minPosition=${position}`);
    expect(list.headers.get('x-consistency')).toBe('fresh');
    expect(
      ((await list.json()) as { items: Array<{ orderId: string }> }).items.map((o) => o.orderId),
    ).toEqual([orderId]);
  }, 45_000);
});

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { orderProjections as allProjections } from '../../src/orders';
import { GENERATION_KEYS, readModelKeys } from '../../src/readmodel';
import { json, validOrder } from '../support/app';
import { adminRows, readiness } from '../support/ops-probes';
import { eventually } from '../support/projector-harness';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const ADMIN_TOKEN = 'restore-admin-token-0123456789';
const NAMES = allProjections.map((p) => p.name);

describe('an event store restored from an older backup while Redis keeps the read model (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-restore-'));
  const storePath = join(dir, 'events.sqlite');
  const backupPath = join(dir, 'backup.sqlite');
  const prefix = uniqueRedisPrefix('restore');
  const env = {
    EVENTSTORE_URL: `sqlite:${storePath}`,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN,
    CONSISTENCY_TIMEOUT_MS: '800',
  };
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.kill('SIGKILL');
    await deleteKeysWithPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });
  const place = async (customerId: string) => {
    const res = await fetch(`${service!.baseUrl}/orders`, json(validOrder({ customerId })));
    expect(res.status).toBe(201);
    return (await res.json()) as { orderId: string; version: number; position: string };
  };
  const freshly = async (order: { orderId: string; version: number }) =>
    (await fetch(`${service!.baseUrl}/orders/${order.orderId}?minVersion=${order.version}`)).headers.get(
      'x-consistency',
    );

  it('given checkpoints past the restored store head, when the service starts, then every projection is faulted with the cause, no read is fresh from it, and rebuilds recover a model equal to the store', async () => {
    service = await startServiceProcess(env);
    const kept = await place('c-kept');
    expect(await freshly(kept)).toBe('fresh');
    await service.kill('SIGTERM');
    copyFileSync(storePath, backupPath); // the backup: one order

    service = await startServiceProcess(env);
    const lost = [await place('c-lost'), await place('c-lost')];
    expect(await freshly(lost[1]!)).toBe('fresh');
    await service.kill('SIGTERM');
    for (const suffix of ['', '-wal', '-shm']) rmSync(storePath + suffix, { force: true });
    copyFileSync(backupPath, storePath); // restored: the two later orders are gone from the store

    service = await startServiceProcess(env);
    const rows = await eventually(
      () => adminRows(service!.baseUrl, ADMIN_TOKEN),
      (r) => r.every((row) => row.status === 'faulted'),
      { what: 'every projection faulted', timeoutMs: 10_000 },
    );
    for (const row of rows) expect(row.lastError).toMatch(/event store ends at 1: .*restored .*rebuild/);
    const ready = await readiness(service.baseUrl);
    expect(ready.status).toBe(503);
    for (const name of NAMES) expect(ready.body.components.projections?.error).toContain(name);
    expect(
      service.logs.some((l) => typeof l === 'object' && l.level === 50 && l.cause === 'store-behind'),
    ).toBe(true);

    // The kept order's version is in every generation: only the mark says the generation is not to be trusted.
    expect(await freshly(kept)).toBe('stale');
    // A mark an older release made (in the checkpoint only) is completed when a projector starts on it again.
    await service.kill('SIGTERM');
    const plain = createClient({ url: TEST_REDIS_URL });
    await plain.connect();
    const streamVersions = NAMES.map((name) => readModelKeys(prefix).generation(name, 1).streamVersions);
    for (const key of streamVersions)
      expect(await plain.hDel(key, GENERATION_KEYS.streamVersionsFault)).toBe(1);
    service = await startServiceProcess(env);
    await eventually(
      async () =>
        Promise.all(streamVersions.map((key) => plain.hExists(key, GENERATION_KEYS.streamVersionsFault))),
      (marked) => marked.every(Boolean),
      { what: 'every generation marked in its stream versions again', timeoutMs: 10_000 },
    );
    plain.destroy();
    expect(await freshly(kept)).toBe('stale');

    // A new order reuses a position the read model has already passed: nothing may call it fresh.
    const after = await place('c-after');
    expect(BigInt(after.position)).toBeLessThanOrEqual(BigInt(lost[1]!.position));
    expect(await freshly(after)).toBe('stale');
    const list = await fetch(`${service.baseUrl}/customers/c-after/orders?minPosition=${after.position}`);
    expect(list.headers.get('x-consistency')).toBe('stale');

    for (const name of NAMES) {
      const res = await fetch(`${service.baseUrl}/admin/projections/${name}/rebuild`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(202);
    }
    await eventually(
      () => adminRows(service!.baseUrl, ADMIN_TOKEN),
      (r) => r.every((row) => row.status === 'running' && row.generation === 2 && row.lagEvents === 0),
      { what: 'every projection rebuilt and running', timeoutMs: 20_000 },
    );
    expect(await freshly(after)).toBe('fresh');
    expect(await freshly(kept)).toBe('fresh');
    for (const gone of lost)
      expect((await fetch(`${service.baseUrl}/orders/${gone.orderId}`)).status).toBe(404);
    const customers = await fetch(`${service.baseUrl}/customers/c-lost/orders`);
    expect(((await customers.json()) as { items: unknown[] }).items).toEqual([]);
    expect((await readiness(service.baseUrl)).status).toBe(200);
  }, 90_000);
});

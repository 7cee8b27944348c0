import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { startServiceProcess } from '../support/service-process';

const dir = mkdtempSync(join(tmpdir(), 'sluice-shutdown-'));
const prefixes: string[] = [];
const env = () => {
  const prefix = uniqueRedisPrefix('shutdown');
  prefixes.push(prefix);
  return {
    prefix,
    vars: {
      EVENTSTORE_URL: `sqlite:${join(dir, `${prefix.replace(/[^a-z0-9]/gi, '')}.sqlite`)}`,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      CONSISTENCY_TIMEOUT_MS: '1500',
    },
  };
};

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('graceful shutdown', () => {
  it('given a request in flight, when SIGTERM arrives, then it is answered, leases are released and the process exits 0', async () => {
    const { prefix, vars } = env();
    const service = await startServiceProcess(vars);
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    try {
      const leaseKey = `${prefix}{order-view}:lease`;
      for (let i = 0; i < 100 && !(await redis.exists(leaseKey)); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await redis.exists(leaseKey)).toBe(1);

      // A read that waits for a version that never comes: it stays in flight for CONSISTENCY_TIMEOUT_MS.
      const inFlight = fetch(`${service.baseUrl}/orders/${crypto.randomUUID()}?minVersion=3`);
      await new Promise((r) => setTimeout(r, 200));
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');

      const answer = await inFlight;
      expect(answer.status).toBe(404);
      expect(answer.headers.get('x-consistency')).toBe('stale');
      const exit = await service.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      expect(await redis.exists(leaseKey)).toBe(0);
      expect(service.logs.some((l) => typeof l === 'object' && l.msg === 'stopped')).toBe(true);
    } finally {
      redis.destroy();
      await service.kill();
    }
  });

  it('given a shutdown under way, when a second signal arrives, then the process exits at once', async () => {
    const { vars } = env();
    const service = await startServiceProcess(vars);
    try {
      const inFlight = fetch(`${service.baseUrl}/orders/${crypto.randomUUID()}?minVersion=3`).catch(
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, 200));
      service.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      expect(exit.code).toBe(130);
      await inFlight;
    } finally {
      await service.kill();
    }
  });
});

// Faults of the embedded store's file: deleted under a running service, and a full disk. Real processes,
// a real SQLite file, a real filesystem (a 3 MiB tmpfs for the full disk, mounted when this user may).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, validOrder } from '../support/app';
import { counterSum, metricValue, readiness } from '../support/ops-probes';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const dir = mkdtempSync(join(tmpdir(), 'sluice-store-file-'));
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const start = (storePath: string): Promise<ServiceProcess> => {
  const prefix = uniqueRedisPrefix('store-file');
  prefixes.push(prefix);
  return startServiceProcess({
    EVENTSTORE_URL: `sqlite:${storePath}`,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    ROLE: 'api',
  });
};

const place = (service: ServiceProcess, customerId = 'customer-1') =>
  fetch(`${service.baseUrl}/orders`, json(validOrder({ customerId })));

const errorLines = (service: ServiceProcess, text: string) =>
  service.logs.filter(
    (line) => typeof line === 'object' && line.level === 50 && JSON.stringify(line).includes(text),
  );

describe('the SQLite file is deleted while the service runs', () => {
  it('then appends are refused with 503, /ready names the event store and the path, an error line names the path, and nothing is acknowledged', async () => {
    const path = join(dir, 'deleted', 'events.sqlite');
    const service = await start(path);
    try {
      expect((await place(service)).status).toBe(201);

      for (const file of readdirSync(join(dir, 'deleted'))) rmSync(join(dir, 'deleted', file));

      const statuses = await Promise.all([1, 2, 3, 4, 5].map(async () => (await place(service)).status));
      expect(statuses).toEqual([503, 503, 503, 503, 503]);
      const refused = await place(service);
      expect(refused.headers.get('retry-after')).toBe('1');

      const ready = await readiness(service.baseUrl);
      expect(ready.status).toBe(503);
      expect(ready.body.components.eventStore?.status).toBe('down');
      expect(ready.body.components.eventStore?.error).toContain(path);
      expect(errorLines(service, path).length).toBeGreaterThanOrEqual(1);
      expect(
        await counterSum(service.baseUrl, 'sluice_eventstore_append_failures_total', 'FILE_DELETED'),
      ).toBe(6);

      // A new file at the path (another process, a restore) is not the one this process opened either.
      mkdirSync(join(dir, 'deleted'), { recursive: true });
      writeFileSync(path, '');
      expect((await place(service)).status).toBe(503);
    } finally {
      await service.kill();
    }
  });
});

describe('only the write-ahead log is deleted while the service runs', () => {
  it('then appends are refused with 503 naming the -wal file, instead of acknowledging writes a restart would lose', async () => {
    const path = join(dir, 'wal-deleted', 'events.sqlite');
    const service = await start(path);
    try {
      expect((await place(service)).status).toBe(201);
      rmSync(`${path}-wal`);
      expect((await place(service)).status).toBe(503);
      const ready = await readiness(service.baseUrl);
      expect(ready.status).toBe(503);
      expect(ready.body.components.eventStore?.error).toContain('-wal');
    } finally {
      await service.kill();
    }
  });
});

/** Mounts a tmpfs of `size` at `at`; false when this user may not (not root, or no mount in this sandbox). */
const mountTmpfs = (at: string, size: string): boolean => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const fullDiskDir = join(dir, 'small-disk');
mkdirSync(fullDiskDir);
const canMount = mountTmpfs(fullDiskDir, '3m');
if (!canMount)
  console.log('skipped: the full-disk test needs to mount a 3 MiB tmpfs, which this user may not');
afterAll(() => {
  if (canMount) execFileSync('umount', ['-l', fullDiskDir]);
});

/** Fills the filesystem of `at` to its last byte with one file (ENOSPC ends the writing). */
const fillDisk = (at: string): string => {
  const filler = join(at, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let size = chunk.length; size >= 512; size = Math.floor(size / 2)) {
    try {
      for (;;) writeFileSync(filler, chunk.subarray(0, size), { flag: 'a' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    }
  }
  return filler;
};

describe.skipIf(!canMount)('the disk of the SQLite file is full', () => {
  it('then commands get 503 with Retry-After, /ready says the disk is full, a few rate-limited error lines name SQLITE_FULL, a metric counts it; freeing space recovers', async () => {
    const service = await start(join(fullDiskDir, 'events.sqlite'));
    try {
      expect((await place(service)).status).toBe(201);
      const filler = fillDisk(fullDiskDir);
      // Before any append fails, /ready already sees that there is no space left.
      const full = await readiness(service.baseUrl);
      expect(full.status).toBe(503);
      expect(full.body.components.eventStore?.error).toContain('no space left');

      const refused: Response[] = [];
      for (let i = 0; i < 300 && refused.length < 50; i++) {
        const res = await place(service, `customer-${i}`);
        if (res.status === 503) refused.push(res);
        else expect(res.status).toBe(201); // what still fitted into pages SQLite had
      }
      expect(refused.length).toBe(50);
      expect(refused.every((res) => res.headers.get('retry-after') === '1')).toBe(true);

      const lines = errorLines(service, 'SQLITE_FULL');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(2); // one per 10 s, not one per request
      expect(
        await counterSum(service.baseUrl, 'sluice_eventstore_append_failures_total', 'SQLITE_FULL'),
      ).toBe(50);
      expect(await metricValue(service.baseUrl, 'sluice_eventstore_appends_failing')).toBe(1);
      const ready = await readiness(service.baseUrl);
      expect(ready.status).toBe(503);
      expect(ready.body.components.eventStore?.error).toContain('no space left');

      rmSync(filler);
      expect((await place(service, 'after-space-freed')).status).toBe(201);
      expect((await readiness(service.baseUrl)).status).toBe(200);
      expect(await metricValue(service.baseUrl, 'sluice_eventstore_appends_failing')).toBe(0);
    } finally {
      await service.kill();
    }
  });
});

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderStream, orderView as orderViewProjection } from '../../src/orders';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { orderPlaced } from '../support/orders';
import { TEST_REDIS_URL } from '../support/redis';

const ROOT = new URL('../..', import.meta.url).pathname;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the sluice CLI (`npm run sluice -- projections …`) against a running service (real Redis and SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { leaseTtlMs: 1000 });
  });
  afterAll(async () => t.stop());

  /** Runs src/cli.ts as a real process with the service's environment. */
  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', ...args],
        {
          cwd: ROOT,
          timeout: 20_000,
          env: {
            ...process.env,
            REDIS_URL: TEST_REDIS_URL,
            REDIS_PREFIX: t.prefix,
            EVENTSTORE_URL: t.config.eventStoreUrl,
          },
        },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });

  const eventually = async <T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = await probe();
      if (accept(value)) return value;
      if (Date.now() > deadline)
        throw new Error(`${what} not reached in 15 s; last: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('given no command or a bad one, when it runs, then it exits 2 with the usage on stderr', async () => {
    for (const args of [[], ['projections'], ['projections', 'frobnicate'], ['projections', 'rebuild']]) {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('usage: npm run sluice -- projections');
      expect(result.stdout).toBe('');
    }
  });

  it('given an unknown projection, when it is rebuilt, listed or replayed, then it exits 1 naming the known ones', async () => {
    for (const command of ['rebuild', 'parked', 'replay']) {
      const result = await cli('projections', command, 'nope');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('unknown projection "nope"');
      expect(result.stderr).toContain('order-view');
    }
  });

  it('given a placed order, when the status is asked for, then a table with every projection at the order’s position', async () => {
    const { position } = (await (await t.http('/orders', json(validOrder()))).json()) as { position: string };
    await eventually(
      () => t.redis.hGet(`${t.prefix}{daily-revenue}:g1:_checkpoint`, 'position'),
      (checkpoint) => checkpoint === position,
      'projected',
    );
    const result = await cli('projections', 'status');
    expect(result.code).toBe(0);
    const [header, ...lines] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+VERSION\s+GEN\s+STATUS\s+CHECKPOINT\s+HEAD/);
    expect(lines.map((line) => line.split(/\s+/)[0]).sort()).toEqual(
      ['customer-orders', 'daily-revenue', 'order-view', 'orders-index'].sort(),
    );
    const orderView = lines.find((line) => line.startsWith('order-view'))!.split(/\s+/);
    expect(orderView.slice(1, 6)).toEqual([
      String(orderViewProjection.version),
      '1',
      'running',
      position,
      position,
    ]);
  });

  it('given a running service, when a projection is rebuilt from the CLI, then the service builds generation 2 and the status shows it', async () => {
    const result = await cli('projections', 'rebuild', 'orders-index', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ generation: 2 });
    await eventually(
      () => t.redis.get(`${t.prefix}{orders-index}:active`),
      (active) => active === '2',
      'orders-index flipped',
    );
    const status = await cli('projections', 'status', '--json');
    const rows = JSON.parse(status.stdout) as Array<{ name: string; generation: number }>;
    expect(rows.find((row) => row.name === 'orders-index')?.generation).toBe(2);
  });

  it('given a parked event, when it is listed and replayed from the CLI, then it shows with its error and its replay makes the order readable', async () => {
    const orderId = randomUUID();
    const event = {
      id: randomUUID(),
      stream: orderStream(orderId),
      revision: '0',
      position: '999',
      ...orderPlaced(orderId, 'parked-customer'),
      metadata: { schemaVersion: 3 },
      recordedAt: new Date().toISOString(),
    };
    // As batch-builder.ts parks an event whose handler kept failing.
    await t.redis.xAdd(`${t.prefix}{order-view}:g1:_parked`, '*', {
      position: '999',
      error: 'the handler was broken',
      event: JSON.stringify(event),
    });

    const listed = await cli('projections', 'parked', 'order-view');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('position 999  the handler was broken');
    expect(listed.stdout).toContain(orderId);

    const replayed = await cli('projections', 'replay', 'order-view');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout.trim()).toBe('replayed 1, failed 0, remaining 0');
    const view = await t.http(`/orders/${orderId}`);
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ orderId, customerId: 'parked-customer' });
    expect((await cli('projections', 'parked', 'order-view')).stdout.trim()).toBe(
      'no parked events for order-view',
    );
  });
});

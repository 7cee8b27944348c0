import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { type App, type AppOptions, createApp } from '../../src/app';
import { type Config, loadConfig } from '../../src/config';
import { startHttpServer } from '../../src/http';
import { createLogger } from '../../src/ops/logger';
import { deleteKeysWithPrefix, type PlainRedis, TEST_REDIS_URL, uniqueRedisPrefix } from './redis';

export interface TestApp {
  app: App;
  config: Config;
  baseUrl: string;
  prefix: string;
  /** A plain client of the same Redis, for a test to look at (or tamper with) what the service wrote. */
  redis: PlainRedis;
  /** fetch against the running server (real HTTP). */
  http: (path: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
}

/**
 * Starts the whole service in this process on a free port over real HTTP, with a temp SQLite file and a
 * private Redis prefix. `env` overrides variables as the README names them.
 */
export const startTestApp = async (
  env: Record<string, string> = {},
  options: AppOptions & {
    redisUrl?: string;
    keepData?: boolean;
    /** The HTTP server's limits, instead of the service's (SERVER_TIMEOUTS). */
    serverOptions?: ServerOptions;
  } = {},
): Promise<TestApp> => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const prefix = env.REDIS_PREFIX ?? uniqueRedisPrefix('app');
  const config = loadConfig({
    EVENTSTORE_URL: `sqlite:${join(dir, 'events.sqlite')}`,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    CONSISTENCY_TIMEOUT_MS: '2000',
    ...env,
  });
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const log = createLogger(config.logLevel);
  const app = await createApp(config, { kind: 'single', url: redisUrl }, log, options);
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => {}); // tests that stop Redis look at it only once it is back
  redis.connect().catch(() => {}); // its commands wait (offline queue) until it is connected
  // The service's own server (src/http/node-server.ts), as `npm start` runs it.
  let server: ReturnType<typeof startHttpServer> | undefined;
  await new Promise<void>((resolve) => {
    server = startHttpServer({
      fetch: app.fetch,
      port: 0,
      hostname: '127.0.0.1',
      ...(options.serverOptions ? { serverOptions: options.serverOptions } : {}),
      log,
      onListening: () => resolve(),
    });
  });
  const { port } = server!.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    baseUrl,
    prefix,
    redis,
    http: (path, init) => fetch(baseUrl + path, init),
    stop: async () => {
      await new Promise<void>((done) => server!.close(() => done()));
      await app.close();
      redis.destroy();
      if (!options.keepData) {
        await deleteKeysWithPrefix(prefix, redisUrl).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
};

export const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export const validOrder = (overrides: Record<string, unknown> = {}) => ({
  customerId: 'customer-1',
  items: [
    { sku: 'SKU-1', quantity: 2, unitPrice: 19.99 },
    { sku: 'SKU-2', quantity: 1, unitPrice: 5 },
  ],
  shippingAddress: { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' },
  ...overrides,
});

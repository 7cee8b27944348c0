import { serve } from '@hono/node-server';
import { createApp, RedisRefused } from './app';
import { ConfigError, loadConfig } from './config';
import { type DomainModule, ModuleConflict, mountModules } from './module';
import { createLogger, ensureLocalRedis, RedisNotAvailable, redactUrl } from './ops';
import { DEFAULT_REDIS_URL, describeTopology } from './redis';

const SHUTDOWN_BOUND_MS = 10_000;

/**
 * Runs the service with these domain modules until SIGTERM / SIGINT: config from the environment, a local
 * redis-server when no Redis is configured, the app, the HTTP server. A start-up that cannot go on prints
 * one line (`sluice: …`) and exits 1.
 */
export const runService = async (modules: readonly DomainModule[]): Promise<void> => {
  let config: ReturnType<typeof loadConfig>;
  try {
    mountModules(modules); // an event type claimed by two modules stops here, before anything starts
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ModuleConflict) {
      process.stderr.write(`sluice: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  let localRedis: Awaited<ReturnType<typeof ensureLocalRedis>>;
  try {
    // Only when no Redis is configured at all: REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES unset.
    localRedis = config.redis === undefined ? await ensureLocalRedis(log) : undefined;
  } catch (error) {
    if (error instanceof RedisNotAvailable) {
      process.stderr.write(`sluice: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const topology = config.redis ?? { kind: 'single' as const, url: DEFAULT_REDIS_URL };
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp(config, topology, log, { modules });
  } catch (error) {
    if (error instanceof RedisRefused || error instanceof ModuleConflict) {
      process.stderr.write(`sluice: ${error.message}\n`);
      await localRedis?.stop();
      process.exit(1);
    }
    throw error;
  }

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    log.info(
      {
        url: `http://${config.host}:${info.port}`,
        port: info.port,
        role: config.role,
        eventStore: redactUrl(config.eventStoreUrl),
        redis: describeTopology(topology),
        readFrom: config.redisReadFrom,
        prefix: config.redisPrefix,
      },
      'sluice listening',
    );
  });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    shuttingDown = true;
    log.info({ signal }, 'shutting down: no new requests, finishing in-flight ones');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_BOUND_MS).unref();
    await new Promise<void>((done) => {
      server.close(() => done());
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    });
    await app.close();
    await localRedis?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
};

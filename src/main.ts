import { serve } from '@hono/node-server';
import { createApp, RedisRefused } from './app';
import { ConfigError, loadConfig } from './config';
import { ensureLocalRedis, RedisNotAvailable } from './ops/local-redis';
import { createLogger, redactUrl } from './ops/logger';
import { DEFAULT_REDIS_URL, describeTopology } from './redis';

const SHUTDOWN_BOUND_MS = 10_000;

const main = async () => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
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
    app = await createApp(config, topology, log);
  } catch (error) {
    if (error instanceof RedisRefused) {
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

main().catch((error: unknown) => {
  process.stderr.write(
    `sluice: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});

import { serve } from '@hono/node-server';
import { createApp } from './app';
import { ConfigError, DEFAULT_REDIS_URL, loadConfig } from './config';
import { ensureLocalRedis, RedisNotAvailable } from './ops/local-redis';
import { createLogger, redactUrl } from './ops/logger';

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
    localRedis = config.redisUrl === undefined ? await ensureLocalRedis(log) : undefined;
  } catch (error) {
    if (error instanceof RedisNotAvailable) {
      process.stderr.write(`sluice: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const redisUrl = config.redisUrl ?? DEFAULT_REDIS_URL;
  const app = await createApp(config, redisUrl, log);

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    log.info(
      {
        url: `http://${config.host}:${info.port}`,
        port: info.port,
        role: config.role,
        eventStore: redactUrl(config.eventStoreUrl),
        redis: redactUrl(redisUrl),
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

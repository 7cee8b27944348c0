import { createApp, RedisRefused } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { startHttpServer } from './http/index.js';
import { type DomainModule, ModuleConflict, mountModules } from './module/index.js';
import {
  createLogger,
  ensureLocalRedis,
  RedisNotAvailable,
  redactUrl,
  stdoutDestination,
} from './ops/index.js';
import { DEFAULT_REDIS_URL, describeTopology } from './redis/index.js';

const SHUTDOWN_BOUND_MS = 10_000;
/** What the last log lines may add to a shutdown when stdout is slow to take them. */
const LOG_FLUSH_MS = 1000;
/** In-flight requests get this long after SIGTERM; the rest of the bound is for closing stores and Redis. */
const REQUEST_GRACE_MS = 7_000;

/** Why listening failed, naming the variable to change. */
const listenFailure = (error: NodeJS.ErrnoException, host: string, port: number): string => {
  switch (error.code) {
    case 'EADDRINUSE':
      return `cannot listen: PORT=${port} is already in use on HOST=${host} (EADDRINUSE)`;
    case 'EACCES':
      return `cannot listen: PORT=${port} needs privileges this process does not have (EACCES)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen: HOST=${JSON.stringify(host)} is not an address of this machine (EADDRNOTAVAIL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `cannot listen: HOST=${JSON.stringify(host)} does not resolve to an address (${error.code})`;
    default:
      return `cannot listen on HOST=${JSON.stringify(host)} PORT=${port}: ${error.message}`;
  }
};

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
  const logs = stdoutDestination();
  const log = createLogger(config.logLevel, logs);
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

  const server = startHttpServer({
    fetch: app.fetch,
    port: config.port,
    hostname: config.host,
    log,
    onListening: (info) => {
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
    },
  });
  // A port in use or a HOST that is not this machine's: one line naming the variable, exit 1.
  server.once('error', async (error: NodeJS.ErrnoException) => {
    process.stderr.write(`sluice: ${listenFailure(error, config.host, config.port)}\n`);
    await app.close().catch(() => {});
    await localRedis?.stop();
    process.exit(1);
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
    // Requests still running (or still being sent) when the grace ends are cut: a slow client does
    // not turn a clean SIGTERM into a failed shutdown.
    const cut = setTimeout(() => {
      log.warn('requests still open at the end of the shutdown grace: closing their connections');
      if ('closeAllConnections' in server) server.closeAllConnections();
    }, REQUEST_GRACE_MS);
    app.endLiveStreams();
    await new Promise<void>((done) => {
      server.close(() => done());
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    });
    clearTimeout(cut);
    await app.close();
    await localRedis?.stop();
    log.info('stopped');
    await logs.flush(LOG_FLUSH_MS);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
};

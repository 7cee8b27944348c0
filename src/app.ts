import { allProjections } from '../projections';
import type { Config } from './config';
import { type EventStore, EventStoreUnavailable, openEventStore } from './eventstore';
import { registerAdminRoutes } from './http/admin';
import { createHttpApp } from './http/app';
import type { Logger } from './ops/logger';
import { createMetrics } from './ops/metrics';
import { createOrderCommandHandlers, upcastOrderEvent } from './orders';
import {
  createRedis,
  NotificationHub,
  type Projection,
  ProjectionRunner,
  ProjectionStatusReader,
  ReadModelAccess,
  type RedisClient,
  readModelKeys,
} from './readmodel';

export interface AppOptions {
  /** Projections to run (tests pass their own); default: every projection in projections/. */
  projections?: readonly Projection[];
  leaseTtlMs?: number;
  batchSize?: number;
}

export interface App {
  fetch: (request: Request) => Response | Promise<Response>;
  store: EventStore;
  redis: RedisClient;
  runners: ProjectionRunner[];
  /** Stops projectors (after their batch) and releases leases, then closes Redis and the store. */
  close: () => Promise<void>;
}

/** The composition root: the only place that wires concrete parts together. */
export const createApp = async (
  config: Config,
  redisUrl: string,
  log: Logger,
  options: AppOptions = {},
): Promise<App> => {
  const metrics = createMetrics();
  const store = await openEventStore(config.eventStoreUrl);
  const redis = createRedis({
    url: redisUrl,
    onError: (error) => {
      metrics.redisErrors.inc();
      log.warn({ err: error.message }, 'redis connection error');
    },
  });
  // Commands work without Redis: start even if it is down now; node-redis keeps reconnecting.
  const connecting = redis.connect().then(
    () => true,
    () => false,
  );
  const connected = await Promise.race([
    connecting,
    new Promise<false>((r) => setTimeout(() => r(false), 2000)),
  ]);
  if (!connected) log.warn('redis not reachable at start; commands work, queries answer 503 until it is');

  const keys = readModelKeys(config.redisPrefix);
  const hub = new NotificationHub(redis, keys.notifications, () => readModel.forgetGenerations());
  const readModel = new ReadModelAccess(redis, keys, hub);
  if (config.role !== 'projector') {
    // With Redis up, subscribe before serving; with Redis down, subscribe whenever it comes back.
    const subscribing = hub
      .start()
      .catch((error: unknown) =>
        log.warn(
          { err: (error as Error).message },
          'notification subscriber not connected yet; it keeps trying',
        ),
      );
    if (connected) await subscribing;
  }

  const projections = options.projections ?? allProjections;
  const runners =
    config.role === 'api'
      ? []
      : projections.map((projection) =>
          new ProjectionRunner({
            projection,
            store,
            redis,
            keys,
            upcast: upcastOrderEvent,
            log,
            leaseTtlMs: options.leaseTtlMs ?? config.projectionLeaseTtlMs,
            ...(options.batchSize ? { batchSize: options.batchSize } : {}),
          }).start(),
        );
  const statuses = new ProjectionStatusReader({ redis, keys, store, projections, runners });
  metrics.setProjectionSource({ projections: () => statuses.metrics() });

  const commands = createOrderCommandHandlers({
    store,
    observe: (type, outcome, error, _ms, result) => {
      metrics.commands.inc({
        type,
        outcome: outcome === 'ok' ? 'ok' : ((error as { type?: string })?.type?.split('/').pop() ?? 'error'),
      });
      // A replayed command (same Idempotency-Key) appended nothing.
      if (outcome === 'ok' && !(result as { replayed?: boolean } | undefined)?.replayed)
        metrics.appends.inc();
      if (error instanceof EventStoreUnavailable || (error as { status?: number })?.status === 503)
        metrics.storeErrors.inc();
    },
    onConflict: (type) => metrics.conflicts.inc({ type }),
    onRetry: (type) => metrics.retries.inc({ type }),
  });

  const http = createHttpApp({
    log,
    metrics,
    ...(config.role === 'projector'
      ? {}
      : {
          commands: { commands },
          queries: {
            readModel,
            read: { redis, keyspace: (projection: string) => readModel.keyspace(projection) },
            consistencyTimeoutMs: config.consistencyTimeoutMs,
            readModelReady: () => redis.isReady,
          },
          // The projector role serves ops routes only; admin lives with the API (and the CLI).
          extend: (app) =>
            registerAdminRoutes(app, {
              adminToken: config.adminToken,
              statuses,
              redis,
              keys,
              upcast: upcastOrderEvent,
            }),
        }),
    ops: {
      checks: [
        { name: 'eventStore', check: () => store.ping() },
        {
          name: 'redis',
          check: async () => {
            if (!redis.isReady) throw new Error('not connected');
            await redis.ping();
          },
        },
      ],
    },
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await Promise.all(runners.map((runner) => runner.stop().catch(() => {})));
      await hub.close();
      redis.destroy();
      await store.close();
    })();
    return closing;
  };
  return { fetch: http.fetch, store, redis, runners, close };
};

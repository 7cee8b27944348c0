import { type Config, ConfigError } from './config.js';
import { type EventStore, EventStoreUnavailable, openEventStore } from './eventstore/index.js';
import { createHttpApp } from './http/index.js';
import { type DomainModule, mountModules } from './module/index.js';
import { modules as serviceModules } from './modules.js';
import { AppendHealth, createMetrics, type Logger } from './ops/index.js';
import {
  LiveViews,
  NotificationHub,
  ProjectionRunner,
  ProjectionStatusReader,
  ReadModelAccess,
  readModelKeys,
} from './readmodel/index.js';
import {
  EvictionPolicyWatch,
  evictionProblem,
  openRedis,
  type Redis,
  type RedisTopology,
  readNodeFacts,
  unknownPolicyNodes,
  versionProblem,
} from './redis/index.js';

export interface AppOptions {
  /** The domain modules to mount (tests add their own); default: the service's list (src/modules.ts). */
  modules?: readonly DomainModule[];
  leaseTtlMs?: number;
  batchSize?: number;
  /** How often the eviction policy is looked at again while running (default 1 s). */
  evictionCheckMs?: number;
  /** How often /admin/feed sends (default 1 s). */
  adminFeedEveryMs?: number;
}

export interface App {
  fetch: (request: Request) => Response | Promise<Response>;
  store: EventStore;
  redis: Redis;
  runners: ProjectionRunner[];
  /** Stops projectors (after their batch) and releases leases, then closes Redis and the store. */
  close: () => Promise<void>;
  /** Ends every open live query (server-sent events), so a shutdown's wait for requests can finish. */
  endLiveStreams: () => void;
}

/** Redis answers but must not be used: an evicting policy, a version too old. Start-up stops with it. */
export class RedisRefused extends Error {
  override readonly name = 'RedisRefused';
}

/** Checks each primary before anything is projected; an unreadable policy is a warning, not a refusal. */
const checkRedisAtStart = async (redis: Redis, log: Logger): Promise<void> => {
  const facts = await readNodeFacts(redis);
  const problem = versionProblem(facts) ?? evictionProblem(facts);
  if (problem !== undefined) throw new RedisRefused(problem);
  const unknown = unknownPolicyNodes(facts);
  if (unknown.length > 0)
    log.warn(
      { nodes: unknown },
      'cannot read maxmemory-policy (CONFIG and INFO refused): make sure it is noeviction, or Redis may evict read models',
    );
};

/** The composition root: the only place that wires concrete parts together. */
export const createApp = async (
  config: Config,
  topology: RedisTopology,
  log: Logger,
  options: AppOptions = {},
): Promise<App> => {
  // Conflicting modules (an event type claimed twice…) stop start-up before anything is opened.
  const mounted = mountModules(options.modules ?? serviceModules);
  const names = mounted.projections.map(({ projection }) => projection.name);
  const unknownLags = Object.keys(config.acceptableLagMs).filter((name) => !names.includes(name));
  if (unknownLags.length > 0)
    throw new ConfigError(
      `invalid ACCEPTABLE_LAG_MS: no projection is named ${unknownLags.join(', ')} (there are ${names.join(', ')})`,
    );
  const metrics = createMetrics();
  const store = await openEventStore(config.eventStoreUrl);
  const appends = new AppendHealth(log, metrics);
  let commands: ReturnType<typeof mounted.commandBus>;
  try {
    commands = mounted.commandBus(
      {
        store,
        onConflict: (type) => metrics.conflicts.inc({ type }),
        onRetry: (type) => metrics.retries.inc({ type }),
      },
      (type, outcome, error, _ms, result) => {
        metrics.commands.inc({
          type,
          outcome:
            outcome === 'ok' ? 'ok' : ((error as { type?: string })?.type?.split('/').pop() ?? 'error'),
        });
        // A replayed command (same Idempotency-Key) appended nothing.
        if (outcome === 'ok' && !(result as { replayed?: boolean } | undefined)?.replayed) {
          metrics.appends.inc();
          appends.succeeded();
        }
        if (error instanceof EventStoreUnavailable) appends.failed(error);
        if (error instanceof EventStoreUnavailable || (error as { status?: number })?.status === 503)
          metrics.storeErrors.inc();
      },
    );
  } catch (error) {
    await store.close(); // a command type claimed by two modules
    throw error;
  }
  const redis = openRedis(topology, {
    readFrom: config.redisReadFrom,
    onError: (error) => {
      metrics.redisErrors.inc();
      log.warn({ err: error.message }, 'redis connection error');
    },
  });
  // Commands work without Redis: start even if it is down now; the clients keep reconnecting.
  const connected = await redis.connect(2000);
  if (!connected) log.warn('redis not reachable at start; commands work, queries answer 503 until it is');
  if (config.redisReadFrom === 'replica' && topology.kind === 'single')
    log.warn('REDIS_READ_FROM=replica has no effect with REDIS_URL (one node): queries read it');
  if (connected) {
    try {
      await checkRedisAtStart(redis, log);
    } catch (error) {
      await redis.close();
      await store.close();
      throw error;
    }
  }

  const projections = mounted.projections.map((mounted) => mounted.projection);
  const keys = readModelKeys(config.redisPrefix);
  const hub = new NotificationHub(
    redis,
    projections.map((projection) => keys.notifications(projection.name)),
    () => readModel.forgetGenerations(),
  );
  const readModel = new ReadModelAccess(redis, keys, hub);
  const liveViews = new LiveViews(hub, readModel);
  metrics.setLiveSource(() => liveViews.open);
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

  // A policy changed at run time (CONFIG SET) stops every projector before its next batch.
  const evictionWatch = new EvictionPolicyWatch(redis, (problem) => {
    if (problem === undefined) log.info('Redis maxmemory-policy is noeviction again: projectors go on');
    else log.error({ cause: problem }, 'Redis may evict keys: projectors stop applying until it may not');
  });
  const runners =
    config.role === 'api'
      ? []
      : mounted.projections.map(({ projection, upcast }) =>
          new ProjectionRunner({
            projection,
            store,
            redis,
            keys,
            upcast,
            log,
            leaseTtlMs: options.leaseTtlMs ?? config.projectionLeaseTtlMs,
            guard: () => evictionWatch.problem,
            onFailure: (cause) => metrics.projectionFailures.inc({ projection: projection.name, cause }),
            ...(options.batchSize ? { batchSize: options.batchSize } : {}),
          }).start(),
        );
  if (runners.length > 0) await evictionWatch.start(options.evictionCheckMs);
  const statuses = new ProjectionStatusReader({
    redis,
    keys,
    store,
    projections,
    runners,
    acceptableLagMs: config.acceptableLagMs,
  });
  metrics.setProjectionSource({ projections: () => statuses.metrics() });

  const http = createHttpApp({
    log,
    metrics,
    ...(config.role === 'projector'
      ? {}
      : {
          routes: {
            build: mounted.routes,
            deps: {
              commands,
              queries: mounted.queryBus(),
              readModel,
              consistencyTimeoutMs: config.consistencyTimeoutMs,
              readModelReady: () => redis.isReady,
              live: { views: liveViews, heartbeatMs: config.liveHeartbeatMs, log },
            },
          },
          // The projector role serves ops routes only; admin lives with the API (and the CLI).
          admin: {
            adminToken: config.adminToken,
            onAuthFailure: () => metrics.adminAuthFailures.inc(),
            statuses,
            redis,
            keys,
            store,
            ...(options.adminFeedEveryMs ? { feedEveryMs: options.adminFeedEveryMs } : {}),
          },
        }),
    ops: {
      checks: [
        {
          // A store can answer a ping and refuse every write (a full disk): appends failing fail it too.
          name: 'eventStore',
          check: async () => {
            await store.ping();
            appends.assertHealthy();
          },
        },
        {
          name: 'redis',
          check: async () => {
            if (!redis.isReady) throw new Error('not connected');
            await Promise.all((await redis.primaries()).map((node) => node.send(['PING'])));
          },
        },
        {
          // A faulted projection fails readiness where projectors run; an API process still does its job
          // (every instance reads the same Redis), so there it is reported without failing readiness.
          name: 'projections',
          degradesOnly: config.role === 'api',
          check: async () => {
            const faults = await statuses.faults();
            if (faults.length > 0)
              throw new Error(faults.map(({ name, message }) => `${name}: ${message}`).join('; '));
          },
        },
        {
          // Over the lag it accepts: named, never a 503 — every instance reads the same Redis, so taking
          // instances out of the load balancer would not make the read model any fresher.
          name: 'lag',
          degradesOnly: true,
          check: async () => {
            const over = await statuses.overAcceptableLag();
            if (over.length > 0)
              throw new Error(
                over
                  .map((p) => `${p.name} is ${p.lagMs} ms behind (accepts ${p.acceptableLagMs} ms)`)
                  .join('; '),
              );
          },
        },
      ],
    },
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      liveViews.close();
      evictionWatch.stop();
      await Promise.all(runners.map((runner) => runner.stop().catch(() => {})));
      await hub.close();
      await redis.close();
      await store.close();
    })();
    return closing;
  };
  // Open live streams never end by themselves: a shutdown ends them before it waits for requests to finish.
  const endLiveStreams = () => liveViews.close();
  return { fetch: http.fetch, store, redis, runners, close, endLiveStreams };
};

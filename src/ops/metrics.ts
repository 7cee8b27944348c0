import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ProjectionMetricsSource {
  /** Current figures per projection, read at scrape time. */
  projections(): Promise<
    Array<{
      name: string;
      checkpoint: bigint;
      lagEvents: bigint;
      lagMs: number;
      acceptableLagMs: number;
      applied: number;
      parked: number;
      faulted: boolean;
    }>
  >;
}

/** Every metric the service exports, on a registry of its own (tests run several apps in one process). */
export const createMetrics = () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const httpDuration = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const commands = counter(
    'sluice_commands_total',
    'Commands by type and outcome (ok, or the problem type)',
    ['type', 'outcome'],
  );
  const appends = counter('sluice_appends_total', 'Successful appends');
  const conflicts = counter('sluice_append_conflicts_total', 'Appends refused because the stream moved on', [
    'type',
  ]);
  const retries = counter('sluice_command_retries_total', 'Commands retried after a conflict', ['type']);
  const storeErrors = counter(
    'sluice_eventstore_errors_total',
    'Event store calls that failed (unavailable)',
  );
  const appendFailures = counter(
    'sluice_eventstore_append_failures_total',
    'Appends the event store refused or could not take, by cause (SQLITE_FULL, FILE_DELETED, unavailable…)',
    ['cause'],
  );
  const appendsFailing = new Gauge({
    name: 'sluice_eventstore_appends_failing',
    help: '1 while the latest append failed for want of the event store (see /ready), else 0',
    registers: [registry],
  });
  const adminAuthFailures = counter(
    'sluice_admin_auth_failures_total',
    'Admin API calls refused for a missing or wrong bearer token',
  );
  const redisErrors = counter('sluice_redis_errors_total', 'Redis connection errors');
  const projectionFailures = counter(
    'sluice_projection_failures_total',
    'Failures of a projection (runner or apply) by cause: oom, noauth, readonly, unavailable, guard, lost-state…',
    ['projection', 'cause'],
  );
  let source: ProjectionMetricsSource | undefined;
  let liveStreams: () => number = () => 0;
  new Gauge({
    name: 'sluice_live_streams',
    help: 'Open live queries (server-sent event streams) in this process',
    registers: [registry],
    collect() {
      this.set(liveStreams());
    },
  });
  const projectionGauge = (
    name: string,
    help: string,
    pick: (p: Awaited<ReturnType<ProjectionMetricsSource['projections']>>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['projection'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        if (!source) return;
        for (const projection of await source.projections().catch(() => [])) {
          this.set({ projection: projection.name }, pick(projection));
        }
      },
    });
  projectionGauge('sluice_projection_checkpoint', 'Position the projection has processed', (p) =>
    Number(p.checkpoint),
  );
  projectionGauge('sluice_projection_lag_events', 'Head position minus checkpoint', (p) =>
    Number(p.lagEvents),
  );
  projectionGauge(
    'sluice_projection_lag_ms',
    'Age of the newest applied event while behind, in ms',
    (p) => p.lagMs,
  );
  projectionGauge(
    'sluice_projection_acceptable_lag_ms',
    'The lag the projection accepts (its definition or ACCEPTABLE_LAG_MS); /ready names it when over',
    (p) => p.acceptableLagMs,
  );
  projectionGauge('sluice_projection_events_applied', 'Events applied by this process', (p) => p.applied);
  projectionGauge(
    'sluice_projection_faulted',
    '1 while the projection cannot run (see lastError in /admin/projections), else 0',
    (p) => (p.faulted ? 1 : 0),
  );
  projectionGauge(
    'sluice_projection_parked',
    'Events parked after their handler kept failing',
    (p) => p.parked,
  );
  return {
    registry,
    httpDuration,
    commands,
    appends,
    conflicts,
    retries,
    storeErrors,
    appendFailures,
    appendsFailing,
    adminAuthFailures,
    redisErrors,
    projectionFailures,
    setProjectionSource: (s: ProjectionMetricsSource) => {
      source = s;
    },
    /** Open live queries (server-sent event streams), read at scrape time. */
    setLiveSource: (open: () => number) => {
      liveStreams = open;
    },
  };
};

export type Metrics = ReturnType<typeof createMetrics>;

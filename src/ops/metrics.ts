import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ProjectionMetricsSource {
  /** Current figures per projection, read at scrape time. */
  projections(): Promise<
    Array<{
      name: string;
      checkpoint: bigint;
      lagEvents: bigint;
      lagMs: number;
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
  const httpDuration = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const commands = new Counter({
    name: 'sluice_commands_total',
    help: 'Commands by type and outcome (ok, or the problem type)',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const appends = new Counter({
    name: 'sluice_appends_total',
    help: 'Successful appends',
    registers: [registry],
  });
  const conflicts = new Counter({
    name: 'sluice_append_conflicts_total',
    help: 'Appends refused because the stream moved on',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'sluice_command_retries_total',
    help: 'Commands retried after a conflict',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'sluice_eventstore_errors_total',
    help: 'Event store calls that failed (unavailable)',
    registers: [registry],
  });
  const redisErrors = new Counter({
    name: 'sluice_redis_errors_total',
    help: 'Redis connection errors',
    registers: [registry],
  });
  const projectionFailures = new Counter({
    name: 'sluice_projection_failures_total',
    help: 'Failures of a projection (runner or apply) by cause: oom, noauth, readonly, unavailable, guard, lost-state…',
    labelNames: ['projection', 'cause'] as const,
    registers: [registry],
  });
  let source: ProjectionMetricsSource | undefined;
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
    redisErrors,
    projectionFailures,
    setProjectionSource: (s: ProjectionMetricsSource) => {
      source = s;
    },
  };
};

export type Metrics = ReturnType<typeof createMetrics>;

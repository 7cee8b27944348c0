// The two kinds of HTTP targets (the real service as a child process, and the bare Hono baseline) and the
// table that compares them.
import { readCheckpoint, readModelKeys } from '../../src/readmodel';
import { openRedis } from '../../src/redis';
import { type BenchArgs, profilingFor, reportProfile, tempStore } from './bench';
import { describeStatuses, type LoadResult } from './http-load';
import { processMemory } from './machine';
import { startBaseline, startService } from './processes';
import { BENCH_REDIS_URL, benchPrefix, cleanUpPrefix } from './redis';
import { fmtInt, fmtMiB, fmtMs, fmtRatio, note, say, table } from './report';

export interface TargetRun {
  label: string;
  result: LoadResult;
  /** Peak RSS (VmHWM) of the server process. */
  peakRss?: number;
  /** order-view's checkpoint when the load stopped (the service's projector kept up, or not). */
  projected?: string;
}

type Load = (url: string) => Promise<LoadResult>;

const orderViewCheckpoint = async (prefix: string): Promise<string> => {
  const redis = openRedis({ kind: 'single', url: BENCH_REDIS_URL });
  try {
    await redis.connect(5000);
    return String((await readCheckpoint(redis, readModelKeys(prefix), 'order-view', 1)).position);
  } finally {
    await redis.close();
  }
};

/** Starts the compiled service (dist/main.js; own temp SQLite file, own REDIS_PREFIX), loads it, stops it, cleans up. */
export const loadService = async (
  args: BenchArgs,
  bench: string,
  role: 'all' | 'api',
  load: Load,
): Promise<TargetRun> => {
  const prefix = benchPrefix(bench);
  const store = tempStore();
  const profiling = profilingFor(args, `${bench}-service-${role}`);
  const env = {
    EVENTSTORE_URL: store.url,
    REDIS_URL: BENCH_REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: args.logLevel,
    ROLE: role,
  };
  const service = await startService(env, profiling.nodeArgs);
  const label =
    role === 'all'
      ? 'ours (dist/main.js, ROLE=all: API + 4 projectors, SQLite + Redis)'
      : 'ours (dist/main.js, ROLE=api: no projectors in the process)';
  try {
    note(`${bench}: loading the service (ROLE=${role}) at ${service.url}`);
    const result = await load(service.url);
    const peakRss = processMemory(service.process.pid)?.peak;
    const projected = role === 'all' ? await orderViewCheckpoint(prefix) : undefined;
    return { label, result, ...(peakRss ? { peakRss } : {}), ...(projected ? { projected } : {}) };
  } finally {
    await service.process.stop();
    await cleanUpPrefix(prefix);
    store.remove();
    reportProfile(profiling.dir, `the service (ROLE=${role}) under ${bench}`);
  }
};

/** Starts a baseline server of bench/baseline/, loads it, stops it. */
export const loadBaseline = async (
  bench: string,
  baseline: { label: string; script: string; env?: Record<string, string> },
  load: Load,
): Promise<TargetRun> => {
  const server = await startBaseline(baseline.script, baseline.env);
  try {
    note(`${bench}: loading ${baseline.label} at ${server.url}`);
    const result = await load(server.url);
    const peakRss = processMemory(server.process.pid)?.peak;
    return { label: baseline.label, result, ...(peakRss ? { peakRss } : {}) };
  } finally {
    await server.process.stop();
  }
};

export const loadBareHono = (bench: string, load: Load): Promise<TargetRun> =>
  loadBaseline(
    bench,
    { label: 'baseline (bare Hono, JSON.parse only)', script: 'bench/baseline/bare-hono.ts' },
    load,
  );

/** POST /orders' floor: Hono + a better-sqlite3 append (WAL, synchronous=FULL, group commit per tick). */
export const loadMinimalAppend = (bench: string, load: Load): Promise<TargetRun> => {
  const store = tempStore();
  return loadBaseline(
    bench,
    {
      label: 'minimal (Hono + better-sqlite3 append, WAL, FULL, group commit)',
      script: 'bench/baseline/minimal-append.ts',
      env: { SQLITE_FILE: store.path },
    },
    load,
  ).finally(() => store.remove());
};

const row = ({ label, result: r, peakRss }: TargetRun): Record<string, string> => ({
  target: label,
  'req/s': fmtInt(r.requestsPerSec),
  p50: fmtMs(r.p50),
  p99: fmtMs(r.p99),
  '2xx': fmtInt(r.ok),
  'non-2xx': r.non2xx ? `${fmtInt(r.non2xx)} (${describeStatuses(r.statusCounts)})` : '0',
  errors: fmtInt(r.errors),
  'server peak RSS': peakRss === undefined ? '' : fmtMiB(peakRss),
});

const shortLabel = (label: string): string =>
  label.replace(/ \((?:src\/main\.ts|dist\/main\.js), (ROLE=\w+).*$/, ' $1').replace(/ \(.*$/, '');

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * One target's rounds as one run: its rate over every round (all requests / all seconds), the median p50 and
 * p99 of the rounds, the highest peak RSS, and the order-view checkpoint of each round's end.
 */
export const overRounds = (rounds: TargetRun[]): TargetRun => {
  const results = rounds.map((r) => r.result);
  const sum = (pick: (r: LoadResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  const statusCounts: Record<string, number> = {};
  for (const r of results)
    for (const [status, n] of Object.entries(r.statusCounts))
      statusCounts[status] = (statusCounts[status] ?? 0) + n;
  const peaks = rounds.flatMap((r) => (r.peakRss === undefined ? [] : [r.peakRss]));
  const projected = rounds.flatMap((r) => (r.projected === undefined ? [] : [r.projected]));
  return {
    label: rounds[0]!.label,
    result: {
      requestsPerSec: sum((r) => r.completed) / sum((r) => r.durationS),
      p50: median(results.map((r) => r.p50)),
      p99: median(results.map((r) => r.p99)),
      completed: sum((r) => r.completed),
      ok: sum((r) => r.ok),
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      durationS: sum((r) => r.durationS),
      statusCounts,
    },
    ...(peaks.length > 0 ? { peakRss: Math.max(...peaks) } : {}),
    ...(projected.length > 0 ? { projected: projected.join(', ') } : {}),
  };
};

/** Each round of each target (rows of `targets[i]` are its rounds in order), for a look at the spread. */
export const printRounds = (targets: TargetRun[][]): void => {
  say('\neach round (req/s; the rows above are over every round, p50/p99 the median round):');
  say(
    table(
      targets.map((rounds) => ({
        target: shortLabel(rounds[0]!.label),
        ...Object.fromEntries(rounds.map((r, i) => [`round ${i + 1}`, fmtInt(r.result.requestsPerSec)])),
      })),
    ),
  );
};

/** One table: every target, then the ratio of each of ours to each baseline (req/s, and p50/p99 inverted). */
export const printComparison = (ours: TargetRun[], baselines: TargetRun | TargetRun[]): void => {
  const floors = Array.isArray(baselines) ? baselines : [baselines];
  say(
    table([
      ...ours.map(row),
      ...floors.map(row),
      ...floors.flatMap((baseline) =>
        ours.map((o) => ({
          target: `ratio ${shortLabel(o.label)} / ${shortLabel(baseline.label)}`,
          'req/s': fmtRatio(o.result.requestsPerSec, baseline.result.requestsPerSec),
        })),
      ),
    ]),
  );
  const projected = ours.find((o) => o.projected !== undefined)?.projected;
  if (projected !== undefined) {
    say(
      `(order-view checkpoint of the ROLE=all service when its load stopped, warm-up included: ${projected})`,
    );
  }
};

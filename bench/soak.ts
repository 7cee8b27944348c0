// Issue 5.7: a soak run (not in the default set, not in CI): mixed reads and writes at a fixed rate for N
// minutes against the real service, reporting errors, latency and the server's RSS over time.

import { type Bench, profilingFor, reportProfile, tempStore } from './support/bench';
import { processMemory } from './support/machine';
import { orderBody } from './support/order-body';
import { startService } from './support/processes';
import { benchPrefix, cleanUpPrefix, serviceEnv } from './support/redis';
import {
  elapsedMs,
  fmtInt,
  fmtMiB,
  fmtMs,
  fmtPct,
  note,
  now,
  percentile,
  say,
  sleep,
  table,
} from './support/report';
import { pickOperation, type SoakOrder } from './support/soak-operations';

const MAX_IN_FLIGHT = 256;
const SAMPLE_EVERY_MS = 10_000;
/** The first seconds run cold (JIT, tsx transpiling, connections): reported apart from the steady state. */
const WARMUP_MS = 10_000;

interface MemorySample {
  at: number;
  rss: number;
  heapUsed?: number;
  heapTotal?: number;
  external?: number;
}

/** The service's own view of its heap, from the default metrics on GET /metrics (undefined if absent). */
const heapOf = async (base: string): Promise<Omit<MemorySample, 'at' | 'rss'>> => {
  try {
    const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const metric = (name: string) => {
      const value = Number(new RegExp(`^${name} ([\\d.e+]+)`, 'm').exec(text)?.[1]);
      return Number.isFinite(value) ? value : undefined;
    };
    const heapUsed = metric('nodejs_heap_size_used_bytes');
    const heapTotal = metric('nodejs_heap_size_total_bytes');
    const external = metric('nodejs_external_memory_bytes');
    return {
      ...(heapUsed === undefined ? {} : { heapUsed }),
      ...(heapTotal === undefined ? {} : { heapTotal }),
      ...(external === undefined ? {} : { external }),
    };
  } catch {
    return {};
  }
};

interface Outcome {
  kind: 'read' | 'write';
  name: string;
  ms: number;
  status: number; // 0 = the request failed (connection error, timeout)
  /** When it was sent, ms since the soak began. */
  at: number;
}

export const soakBench: Bench = {
  name: 'soak',
  summary: 'fixed-rate mixed reads and writes for --minutes N (default 3) at --rate N req/s (default 200)',
  inDefault: false,
  run: async (args) => {
    const minutes = args.minutes ?? 3;
    const rate = args.rate ?? 200;
    const prefix = benchPrefix('soak');
    const store = tempStore();
    const profiling = profilingFor(args, 'soak-service');
    const service = await startService(serviceEnv(store.url, prefix, args.logLevel), profiling.nodeArgs);
    const outcomes: Outcome[] = [];
    const rss: MemorySample[] = [];
    const orders: SoakOrder[] = [];
    let inFlight = 0;
    let skipped = 0;
    let sent = 0;
    let soakStarted = Date.now();
    try {
      const base = service.url;
      const sample = async (at: number) => {
        const memory = processMemory(service.process.pid);
        if (memory) rss.push({ at, rss: memory.rss, ...(await heapOf(base)) });
      };
      const send = async () => {
        const operation = pickOperation(orders, Math.random, (n) => orderBody(n));
        const at = Date.now() - soakStarted;
        const started = now();
        let status = 0;
        try {
          const response = await fetch(base + operation.path, {
            ...operation.init,
            signal: AbortSignal.timeout(10_000),
          });
          status = response.status;
          const body = await response.text();
          if (status < 300) operation.onSuccess?.(body);
        } catch {
          status = 0;
        } finally {
          operation.onSettled?.();
        }
        outcomes.push({ kind: operation.kind, name: operation.name, ms: elapsedMs(started), status, at });
      };
      say(
        `rate ${rate} req/s for ${minutes} min (open loop: requests are sent on schedule, at most ` +
          `${MAX_IN_FLIGHT} in flight); ~40 % writes (place, add item, confirm, ship, cancel, address), ~60 % reads ` +
          `(order, order ?minVersion, customer orders, orders list, daily revenue)`,
      );
      const started = Date.now();
      soakStarted = started;
      const endAt = started + minutes * 60_000;
      await sample(0);
      let nextSample = started + SAMPLE_EVERY_MS;
      while (Date.now() < endAt) {
        const due = Math.floor(((Date.now() - started) * rate) / 1000) - sent;
        for (let i = 0; i < due; i++) {
          sent += 1;
          if (inFlight >= MAX_IN_FLIGHT) {
            skipped += 1; // the service fell behind the schedule: counted, not queued without bound
            continue;
          }
          inFlight += 1;
          void send().finally(() => {
            inFlight -= 1;
          });
        }
        if (Date.now() >= nextSample) {
          await sample(Date.now() - started);
          nextSample += SAMPLE_EVERY_MS;
          note(`soak: ${Math.round((Date.now() - started) / 1000)} s, ${fmtInt(outcomes.length)} answered`);
        }
        await sleep(5);
      }
      const drainUntil = Date.now() + 15_000;
      while (inFlight > 0 && Date.now() < drainUntil) await sleep(10);
      await sample(Date.now() - started);
      report(outcomes, rss, { sent, skipped, left: inFlight, seconds: (Date.now() - started) / 1000 });
    } finally {
      await service.process.stop();
      await cleanUpPrefix(prefix);
      store.remove();
    }
    reportProfile(profiling.dir, 'the service under soak');
  },
};

const report = (
  answered: Outcome[],
  rss: MemorySample[],
  counts: { sent: number; skipped: number; left: number; seconds: number },
) => {
  const row = (label: string, list: Outcome[]) => {
    const byStatus = new Map<number, number>();
    for (const o of list) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const errors = list.filter((o) => o.status === 0 || o.status >= 500).length;
    return {
      requests: label,
      n: fmtInt(list.length),
      p50: fmtMs(
        percentile(
          list.map((o) => o.ms),
          50,
        ),
      ),
      p99: fmtMs(
        percentile(
          list.map((o) => o.ms),
          99,
        ),
      ),
      max: fmtMs(Math.max(...list.map((o) => o.ms))),
      'errors (failed or 5xx)': `${fmtInt(errors)} (${fmtPct(errors, list.length)})`,
      statuses: [...byStatus]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s === 0 ? 'failed' : s}×${fmtInt(n)}`)
        .join(' '),
    };
  };
  const all = answered;
  const warmup = all.filter((o) => o.at < WARMUP_MS);
  const outcomes = all.filter((o) => o.at >= WARMUP_MS);
  const names = [...new Set(outcomes.map((o) => o.name))].sort();
  say(`steady state (requests sent after the first ${WARMUP_MS / 1000} s):`);
  say(
    table([
      row('all', outcomes),
      row(
        'reads',
        outcomes.filter((o) => o.kind === 'read'),
      ),
      row(
        'writes',
        outcomes.filter((o) => o.kind === 'write'),
      ),
      ...names.map((name) =>
        row(
          `  ${name}`,
          outcomes.filter((o) => o.name === name),
        ),
      ),
      row(`warm-up (first ${WARMUP_MS / 1000} s)`, warmup),
    ]),
  );
  say(
    `scheduled ${fmtInt(counts.sent)}, answered ${fmtInt(all.length)} in ${counts.seconds.toFixed(0)} s ` +
      `(${fmtInt(all.length / counts.seconds)} req/s), skipped because ${MAX_IN_FLIGHT} were in flight: ` +
      `${fmtInt(counts.skipped)}, still in flight at the end: ${counts.left}`,
  );
  say(`requests that took over 1 s, by the second they were sent: ${slowWindows(all)}`);
  say(
    '\nserver memory: VmRSS of the service process, and V8 heap from its own GET /metrics (prom-client defaults):',
  );
  const every = Math.max(1, Math.ceil(rss.length / 12));
  const shown = rss.filter((_, i) => i % every === 0 || i === rss.length - 1);
  say(
    table(
      shown.map((s) => ({
        't (s)': (s.at / 1000).toFixed(0),
        RSS: fmtMiB(s.rss),
        'heap used': fmtMiB(s.heapUsed ?? NaN),
        'heap total': fmtMiB(s.heapTotal ?? NaN),
        external: fmtMiB(s.external ?? NaN),
      })),
    ),
  );
  const first = rss[0]?.rss ?? NaN;
  const last = rss.at(-1)?.rss ?? NaN;
  say(`RSS start ${fmtMiB(first)}, end ${fmtMiB(last)}, max ${fmtMiB(Math.max(...rss.map((s) => s.rss)))}`);
};

/** The slowest stretches: one-second windows whose worst request took over a second, to tell a stall from a tail. */
export const slowWindows = (outcomes: Outcome[]): string => {
  const windows = new Map<number, { worst: number; n: number }>();
  for (const o of outcomes) {
    if (o.ms < 1000) continue;
    const second = Math.floor(o.at / 1000);
    const w = windows.get(second) ?? { worst: 0, n: 0 };
    windows.set(second, { worst: Math.max(w.worst, o.ms), n: w.n + 1 });
  }
  if (windows.size === 0) return 'no request took over 1 s';
  return [...windows]
    .sort(([a], [b]) => a - b)
    .map(([second, w]) => `t=${second}s: ${w.n} over 1 s (worst ${fmtMs(w.worst)})`)
    .join('; ');
};

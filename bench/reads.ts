// GET /orders/{id}, what the service is used for: ours against the minimal code doing the same work (Hono +
// one node-redis HGETALL of the same hash, bench/baseline/minimal-read.ts), on the same Redis and the same
// prefilled views. Also a ?minVersion read of a view that is already fresh (it must cost about a plain GET),
// and the latency of one connection (p50, p99) for both.
import { readModelKeys } from '../src/readmodel';
import { type Bench, profilingFor, reportProfile, tempStore } from './support/bench';
import { runAutocannon, sequentialLatency } from './support/http-load';
import { orderBody } from './support/order-body';
import { startBaseline, startService } from './support/processes';
import { BENCH_REDIS_URL, benchPrefix, cleanUpPrefix } from './support/redis';
import { fmtInt, fmtMs, fmtRatio, note, say, table } from './support/report';
import type { TargetRun } from './support/targets';

const ORDERS = 500;
const WARMUP_S = 3;

/** Places `ORDERS` orders and waits until the last one is readable: every view is in Redis. */
const prefill = async (url: string): Promise<string[]> => {
  const ids: string[] = [];
  const place = async (n: number) => {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: orderBody(n),
    });
    if (res.status !== 201) throw new Error(`prefill: POST /orders answered ${res.status}`);
    ids.push(((await res.json()) as { orderId: string }).orderId);
  };
  for (let n = 0; n < ORDERS; n += 25) await Promise.all(Array.from({ length: 25 }, (_, i) => place(n + i)));
  for (const id of ids.slice(-25)) {
    const res = await fetch(`${url}/orders/${id}?minVersion=0`);
    if (res.headers.get('x-consistency') !== 'fresh') throw new Error('prefill: the views did not catch up');
    await res.arrayBuffer();
  }
  return ids;
};

const readOrders = (url: string, ids: string[], connections: number, duration: number, query = '') => {
  let next = 0;
  return runAutocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: `/orders/${ids[next++ % ids.length]}${query}` }),
      },
    ],
  });
};

const row = ({ label, result: r }: TargetRun) => ({
  target: label,
  'req/s': fmtInt(r.requestsPerSec),
  p50: fmtMs(r.p50),
  p99: fmtMs(r.p99),
  '2xx': fmtInt(r.ok),
  'non-2xx': fmtInt(r.non2xx),
  errors: fmtInt(r.errors),
});

/**
 * Rounds of the three loads, taken in turn, so a noisy stretch of the shared machine hits all of them: many
 * short rounds spread it more evenly than a few long ones.
 */
const ROUNDS = 6;
const ROUND_S = 5;
const LATENCY_S = 5;

export const readsBench: Bench = {
  name: 'reads',
  summary: 'GET /orders/{id} per second and latency, service vs Hono + HGETALL (the minimal read)',
  inDefault: true,
  run: async (args) => {
    const connections = args.connections ?? 32;
    const duration = args.duration ?? ROUND_S;
    const rounds = args.rounds ?? ROUNDS;
    say(
      `${ORDERS} orders placed, then GET /orders/{id} over them round-robin; autocannon, ${WARMUP_S} s warm-up, then ` +
        `${rounds} rounds of ${duration} s per load, the loads in turn; ${connections} connections. Then one connection, ` +
        `one request at a time, ${LATENCY_S} s each, timed with the high-resolution clock. Service ROLE=api, ` +
        `LOG_LEVEL=${args.logLevel}, reading the views a ROLE=all service projected into the same Redis.`,
    );
    const prefix = benchPrefix('reads');
    const store = tempStore();
    const env = {
      EVENTSTORE_URL: store.url,
      REDIS_URL: BENCH_REDIS_URL,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: args.logLevel,
    };
    const writer = await startService({ ...env, ROLE: 'all' });
    const runs: TargetRun[] = [];
    const latencies: Array<{ label: string; p50: number; p99: number; requests: number }> = [];
    try {
      const ids = await prefill(writer.url);
      await writer.process.stop();
      const profiling = profilingFor(args, 'reads-service');
      const ours = await startService({ ...env, ROLE: 'api' }, profiling.nodeArgs);
      const viewKeyPrefix = readModelKeys(prefix).generation('order-view', 1).key('order:');
      const minimal = await startBaseline('bench/baseline/minimal-read.ts', {
        REDIS_URL: BENCH_REDIS_URL,
        VIEW_KEY_PREFIX: viewKeyPrefix,
      });
      const loads = [
        { label: 'ours GET', url: ours.url, query: '' },
        { label: 'ours GET ?minVersion=0 (fresh)', url: ours.url, query: '?minVersion=0' },
        { label: 'minimal GET', url: minimal.url, query: '' },
      ];
      try {
        note(`reads: the service at ${ours.url}, the minimal read at ${minimal.url}`);
        for (const load of loads) await readOrders(load.url, ids, connections, WARMUP_S, load.query);
        for (let round = 1; round <= rounds; round++) {
          for (const load of loads) {
            const result = await readOrders(load.url, ids, connections, duration, load.query);
            runs.push({ label: `${load.label} (round ${round})`, result });
          }
        }
        for (const load of loads) {
          let next = 0;
          const nextPath = () => `/orders/${ids[next++ % ids.length]}${load.query}`;
          latencies.push({ label: load.label, ...(await sequentialLatency(load.url, nextPath, LATENCY_S)) });
        }
      } finally {
        await Promise.all([ours.process.stop(), minimal.process.stop()]);
        reportProfile(profiling.dir, 'the service (ROLE=api) under reads');
      }
    } finally {
      await writer.process.stop();
      await cleanUpPrefix(prefix);
      store.remove();
    }
    /** Requests per second over every round of a load. */
    const rate = (label: string) => {
      const mine = runs.filter((r) => r.label.startsWith(`${label} (round`)).map((r) => r.result);
      return mine.reduce((n, r) => n + r.completed, 0) / mine.reduce((s, r) => s + r.durationS, 0);
    };
    const latency = (label: string) => latencies.find((l) => l.label === label)!;
    say(
      table([
        {
          target: 'ratio ours GET / minimal GET (goal ≥ 70 %)',
          'req/s': fmtRatio(rate('ours GET'), rate('minimal GET')),
        },
        {
          target: 'ratio ours ?minVersion (fresh) / ours GET (goal ≥ 90 %)',
          'req/s': fmtRatio(rate('ours GET ?minVersion=0 (fresh)'), rate('ours GET')),
        },
        ...runs.map(row),
      ]),
    );
    say(
      table(
        latencies.map((l) => ({
          '1 connection, one request at a time': l.label,
          requests: fmtInt(l.requests),
          p50: fmtMs(l.p50),
          p99: fmtMs(l.p99),
        })),
      ),
    );
    say(
      `1 connection: ours GET p50 ${fmtRatio(latency('ours GET').p50, latency('minimal GET').p50)} of minimal's, ` +
        `p99 ${fmtRatio(latency('ours GET').p99, latency('minimal GET').p99)}`,
    );
  },
};

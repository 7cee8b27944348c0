// GET /orders/{id}, what the service is used for: ours against the minimal code doing the same work (Hono +
// one node-redis HGETALL of the same hash, bench/baseline/minimal-read.ts), on the same Redis and the same
// prefilled views. Also a ?minVersion read of a view that is already fresh (it must cost about a plain GET),
// and the latency of one connection (p50, p99) for both.
import { readModelKeys } from '../src/readmodel';
import { type Bench, profilingFor, reportProfile, tempStore } from './support/bench';
import { type LoadResult, runAutocannon } from './support/http-load';
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

/** Warm-up, then the measured run. */
const measure = async (
  url: string,
  ids: string[],
  connections: number,
  duration: number,
  query = '',
): Promise<LoadResult> => {
  await readOrders(url, ids, connections, WARMUP_S, query);
  return readOrders(url, ids, connections, duration, query);
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

export const readsBench: Bench = {
  name: 'reads',
  summary: 'GET /orders/{id} per second and latency, service vs Hono + HGETALL (the minimal read)',
  inDefault: true,
  run: async (args) => {
    const connections = args.connections ?? 32;
    const duration = args.duration ?? 10;
    say(
      `${ORDERS} orders placed, then GET /orders/{id} over them round-robin; autocannon, ${WARMUP_S} s warm-up +`,
    );
    say(
      `${duration} s measured; ${connections} connections, then 1 connection for latency. Service ROLE=api,`,
    );
    say(`LOG_LEVEL=${args.logLevel}, reading the views a ROLE=all service projected into the same Redis.`);
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
    try {
      const ids = await prefill(writer.url);
      await writer.process.stop();
      const profiling = profilingFor(args, 'reads-service');
      const ours = await startService({ ...env, ROLE: 'api' }, profiling.nodeArgs);
      try {
        note(`reads: loading the service at ${ours.url}`);
        runs.push({ label: 'ours GET', result: await measure(ours.url, ids, connections, duration) });
        runs.push({
          label: 'ours GET ?minVersion=0 (fresh)',
          result: await measure(ours.url, ids, connections, duration, '?minVersion=0'),
        });
        runs.push({ label: 'ours GET, 1 connection', result: await measure(ours.url, ids, 1, duration) });
      } finally {
        await ours.process.stop();
        reportProfile(profiling.dir, 'the service (ROLE=api) under reads');
      }
      const viewKeyPrefix = readModelKeys(prefix).generation('order-view', 1).key('order:');
      const minimal = await startBaseline('bench/baseline/minimal-read.ts', {
        REDIS_URL: BENCH_REDIS_URL,
        VIEW_KEY_PREFIX: viewKeyPrefix,
      });
      try {
        note(`reads: loading the minimal read at ${minimal.url}`);
        runs.push({ label: 'minimal GET', result: await measure(minimal.url, ids, connections, duration) });
        runs.push({
          label: 'minimal GET, 1 connection',
          result: await measure(minimal.url, ids, 1, duration),
        });
      } finally {
        await minimal.process.stop();
      }
    } finally {
      await writer.process.stop();
      await cleanUpPrefix(prefix);
      store.remove();
    }
    const get = (label: string) => runs.find((r) => r.label === label)!.result;
    say(
      table([
        ...runs.map(row),
        {
          target: 'ratio ours GET / minimal GET',
          'req/s': fmtRatio(get('ours GET').requestsPerSec, get('minimal GET').requestsPerSec),
        },
        {
          target: 'ratio ours ?minVersion (fresh) / ours GET',
          'req/s': fmtRatio(
            get('ours GET ?minVersion=0 (fresh)').requestsPerSec,
            get('ours GET').requestsPerSec,
          ),
        },
        {
          target: 'ratio 1 connection: minimal p50 / ours p50',
          p50: fmtRatio(get('minimal GET, 1 connection').p50, get('ours GET, 1 connection').p50),
        },
      ]),
    );
  },
};

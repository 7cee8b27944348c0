// Issue 2.8: commands per second of POST /orders over real HTTP, the real service vs a bare Hono handler.
import type { Bench, BenchArgs } from './support/bench';
import { type LoadResult, runAutocannon } from './support/http-load';
import { orderBody } from './support/order-body';
import { say } from './support/report';
import { loadBareHono, loadMinimalAppend, loadService, printComparison } from './support/targets';

const WARMUP_S = 3;

let customers = 0;
const placeOrders = (url: string, connections: number, duration: number) =>
  runAutocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/orders',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: orderBody(customers++) }),
      },
    ],
  });

/** Warm-up (JIT, connections) and then the measured run against one target. */
const load = async (url: string, args: BenchArgs): Promise<LoadResult> => {
  const connections = args.connections ?? 50;
  await placeOrders(url, connections, WARMUP_S);
  return placeOrders(url, connections, args.duration ?? 10);
};

export const commandsBench: Bench = {
  name: 'commands',
  summary:
    'POST /orders per second over HTTP (autocannon), service vs the minimal SQLite append and bare Hono',
  inDefault: true,
  run: async (args) => {
    const connections = args.connections ?? 50;
    const duration = args.duration ?? 10;
    say(`autocannon, ${connections} connections, ${WARMUP_S} s warm-up + ${duration} s measured per target;`);
    say(
      `service: LOG_LEVEL=${args.logLevel}, own temp SQLite file, own REDIS_PREFIX; unique customerId per request`,
    );
    const run = (url: string) => load(url, args);
    const ours = [
      await loadService(args, 'commands', 'all', run),
      await loadService(args, 'commands', 'api', run),
    ];
    printComparison(ours, [await loadMinimalAppend('commands', run), await loadBareHono('commands', run)]);
  },
};

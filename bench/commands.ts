// Issue 2.8: commands per second of POST /orders over real HTTP, the real service vs a bare Hono handler.
import type { Bench } from './support/bench';
import { type LoadResult, runAutocannon } from './support/http-load';
import { orderBody } from './support/order-body';
import { say } from './support/report';
import {
  loadBareHono,
  loadMinimalAppend,
  loadService,
  overRounds,
  printComparison,
  printRounds,
  type TargetRun,
} from './support/targets';

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
const load = async (url: string, connections: number, duration: number): Promise<LoadResult> => {
  await placeOrders(url, connections, WARMUP_S);
  return placeOrders(url, connections, duration);
};

/**
 * Rounds of the four targets, taken in turn (each a fresh server on a fresh store), so a noisy stretch of the
 * shared machine hits all of them; the ratios are of the rates over every round.
 */
const ROUNDS = 3;
const ROUND_S = 10;

export const commandsBench: Bench = {
  name: 'commands',
  summary:
    'POST /orders per second over HTTP (autocannon), service vs the minimal SQLite append and bare Hono',
  inDefault: true,
  run: async (args) => {
    const connections = args.connections ?? 50;
    const duration = args.duration ?? ROUND_S;
    const rounds = args.rounds ?? ROUNDS;
    say(
      `autocannon, ${connections} connections; ${rounds} rounds of the four targets in turn, each a fresh server ` +
        `and store: ${WARMUP_S} s warm-up + ${duration} s measured;`,
    );
    say(
      `service: LOG_LEVEL=${args.logLevel}, own temp SQLite file, own REDIS_PREFIX; unique customerId per request`,
    );
    const run = (url: string) => load(url, connections, duration);
    const ours: TargetRun[][] = [[], []];
    const floors: TargetRun[][] = [[], []];
    for (let round = 1; round <= rounds; round++) {
      ours[0]!.push(await loadService(args, 'commands', 'all', run));
      ours[1]!.push(await loadService(args, 'commands', 'api', run));
      floors[0]!.push(await loadMinimalAppend('commands', run));
      floors[1]!.push(await loadBareHono('commands', run));
    }
    printComparison(ours.map(overRounds), floors.map(overRounds));
    printRounds([...ours, ...floors]);
  },
};

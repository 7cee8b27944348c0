// Issue 3: a mixed command workload over HTTP. Every autocannon connection walks orders through their life
// (place → add item ×2 → confirm → ship, one order in ten cancelled instead of shipped), so each command
// finds its order in the state it needs; same bare Hono baseline.
import type autocannon from 'autocannon';
import type { Bench, BenchArgs } from './support/bench';
import { runAutocannon } from './support/http-load';
import { orderBody } from './support/order-body';
import { fmtInt, fmtPct, say, table } from './support/report';
import { loadBareHono, loadService, printComparison } from './support/targets';

const WARMUP_S = 3;
const JSON_HEADERS = { 'content-type': 'application/json' };

type Step = 'place' | 'add item' | 'confirm' | 'ship' | 'cancel';
type Tally = Record<string, Record<string, number>>;
interface Context {
  orderId?: string;
  n?: number;
}

/** One order's life as an autocannon request sequence; responses are tallied per step and status. */
const lifecycle = (tally: Tally): autocannon.Request[] => {
  let orders = 0;
  const count = (step: Step) => (status: number) => {
    tally[step] ??= {};
    tally[step][status] = (tally[step][status] ?? 0) + 1;
  };
  // A falsy request makes autocannon start the sequence again (the order was not placed).
  const onOrder = (step: Step, build: (orderId: string, ctx: Context) => Partial<autocannon.Request>) => ({
    setupRequest: (request: autocannon.Request, context: object) => {
      const ctx = context as Context;
      return (ctx.orderId ? { ...request, ...build(ctx.orderId, ctx) } : undefined) as autocannon.Request;
    },
    onResponse: (status: number) => count(step)(status),
  });
  const addItem = (sku: string) =>
    onOrder('add item', (orderId) => ({
      method: 'POST',
      path: `/orders/${orderId}/items`,
      headers: JSON_HEADERS,
      body: JSON.stringify({ sku, quantity: 1, unitPrice: 12.5 }),
    }));
  return [
    {
      method: 'POST',
      path: '/orders',
      headers: JSON_HEADERS,
      setupRequest: (request, context) => {
        const ctx = context as Context;
        ctx.n = orders++;
        ctx.orderId = undefined;
        return { ...request, body: orderBody(ctx.n) };
      },
      onResponse: (status, body, context) => {
        count('place')(status);
        if (status === 201) (context as Context).orderId = (JSON.parse(body) as { orderId: string }).orderId;
      },
    },
    addItem('SKU-ADDED-1'),
    addItem('SKU-ADDED-2'),
    onOrder('confirm', (orderId) => ({ method: 'POST', path: `/orders/${orderId}/confirm`, body: '' })),
    {
      ...onOrder('ship', (orderId, ctx) =>
        (ctx.n ?? 0) % 10 === 0
          ? {
              method: 'DELETE',
              path: `/orders/${orderId}`,
              headers: JSON_HEADERS,
              body: '{"reason":"bench"}',
            }
          : {
              method: 'POST',
              path: `/orders/${orderId}/ship`,
              headers: JSON_HEADERS,
              body: '{"trackingNumber":"1Z999"}',
            },
      ),
      onResponse: (status: number, _body: string, context: object) =>
        count((context as Context).n! % 10 === 0 ? 'cancel' : 'ship')(status),
    },
  ];
};

const mixedLoad = (args: BenchArgs, tally: Tally) => async (url: string) => {
  const connections = args.connections ?? 50;
  await runAutocannon({ url, connections, duration: WARMUP_S, requests: lifecycle({}) });
  return runAutocannon({ url, connections, duration: args.duration ?? 10, requests: lifecycle(tally) });
};

const mixTable = (ours: Tally, baseline: Tally): string => {
  const steps = Object.keys(ours);
  const total = (t: Tally) =>
    Object.values(t).reduce((sum, statuses) => sum + Object.values(statuses).reduce((a, b) => a + b, 0), 0);
  const describe = (statuses: Record<string, number> = {}) =>
    Object.entries(statuses)
      .map(([status, count]) => `${status}×${fmtInt(count)}`)
      .join(' ');
  return table(
    steps.map((step) => {
      const n = Object.values(ours[step] ?? {}).reduce((a, b) => a + b, 0);
      return {
        command: step,
        'ours: share': fmtPct(n, total(ours)),
        'ours: statuses': describe(ours[step]),
        'baseline: statuses': describe(baseline[step]),
      };
    }),
  );
};

export const mixedBench: Bench = {
  name: 'mixed',
  summary: 'mixed command workload (place, add item, confirm, ship/cancel) over HTTP, service vs bare Hono',
  inDefault: true,
  run: async (args) => {
    const connections = args.connections ?? 50;
    say(
      `autocannon, ${connections} connections, ${WARMUP_S} s warm-up + ${args.duration ?? 10} s measured per target; ` +
        'each connection: place → add item → add item → confirm → ship (every 10th order: cancel)',
    );
    const oursTally: Tally = {};
    const baselineTally: Tally = {};
    const ours = await loadService(args, 'mixed', 'all', mixedLoad(args, oursTally));
    printComparison([ours], await loadBareHono('mixed', mixedLoad(args, baselineTally)));
    say('\nmix of the measured run (responses per command and status):');
    say(mixTable(oursTally, baselineTally));
  },
};

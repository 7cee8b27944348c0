// Issue 15.1: live queries. 1,000 server-sent event streams open on one service process (10 per order):
// its memory per stream, and the time from a command's 2xx to its message on every stream that watches
// that order. Goal: p99 under 20 ms with the 1,000 streams open.
import { Agent, type IncomingMessage, request } from 'node:http';
import { type Bench, profilingFor, reportProfile, tempStore } from './support/bench';
import { processMemory } from './support/machine';
import { orderBody } from './support/order-body';
import { startService } from './support/processes';
import { benchPrefix, cleanUpPrefix, serviceEnv } from './support/redis';
import { fmtInt, fmtMs, percentile, say, sleep, table } from './support/report';

const ORDERS = 100;
const STREAMS = 1000;
const COMMANDS = 300;
/** Between commands, so each is timed on its own rather than queued behind the previous one. */
const PAUSE_MS = 10;

interface Watcher {
  orderId: string;
  /** When each version's message arrived (performance.now()). */
  arrivals: Map<number, number>;
  response: IncomingMessage;
}

const heapUsed = async (base: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? Number.NaN);
};

const openStream = (base: string, orderId: string, agent: Agent): Promise<Watcher> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request(
      { hostname, port, path: `/orders/${orderId}`, agent, headers: { accept: 'text/event-stream' } },
      (response) => {
        if (response.statusCode !== 200) return reject(new Error(`live GET answered ${response.statusCode}`));
        const watcher: Watcher = { orderId, arrivals: new Map(), response };
        let buffer = '';
        let opened = false;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          const at = performance.now();
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const id = /^id: (\d+)$/m.exec(buffer.slice(0, end))?.[1];
            buffer = buffer.slice(end + 2);
            if (id !== undefined) watcher.arrivals.set(Number(id), at);
            if (!opened && id !== undefined) {
              opened = true;
              resolve(watcher);
            }
          }
        });
        response.on('error', () => {});
      },
    );
    req.on('error', reject);
    req.end();
  });

const place = async (base: string, n: number): Promise<string> => {
  const res = await fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: orderBody(n),
  });
  if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}`);
  return ((await res.json()) as { orderId: string }).orderId;
};

export const liveBench: Bench = {
  name: 'live',
  summary:
    '1,000 live queries (server-sent events) on one process: memory per stream, command-to-message latency',
  inDefault: true,
  run: async (args) => {
    const prefix = benchPrefix('live');
    const store = tempStore();
    const profiling = profilingFor(args, 'live-service');
    const service = await startService(serviceEnv(store.url, prefix, args.logLevel), profiling.nodeArgs);
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const watchers: Watcher[] = [];
    try {
      const base = service.url;
      const orders: string[] = [];
      for (let n = 0; n < ORDERS; n++) orders.push(await place(base, n));
      for (const id of orders) await (await fetch(`${base}/orders/${id}?minVersion=0`)).arrayBuffer();
      // Warm-up: a few streams and commands, so JIT and connections are not what is measured.
      const warm = await Promise.all(orders.slice(0, 10).map((id) => openStream(base, id, agent)));
      for (const [i, id] of orders.slice(0, 10).entries()) await addItem(base, id, i);
      await sleep(200);
      for (const w of warm) w.response.destroy();
      await sleep(500);

      const rssBefore = processMemory(service.process.pid)?.rss ?? Number.NaN;
      const heapBefore = await heapUsed(base);
      for (let i = 0; i < STREAMS; i += 100) {
        const batch = Array.from({ length: 100 }, (_, k) =>
          openStream(base, orders[(i + k) % ORDERS]!, agent),
        );
        watchers.push(...(await Promise.all(batch)));
      }
      await sleep(1000);
      const rssAfter = processMemory(service.process.pid)?.rss ?? Number.NaN;
      const heapAfter = await heapUsed(base);

      // Commands one after another; each is timed from its 2xx to its version's message on every stream of
      // its order (10 streams per order).
      const latencies: number[] = [];
      const sent: Array<{ orderId: string; version: number; at: number }> = [];
      for (let c = 0; c < COMMANDS; c++) {
        const orderId = orders[c % ORDERS]!;
        const { version, at } = await addItem(base, orderId, c);
        sent.push({ orderId, version, at });
        await sleep(PAUSE_MS);
      }
      await sleep(2000); // the last messages
      let missing = 0;
      const byOrder = new Map<string, Watcher[]>();
      for (const w of watchers) byOrder.set(w.orderId, [...(byOrder.get(w.orderId) ?? []), w]);
      for (const { orderId, version, at } of sent) {
        for (const w of byOrder.get(orderId) ?? []) {
          const arrived = w.arrivals.get(version);
          if (arrived === undefined) missing++;
          else latencies.push(arrived - at);
        }
      }
      say(
        `${fmtInt(STREAMS)} streams (GET /orders/{id}, Accept: text/event-stream) over ${ORDERS} orders, 10 per order, ` +
          `from one client process; then ${COMMANDS} add-item commands one after another (${PAUSE_MS} ms apart), each ` +
          'timed from its 2xx to its version on every stream of its order. Service ROLE=all (API + projectors), ' +
          `LOG_LEVEL=${args.logLevel}; goal: p99 < 20 ms.`,
      );
      say(
        table([
          {
            measure: 'command 2xx → message on each watching stream',
            n: fmtInt(latencies.length),
            p50: fmtMs(percentile(latencies, 50)),
            p99: fmtMs(percentile(latencies, 99)),
            max: fmtMs(Math.max(...latencies)),
            missing: fmtInt(missing),
          },
        ]),
      );
      say(
        `memory of the service for ${fmtInt(STREAMS)} open streams: VmRSS +${((rssAfter - rssBefore) / 1024 / 1024).toFixed(1)} MiB ` +
          `(${fmtInt((rssAfter - rssBefore) / STREAMS / 1024)} KiB per stream), heap used +${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB ` +
          `(${fmtInt((heapAfter - heapBefore) / STREAMS / 1024)} KiB per stream; no forced GC, so an upper bound)`,
      );
    } finally {
      for (const w of watchers) w.response.destroy();
      agent.destroy();
      await service.process.stop();
      await cleanUpPrefix(prefix);
      store.remove();
    }
    reportProfile(profiling.dir, 'the service under live');
  },
};

const addItem = async (
  base: string,
  orderId: string,
  n: number,
): Promise<{ version: number; at: number }> => {
  const res = await fetch(`${base}/orders/${orderId}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: `LIVE-${n}`, quantity: 1, unitPrice: 1 }),
  });
  const at = performance.now();
  if (res.status !== 200) throw new Error(`add item answered ${res.status}: ${await res.text()}`);
  const { version } = (await res.json()) as { version: number };
  return { version, at };
};

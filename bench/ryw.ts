// Issue 4.2: read-your-writes latency, from a command's 2xx to the moment its change is readable.
// Ours: one GET /orders/{id}?minVersion=<version> right after the 2xx (the service waits on the projector's
// notification). Baseline: the client polls GET /orders/{id} every 100 ms until the view shows the version.

import { type Bench, profilingFor, reportProfile, tempStore } from './support/bench';
import { orderBody } from './support/order-body';
import { startService } from './support/processes';
import { benchPrefix, cleanUpPrefix, serviceEnv } from './support/redis';
import { elapsedMs, fmtInt, fmtMs, fmtPct, now, percentile, say, sleep, table } from './support/report';

const POLL_EVERY_MS = 100;
const GIVE_UP_MS = 5000;
const SEQUENTIAL = 300;
const CONCURRENT_WORKERS = 8;
const PER_WORKER = 300; // 2,400 reads of each kind per run: a p99 of 800 moved by 2× between runs minutes apart
/**
 * Paced run: each client rests a random 0–2× this long after a read (mean this), so the service works well
 * below its capacity and the clients do not fall into lockstep (8 requests landing at once would measure
 * queueing in the bench client and the service, not the wait for the projection).
 */
const PACED_PAUSE_MS = 20;

interface Sample {
  ms: number;
  /** The first read already showed the change (for ours: answered X-Consistency: fresh). */
  firstFresh: boolean;
  fresh: boolean;
}
type Reader = (base: string, orderId: string, version: number) => Promise<Sample>;

const versionOf = async (response: Response): Promise<number | undefined> => {
  if (response.status !== 200) {
    await response.arrayBuffer();
    return undefined;
  }
  return ((await response.json()) as { version: number }).version;
};

/** Ours: a single read that asks the service to wait for the version. */
const readWithMinVersion: Reader = async (base, orderId, version) => {
  const started = now();
  const response = await fetch(`${base}/orders/${orderId}?minVersion=${version}`);
  const seen = await versionOf(response);
  const fresh = response.headers.get('x-consistency') === 'fresh' && seen !== undefined && seen >= version;
  return { ms: elapsedMs(started), firstFresh: fresh, fresh };
};

/** A plain GET of a view that is already fresh: the read itself, for the p99 a ?minVersion read is held to. */
const plainGet = async (base: string, orderId: string): Promise<number> => {
  const started = now();
  await (await fetch(`${base}/orders/${orderId}`)).arrayBuffer();
  return elapsedMs(started);
};

/** Baseline: read at once, then every 100 ms, until the view shows the version (bounded at 5 s). */
const pollEvery100ms: Reader = async (base, orderId, version) => {
  const started = now();
  for (let attempt = 0; ; attempt++) {
    const seen = await versionOf(await fetch(`${base}/orders/${orderId}`));
    if (seen !== undefined && seen >= version)
      return { ms: elapsedMs(started), firstFresh: attempt === 0, fresh: true };
    if (elapsedMs(started) > GIVE_UP_MS) return { ms: elapsedMs(started), firstFresh: false, fresh: false };
    await sleep(POLL_EVERY_MS);
  }
};

/** Commands on one order after another: place it, then add items, so versions 0, 1, 2 are all read. */
const commandStream = (base: string) => {
  let orderId: string | undefined;
  let n = 0;
  return async (): Promise<{ orderId: string; version: number }> => {
    const placing = n++ % 3 === 0 || orderId === undefined;
    const response = placing
      ? await fetch(`${base}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: orderBody(n),
        })
      : await fetch(`${base}/orders/${orderId}/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sku: `SKU-${n}`, quantity: 1, unitPrice: 3.5 }),
        });
    if (response.status !== 201 && response.status !== 200) {
      throw new Error(`command answered ${response.status}: ${await response.text()}`);
    }
    const result = (await response.json()) as { orderId: string; version: number };
    orderId = result.orderId;
    return result;
  };
};

/**
 * Each worker alternates the two readers command by command, so ours and the baseline are measured in the
 * same seconds under the same load (the machine is shared).
 */
const measure = async (
  base: string,
  workers: number,
  perWorker: number,
  pauseMs = 0,
): Promise<{ ours: Sample[]; baseline: Sample[]; plainMs: number[]; commandsPerSecond: number }> => {
  const ours: Sample[] = [];
  const baseline: Sample[] = [];
  const plainMs: number[] = [];
  const started = now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      const next = commandStream(base);
      for (let i = 0; i < 2 * perWorker; i++) {
        const { orderId, version } = await next();
        const oursTurn = (i + worker) % 2 === 0;
        const read = oursTurn ? readWithMinVersion : pollEvery100ms;
        const sample = await read(base, orderId, version); // the clock starts when the 2xx has been read
        (oursTurn ? ours : baseline).push(sample);
        if (oursTurn) plainMs.push(await plainGet(base, orderId)); // the same view, now fresh, read plainly
        if (pauseMs > 0) await sleep(Math.random() * 2 * pauseMs);
      }
    }),
  );
  return {
    ours,
    baseline,
    plainMs,
    commandsPerSecond: (workers * 2 * perWorker) / (elapsedMs(started) / 1000),
  };
};

const row = (label: string, samples: Sample[]) => {
  const ms = samples.map((s) => s.ms);
  return {
    reader: label,
    n: fmtInt(samples.length),
    p50: fmtMs(percentile(ms, 50)),
    p99: fmtMs(percentile(ms, 99)),
    max: fmtMs(Math.max(...ms)),
    'first read fresh': fmtPct(samples.filter((s) => s.firstFresh).length, samples.length),
    'never fresh': fmtInt(samples.filter((s) => !s.fresh).length),
  };
};

/** Item 5's goal: under the same load, the p99 of ?minVersion reads within 1.5× of plain GETs' p99. */
const againstPlain = (label: string, run: { ours: Sample[]; plainMs: number[] }) => {
  const ours = percentile(
    run.ours.map((s) => s.ms),
    99,
  );
  const plain = percentile(run.plainMs, 99);
  return (
    `${label}: ?minVersion p99 ${fmtMs(ours)} vs plain GET p99 ${fmtMs(plain)} (p50 ${fmtMs(percentile(run.plainMs, 50))}, ` +
    `n=${run.plainMs.length}) → ${(ours / plain).toFixed(2)}× (goal ≤ 1.5×)`
  );
};

/** The floor: baseline samples answered by their first plain GET are one HTTP read with no waiting at all. */
const plainReadFloor = (label: string, samples: Sample[]) => {
  const ms = samples.filter((s) => s.firstFresh).map((s) => s.ms);
  return `${label}: a single plain GET (baseline reads fresh at once, n=${ms.length}) p50 ${fmtMs(percentile(ms, 50))}, p99 ${fmtMs(percentile(ms, 99))}`;
};

/** Warm-up, then sequential, paced and closed-loop runs against one API: their rows and plain-GET lines. */
const runAll = async (base: string) => {
  await measure(base, 4, 25); // warm-up: JIT, connections, the notification subscriber
  const sequential = await measure(base, 1, SEQUENTIAL);
  const paced = await measure(base, CONCURRENT_WORKERS, PER_WORKER, PACED_PAUSE_MS);
  const concurrent = await measure(base, CONCURRENT_WORKERS, PER_WORKER);
  const pacedLabel = `${CONCURRENT_WORKERS} paced, ${fmtInt(paced.commandsPerSecond)} commands/s`;
  const closedLabel = `${CONCURRENT_WORKERS} closed-loop, ${fmtInt(concurrent.commandsPerSecond)} commands/s`;
  return {
    sequential,
    paced,
    concurrent,
    rows: [
      row('ours: GET ?minVersion= (sequential)', sequential.ours),
      row('baseline: poll every 100 ms (sequential)', sequential.baseline),
      row(`ours: GET ?minVersion= (${pacedLabel})`, paced.ours),
      row(`baseline: poll every 100 ms (${pacedLabel})`, paced.baseline),
      row(`ours: GET ?minVersion= (${closedLabel})`, concurrent.ours),
      row(`baseline: poll every 100 ms (${closedLabel})`, concurrent.baseline),
    ],
    againstPlain: `${againstPlain(pacedLabel, paced)}\n${againstPlain(closedLabel, concurrent)}`,
  };
};

/**
 * Item 4: the API and the projector in two processes on one SQLite file (ROLE=api + ROLE=projector): the
 * API appends, the projector notices another process's commits (PRAGMA data_version), projects, notifies.
 */
const splitRoles = async (logLevel: string) => {
  const prefix = benchPrefix('ryw-split');
  const store = tempStore();
  const env = serviceEnv(store.url, prefix, logLevel);
  const projector = await startService({ ...env, ROLE: 'projector' });
  const api = await startService({ ...env, ROLE: 'api' });
  try {
    const runs = await runAll(api.url);
    say(
      "\nROLE=api + ROLE=projector, two processes on one SQLite file (the projector notices the API's appends " +
        'through PRAGMA data_version, checked every 10 ms):',
    );
    say(table(runs.rows));
    say(runs.againstPlain);
  } finally {
    await Promise.all([api.process.stop(), projector.process.stop()]);
    await cleanUpPrefix(prefix);
    store.remove();
  }
};

export const rywBench: Bench = {
  name: 'ryw',
  summary: 'read-your-writes latency: minVersion read vs 100 ms polling',
  inDefault: true,
  run: async (args) => {
    const prefix = benchPrefix('ryw');
    const store = tempStore();
    const profiling = profilingFor(args, 'ryw-service');
    const service = await startService(serviceEnv(store.url, prefix, args.logLevel), profiling.nodeArgs);
    try {
      const { sequential, paced, concurrent, rows, againstPlain: plainLines } = await runAll(service.url);
      say(
        `latency from the command's 2xx (body read) to a read that shows the command's version; ` +
          'commands: 1 place then 2 add-items per order; each client alternates ours and the baseline command by ' +
          `command; paced: each client rests a random 0–${2 * PACED_PAUSE_MS} ms after a read (load well below capacity); ` +
          'closed-loop: the clients go as fast as they can (the machine is saturated: the bench client, the ' +
          'service and Redis share 2 cores); CONSISTENCY_TIMEOUT_MS default (2000); goal: ours p99 < 10 ms',
      );
      say(table(rows));
      say(
        `(${plainReadFloor('sequential', sequential.baseline)}; ${plainReadFloor('paced', paced.baseline)}; ` +
          `${plainReadFloor('closed-loop', concurrent.baseline)})`,
      );
      say(
        `each ?minVersion read is followed by a plain GET of the same (now fresh) view, timed the same way:\n${plainLines}`,
      );
    } finally {
      await service.process.stop();
      await cleanUpPrefix(prefix);
      store.remove();
    }
    reportProfile(profiling.dir, 'the service under ryw');
    await splitRoles(args.logLevel);
  },
};

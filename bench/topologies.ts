// Issue 10.8: the read side on one Redis and on a Redis Cluster (3 primaries, 3 replicas, replica reads), in
// one run on this machine: projection catch-up, GET /orders/{id}, and the time from a primary's SIGKILL until
// every projection has caught up again. Both Redis setups are started here, fresh, on free ports.

import { SqliteEventStore } from '../src/eventstore/sqlite';
import { orderProjections as allProjections } from '../src/orders';
import { readModelKeys } from '../src/readmodel';
import { openRedis } from '../src/redis';
import { startOrderTraffic } from '../test/support/order-traffic';
import { startPrivateRedis } from '../test/support/private-redis';
import { type RedisClusterProcesses, startRedisCluster } from '../test/support/redis-topologies';
import { type Bench, type BenchArgs, tempStore } from './support/bench';
import { runCatchUpWorker } from './support/catch-up';
import { runAutocannon } from './support/http-load';
import { orderBody } from './support/order-body';
import { prefilledStoreCopy } from './support/prefill';
import { startService } from './support/processes';
import { benchPrefix } from './support/redis';
import { fmtInt, fmtMs, fmtRatio, note, say, sleep, table } from './support/report';

interface Target {
  label: string;
  /** The service's variables for this Redis. */
  env: Record<string, string>;
}

const WARMUP_S = 3;
const ORDERS = 500;

/** Catch-up of all four projections from the prefilled store; events/s of the slowest. */
const catchUp = async (storePath: string, target: Target, events: number) => {
  const result = await runCatchUpWorker({
    storePath,
    prefix: benchPrefix('topologies'),
    projections: allProjections.map((p) => p.name),
    mode: 'projector',
    redisEnv: target.env,
  });
  const done = result.lines.find((l) => l.msg === 'all-caught-up');
  const ms = Number(done?.ms);
  return { ms, perSec: events / (ms / 1000) };
};

/** A service with ORDERS orders, all projected; then GET /orders/{id} over them under autocannon. */
const readOrders = async (target: Target, args: BenchArgs) => {
  const store = tempStore();
  const service = await startService({
    ...target.env,
    EVENTSTORE_URL: store.url,
    REDIS_PREFIX: benchPrefix('topologies-get'),
    LOG_LEVEL: args.logLevel,
  });
  try {
    const ids: string[] = [];
    let last = { orderId: '', version: 0 };
    for (let i = 0; i < ORDERS; i += 25) {
      const placed = await Promise.all(
        Array.from({ length: 25 }, async (_, j) => {
          const res = await fetch(`${service.url}/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: orderBody(i + j),
          });
          return (await res.json()) as { orderId: string; version: number };
        }),
      );
      ids.push(...placed.map((p) => p.orderId));
      last = placed.at(-1)!;
    }
    await fetch(`${service.url}/orders/${last.orderId}?minVersion=${last.version}`);
    let next = 0;
    const load = (duration: number) =>
      runAutocannon({
        url: service.url,
        connections: args.connections ?? 32,
        duration,
        requests: [
          { method: 'GET', setupRequest: (r) => ({ ...r, path: `/orders/${ids[next++ % ids.length]}` }) },
        ],
      });
    await load(WARMUP_S);
    return await load(args.duration ?? 10);
  } finally {
    await service.process.stop();
    store.remove();
  }
};

/** SIGKILL of the primary that holds order-view, under a light command load; times until each step. */
const failover = async (cluster: RedisClusterProcesses, args: BenchArgs) => {
  const store = tempStore();
  const prefix = benchPrefix('topologies-failover');
  const env = {
    REDIS_URL: '',
    REDIS_CLUSTER_NODES: cluster.seeds,
    REDIS_READ_FROM: 'replica',
    EVENTSTORE_URL: store.url,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: args.logLevel,
  };
  const service = await startService(env);
  const redis = openRedis(
    {
      kind: 'cluster',
      nodes: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      auth: { tls: false },
    },
    {},
  );
  try {
    await redis.connect(10_000);
    const keys = readModelKeys(prefix);
    const placed = (await (
      await fetch(`${service.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: orderBody(0),
      })
    ).json()) as { orderId: string };
    const traffic = startOrderTraffic(service.url, 3);
    await sleep(2000);
    const victim = await cluster.masterOf(keys.active('order-view'));
    const killed = Date.now();
    await victim.kill();
    /** Time until a read of order-view (on the killed node) answers 200 again, after a first failure. */
    const firstRead = (async (): Promise<number> => {
      for (let failedOnce = false; ; await sleep(10)) {
        const res = await fetch(`${service.url}/orders/${placed.orderId}`).catch(() => undefined);
        await res?.body?.cancel();
        if (res?.status !== 200) failedOnce = true;
        else if (failedOnce || Date.now() - killed > 15_000) return Date.now() - killed;
      }
    })();
    await cluster.waitHealthy(60_000);
    const promoted = Date.now() - killed;
    await sleep(500);
    const report = await traffic.stop();
    const readOk = await firstRead;
    // Caught up: every projection's active generation at the store's head (read through the seam).
    const sqlite = SqliteEventStore.open(store.path);
    const head = await sqlite.headPosition();
    await sqlite.close();
    for (;;) {
      const checkpoints = await Promise.all(
        allProjections.map(async ({ name }) => {
          const generation = Number((await redis.primary.get(keys.active(name)).catch(() => null)) ?? '1');
          return BigInt(
            (await redis.primary
              .hGet(keys.generation(name, generation).checkpoint, 'position')
              .catch(() => null)) ?? '0',
          );
        }),
      );
      if (checkpoints.every((c) => c >= head)) break;
      if (Date.now() - killed > 120_000) throw new Error('not caught up within 120 s of the kill');
      await sleep(20);
    }
    const caughtUp = Date.now() - killed;
    return { promoted, readOk, caughtUp, report };
  } finally {
    await redis.close();
    await service.process.stop();
    store.remove();
  }
};

export const topologiesBench: Bench = {
  name: 'topologies',
  summary:
    'one Redis vs a 3+3 Redis Cluster: projection catch-up, GET /orders/{id} (primary and replica reads), a primary SIGKILLed until caught up',
  inDefault: true,
  run: async (args) => {
    const events = args.events ?? 50_000;
    note('topologies: starting a private redis-server and a 3-primary/3-replica cluster');
    const single = await startPrivateRedis();
    const cluster = await startRedisCluster();
    const onSingle: Target = { label: 'one Redis', env: { REDIS_URL: single.url } };
    const clusterEnv = { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds };
    const onClusterPrimary: Target = { label: 'Cluster, primary reads', env: clusterEnv };
    const onClusterReplica: Target = {
      label: 'Cluster, replica reads',
      env: { ...clusterEnv, REDIS_READ_FROM: 'replica' },
    };
    try {
      say(
        'both started here on free ports: one redis-server (no persistence) and a Cluster of 6 redis-servers ' +
          '(append-only everysec, cluster-node-timeout 2 s); the same machine runs Redis, the service and the load',
      );
      const store = await prefilledStoreCopy(events);
      const catchUps = [];
      for (const target of [onSingle, onClusterPrimary]) {
        note(`topologies: catch-up of ${fmtInt(events)} events on ${target.label}`);
        catchUps.push({ target, ...(await catchUp(store.path, target, events)) });
      }
      store.remove();
      say(`\n### projection catch-up: all four projections from ${fmtInt(events)} events (one process)\n`);
      say(
        table([
          ...catchUps.map(({ target, ms, perSec }) => ({
            redis: target.label,
            time: fmtMs(ms),
            'events/s': fmtInt(perSec),
          })),
          {
            redis: 'ratio Cluster / one Redis',
            'events/s': fmtRatio(catchUps[1]!.perSec, catchUps[0]!.perSec),
          },
        ]),
      );

      const reads: Array<{ target: Target; result: Awaited<ReturnType<typeof readOrders>> }> = [];
      for (const target of [onSingle, onClusterPrimary, onClusterReplica]) {
        note(`topologies: GET /orders/{id} on ${target.label}`);
        reads.push({ target, result: await readOrders(target, args) });
      }
      say(
        `\n### GET /orders/{id}: ${ORDERS} orders, autocannon ${args.connections ?? 32} connections, ` +
          `${WARMUP_S} s warm-up + ${args.duration ?? 10} s (service ROLE=all, LOG_LEVEL=${args.logLevel})\n`,
      );
      say(
        table([
          ...reads.map(({ target, result }) => ({
            redis: target.label,
            'req/s': fmtInt(result.requestsPerSec),
            p50: fmtMs(result.p50),
            p99: fmtMs(result.p99),
            'non-2xx': fmtInt(result.non2xx),
          })),
          ...reads.slice(1).map(({ target, result }) => ({
            redis: `ratio ${target.label} / one Redis`,
            'req/s': fmtRatio(result.requestsPerSec, reads[0]!.result.requestsPerSec),
          })),
        ]),
      );

      note('topologies: SIGKILL of the primary holding order-view');
      const outcome = await failover(cluster, args);
      say('\n### a primary SIGKILLed under commands (3 writers), Cluster with replica reads\n');
      say(
        table([
          {
            step: 'a replica promoted, every slot served (cluster_state:ok)',
            'after the kill': fmtMs(outcome.promoted),
          },
          {
            step: 'GET /orders/{id} of order-view answers 200 again',
            'after the kill': fmtMs(outcome.readOk),
          },
          {
            step: 'every projection caught up (checkpoint at the store head)',
            'after the kill': fmtMs(outcome.caughtUp),
          },
        ]),
      );
      say(
        `commands during the run: ${fmtInt(outcome.report.commands)}, by status ${JSON.stringify(outcome.report.statuses)}`,
      );
    } finally {
      await cluster.dispose();
      await single.dispose();
    }
  },
};

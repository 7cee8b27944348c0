import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { orderProjections as allProjections } from '../../src/orders';
import { readModelKeys } from '../../src/readmodel';
import { openRedis, type Redis, scanPrefix } from '../../src/redis';
import { tourTheApi } from '../support/api-tour';
import { json, validOrder } from '../support/app';
import { readModelVia, startOrderTraffic, waitCaughtUpVia } from '../support/order-traffic';
import { eventually } from '../support/projector-harness';
import { uniqueRedisPrefix } from '../support/redis';
import { type RedisClusterProcesses, startRedisCluster } from '../support/redis-topologies';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const ADMIN_TOKEN = 'cluster-admin-token-0123456789';
const NAMES = allProjections.map((p) => p.name);

/** Each INFO commandstats line as command → calls. */
const commandCalls = (info: string): Record<string, number> =>
  Object.fromEntries(
    [...info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].map(([, command, calls]) => [
      command!,
      Number(calls),
    ]),
  );

describe('the read side on a Redis Cluster: 3 primaries, 3 replicas, replica reads (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-e2e-'));
  const storePath = join(dir, 'events.sqlite');
  const prefix = uniqueRedisPrefix('cluster');
  let cluster: RedisClusterProcesses;
  let service: ServiceProcess;
  let redis: Redis;
  const env = () => ({
    EVENTSTORE_URL: `sqlite:${storePath}`,
    REDIS_URL: '', // the test run's own Redis is in the environment: empty is unset
    REDIS_CLUSTER_NODES: cluster.seeds,
    REDIS_READ_FROM: 'replica',
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN,
    CONSISTENCY_TIMEOUT_MS: '5000',
  });

  beforeAll(async () => {
    cluster = await startRedisCluster();
    service = await startServiceProcess(env());
    redis = openRedis({
      kind: 'cluster',
      nodes: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      auth: { tls: false },
    });
    expect(await redis.connect(10_000)).toBe(true);
  }, 90_000);
  afterAll(async () => {
    await service?.kill('SIGKILL');
    await redis?.close();
    await cluster?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given REDIS_CLUSTER_NODES and replica reads, then every command and query of the API works, read-your-writes fresh', async () => {
    await tourTheApi(service.baseUrl, ADMIN_TOKEN, 'cluster-tour');
  }, 60_000);

  it('given projections written, then every key of one projection sits in one hash slot, and queries were served by replicas', async () => {
    const slots = new Map<string, Set<number>>();
    await scanPrefix(redis, prefix, (batch) => {
      for (const key of batch) {
        const projection = /^[^{]*\{([^}]+)\}/.exec(key)?.[1] ?? key;
        const seen = slots.get(projection) ?? new Set<number>();
        seen.add(calculateSlot(key));
        slots.set(projection, seen);
      }
      return true;
    });
    expect([...slots.keys()].sort()).toEqual([...NAMES].sort());
    for (const [projection, seen] of slots)
      expect({ projection, slots: seen.size }).toEqual({ projection, slots: 1 });

    const replicaReads = { hgetall: 0, scripts: 0 };
    for (const node of cluster.nodes) {
      const role = await cluster.cli(node, 'ROLE');
      if (!role.startsWith('slave')) continue;
      const calls = commandCalls(await cluster.cli(node, 'INFO', 'commandstats'));
      replicaReads.hgetall += calls.hgetall ?? 0;
      replicaReads.scripts += (calls.evalsha ?? 0) + (calls.eval ?? 0);
    }
    // Replication never sends a read, so HGETALLs on a replica are queries that were served there.
    expect(replicaReads.hgetall).toBeGreaterThan(0);
    // Scripts reach replicas only as their effects: no apply, lease or flip was sent to one.
    expect(replicaReads.scripts).toBe(0);
  });

  it('given a process waiting on notifications, then each projection has a sharded channel on the node that owns its slot, and no classic channel', async () => {
    const keys = readModelKeys(prefix);
    for (const { name } of allProjections) {
      const channel = keys.notifications(name);
      const owner = await cluster.masterOf(channel);
      const sharded = (await cluster.cli(owner, 'PUBSUB', 'SHARDNUMSUB', channel)).split('\n');
      expect({ name, subscribers: Number(sharded[1]) }).toEqual({ name, subscribers: 1 });
      for (const node of cluster.nodes) {
        const classic = (await cluster.cli(node, 'PUBSUB', 'NUMSUB', channel)).split('\n');
        expect(Number(classic[1])).toBe(0);
      }
    }
  });

  it('given the CLI with REDIS_CLUSTER_NODES, then status lists every projection and a rebuild asked there is built', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { PATH: process.env.PATH ?? '', ...env() },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const status = cli('projections', 'status', '--json');
    expect(status.status).toBe(0);
    const rows = JSON.parse(status.stdout) as Array<{ name: string; status: string; generation: number }>;
    expect(rows.map((r) => r.name).sort()).toEqual([...NAMES].sort());
    const before = rows.find((r) => r.name === 'orders-index')!.generation;

    const rebuild = cli('projections', 'rebuild', 'orders-index', '--json');
    expect(rebuild.status).toBe(0);
    const { generation } = JSON.parse(rebuild.stdout) as { generation: number };
    expect(generation).toBeGreaterThan(before);
    await eventually(
      () =>
        JSON.parse(cli('projections', 'status', '--json').stdout) as Array<{
          name: string;
          generation: number;
        }>,
      (r) => r.find((row) => row.name === 'orders-index')?.generation === generation,
      { what: 'the rebuilt orders-index to become active', timeoutMs: 20_000, everyMs: 500 },
    );
  }, 60_000);

  it('given one primary whose maxmemory-policy may evict, when a service starts, then it exits 1 with one line naming that node and the fix', async () => {
    const master = await cluster.masterOf('some-key'); // one primary, whichever serves this key's slot
    await cluster.cli(master, 'CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru');
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: {
          PATH: process.env.PATH ?? '',
          PORT: '0',
          ...env(),
          REDIS_PREFIX: uniqueRedisPrefix('refused'),
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`127.0.0.1:${master.port} has maxmemory-policy volatile-lru`);
      expect(lines[0]).toContain('noeviction');
    } finally {
      await cluster.cli(master, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
  }, 30_000);

  it('given commands flowing, when the primary holding order-view is SIGKILLed, then no command fails, queries answer 503 at most during the failover, and afterwards every view, list and report equals a clean rebuild with zero lag', async () => {
    const keys = readModelKeys(prefix);
    const victim = await cluster.masterOf(keys.active('order-view'));
    const onVictim: string[] = [];
    for (const { name } of allProjections)
      if ((await cluster.masterOf(keys.active(name))).port === victim.port) onVictim.push(name);

    const known: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${service.baseUrl}/orders`, json(validOrder({ customerId: 'c-failover' })));
      const { orderId, version } = (await res.json()) as { orderId: string; version: number };
      await fetch(`${service.baseUrl}/orders/${orderId}?minVersion=${version}`);
      known.push(orderId);
    }
    const traffic = startOrderTraffic(service.baseUrl, 3);
    const reads: Array<{ at: number; status: number }> = [];
    let reading = true;
    const reader = (async () => {
      for (let i = 0; reading; i++) {
        const orderId = known[i % known.length]!;
        const res = await fetch(`${service.baseUrl}/orders/${orderId}`).catch(() => undefined);
        reads.push({ at: Date.now(), status: res?.status ?? 0 });
        await res?.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const faultsSeen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const res = await fetch(`${service.baseUrl}/admin/projections`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        }).catch(() => undefined);
        if (res?.status === 200) {
          for (const row of (await res.json()) as Array<{ name: string; status: string; lastError?: string }>)
            if (row.status === 'faulted' && row.lastError) faultsSeen.add(row.name);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    await victim.kill();
    await cluster.waitHealthy(30_000);
    const healthyAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000)); // commands keep flowing on the promoted replica
    const report = await traffic.stop();
    reading = false;
    watching = false;
    await Promise.all([reader, watcher]);

    // Commands never need Redis: each one succeeded.
    expect(Object.keys(report.statuses).sort()).toEqual(['200', '201']);
    expect(report.commands).toBeGreaterThan(20);
    // Reads: 200, or 503 only inside the failover window (with a second of slack for the slot map refresh).
    const failed = reads.filter((r) => r.status !== 200);
    const unexpected = failed.filter((r) => r.status !== 503);
    const errors = service.logs.filter((l) => typeof l === 'object' && l.msg === 'unhandled error');
    expect({ unexpected, errors }).toEqual({ unexpected: [], errors: [] });
    for (const { at } of failed) {
      expect(at).toBeGreaterThanOrEqual(killedAt);
      expect(at).toBeLessThanOrEqual(healthyAt + 2000);
    }
    // The projections on the dead node were shown faulted with a cause while it was down.
    expect([...faultsSeen].sort()).toEqual(expect.arrayContaining(onVictim.sort()));
    const errorLines = service.logs.filter(
      (l): l is Record<string, unknown> =>
        typeof l === 'object' &&
        l.level === 50 &&
        onVictim.includes(String(l.projection)) &&
        l.cause !== undefined,
    );
    expect(errorLines.length).toBeGreaterThan(0);

    // Notifications follow the failover: a write after it is read fresh, woken on the new primary's shard.
    const after = (await (
      await fetch(`${service.baseUrl}/orders`, json(validOrder({ customerId: 'c-after' })))
    ).json()) as { orderId: string; version: number };
    const read = await fetch(`${service.baseUrl}/orders/${after.orderId}?minVersion=${after.version}`);
    expect(read.headers.get('x-consistency')).toBe('fresh');

    const store = SqliteEventStore.open(storePath);
    try {
      const head = await waitCaughtUpVia(redis, prefix, store);
      const rows = await eventually(
        async () =>
          (await (
            await fetch(`${service.baseUrl}/admin/projections`, {
              headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
            })
          ).json()) as Array<{ name: string; status: string; lagEvents: number; checkpoint: string }>,
        (r) => r.every((row) => row.status === 'running' && row.lagEvents === 0),
        { what: 'every projection live with zero lag', timeoutMs: 15_000 },
      );
      expect(rows.every((row) => BigInt(row.checkpoint) >= head)).toBe(true);

      // A clean rebuild from the store: another process projects everything under a fresh prefix.
      const freshPrefix = uniqueRedisPrefix('cluster-fresh');
      const fresh = await startServiceProcess({ ...env(), REDIS_PREFIX: freshPrefix, ROLE: 'projector' });
      try {
        await waitCaughtUpVia(redis, freshPrefix, store);
        expect(await readModelVia(redis, prefix)).toEqual(await readModelVia(redis, freshPrefix));
      } finally {
        await fresh.kill('SIGTERM');
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});

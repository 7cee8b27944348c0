import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisAnswers } from '../../src/ops/local-redis';
import { freePort } from './private-redis';

const run = promisify(execFile);

/** One redis-server (data node or sentinel) of a topology, on its own free port. */
export interface RedisNodeProcess {
  port: number;
  address: string;
  /** SIGKILL: a crash, nothing flushed. */
  kill: () => Promise<void>;
  /** Starts it again with the same files (its cluster config / sentinel config and append-only file). */
  start: () => Promise<void>;
  pause: () => void;
  resume: () => void;
  readonly running: boolean;
}

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });

const cli = async (port: number, ...args: string[]): Promise<string> =>
  (await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 })).stdout.trim();

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const nodeProcess = async (
  dir: string,
  args: (port: number) => string[],
  sentinel = false,
): Promise<RedisNodeProcess> => {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child !== undefined) return;
    const argv = args(port);
    const started = sentinel
      ? spawn('redis-server', [argv[0]!, '--sentinel', ...argv.slice(1)], { stdio: 'ignore', cwd: dir })
      : spawn('redis-server', argv, { stdio: 'ignore', cwd: dir });
    child = started;
    await waitFor(`redis-server on ${port}`, async () => {
      if (started.exitCode !== null) throw new Error(`redis-server on ${port} exited`);
      return redisAnswers('127.0.0.1', port, 200);
    });
  };
  await start();
  return {
    port,
    address: `127.0.0.1:${port}`,
    kill: async () => {
      const running = child;
      child = undefined;
      if (running === undefined) return;
      running.kill('SIGCONT');
      running.kill('SIGKILL');
      await exited(running);
    },
    start,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    get running() {
      return child !== undefined;
    },
  };
};

const dataNodeArgs = (dir: string, extra: string[]) => (port: number) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--dir',
  dir,
  '--save',
  '',
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--daemonize',
  'no',
  ...extra,
];

export interface ClusterNodeRole {
  node: RedisNodeProcess;
  role: 'master' | 'slave';
  /** The master's port, for a replica. */
  masterPort?: number;
}

/** A Redis Cluster of redis-server's own cluster mode, started on free ports. */
export interface RedisClusterProcesses {
  nodes: RedisNodeProcess[];
  /** `host:port,host:port,…` of every node, as REDIS_CLUSTER_NODES takes it. */
  seeds: string;
  /** The node serving a hash slot's writes now (as the cluster sees it). */
  masterOf: (key: string) => Promise<RedisNodeProcess>;
  /** The replicas of the node serving the key's slot. */
  replicasOf: (key: string) => Promise<RedisNodeProcess[]>;
  /** Waits until every running node reports cluster_state:ok and every slot has a master that runs. */
  waitHealthy: (timeoutMs?: number) => Promise<void>;
  /** Runs redis-cli against a node. */
  cli: (node: RedisNodeProcess, ...args: string[]) => Promise<string>;
  dispose: () => Promise<void>;
}

const byPort = (nodes: RedisNodeProcess[], port: number) => {
  const node = nodes.find((n) => n.port === port);
  if (node === undefined) throw new Error(`no node on port ${port}`);
  return node;
};

/**
 * `masters` primaries with `replicasPerMaster` replicas each (`redis-cli --cluster create`), with a
 * short `cluster-node-timeout` so a killed primary is replaced within a few seconds.
 */
export const startRedisCluster = async ({
  masters = 3,
  replicasPerMaster = 1,
  nodeTimeoutMs = 2000,
  extraArgs = [] as string[],
} = {}): Promise<RedisClusterProcesses> => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  const count = masters * (1 + replicasPerMaster);
  const nodes: RedisNodeProcess[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(root, `node-${i}`);
    nodes.push(
      await nodeProcess(
        dir,
        dataNodeArgs(dir, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          // A replica may take over at once, however long it was cut off (the test kills on purpose).
          '--cluster-replica-validity-factor',
          '0',
          // CLUSTER SLOTS lists a replica only once its replication offset moved: ping it every second.
          '--repl-ping-replica-period',
          '1',
          ...extraArgs,
        ]),
      ),
    );
  }
  await run(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((n) => n.address),
      '--cluster-replicas',
      String(replicasPerMaster),
      '--cluster-yes',
    ],
    { timeout: 30_000 },
  );
  const slotOwner = async (key: string): Promise<{ master: number; replicas: number[] }> => {
    const alive = nodes.find((n) => n.running)!;
    const slot = Number(await cli(alive.port, 'CLUSTER', 'KEYSLOT', key));
    const shards = JSON.parse(
      (await run('redis-cli', ['-p', String(alive.port), '--json', 'CLUSTER', 'SHARDS'])).stdout,
    ) as Array<{ slots: number[]; nodes: Array<{ port: number; role: string; health: string }> }>;
    for (const shard of shards) {
      for (let i = 0; i < shard.slots.length; i += 2) {
        if (slot >= shard.slots[i]! && slot <= shard.slots[i + 1]!) {
          const master = shard.nodes.find((n) => n.role === 'master' && n.health === 'online');
          if (master === undefined) throw new Error(`slot ${slot} has no online master`);
          return {
            master: master.port,
            replicas: shard.nodes
              .filter((n) => n.role === 'replica' && n.health === 'online')
              .map((n) => n.port),
          };
        }
      }
    }
    throw new Error(`slot ${slot} is not served`);
  };
  const waitHealthy = (timeoutMs = 30_000) =>
    waitFor(
      'the cluster to be healthy',
      async () => {
        for (const node of nodes.filter((n) => n.running)) {
          const info = await cli(node.port, 'CLUSTER', 'INFO');
          if (!info.includes('cluster_state:ok')) return false;
        }
        const alive = nodes.find((n) => n.running)!;
        const shards = JSON.parse(
          (await run('redis-cli', ['-p', String(alive.port), '--json', 'CLUSTER', 'SHARDS'])).stdout,
        ) as Array<{ slots: number[]; nodes: Array<{ port: number; role: string; health: string }> }>;
        // A failed primary that lost its slots is a shard of its own, with no slots: not one to serve.
        return shards
          .filter((shard) => shard.slots.length > 0)
          .every((shard) =>
            shard.nodes.some(
              (n) => n.role === 'master' && n.health === 'online' && byPort(nodes, n.port).running,
            ),
          );
      },
      timeoutMs,
    );
  await waitHealthy();
  // Every replica has finished its first sync, so a kill right away is a failover, not an outage; and
  // CLUSTER SLOTS lists it, so a client that discovers the cluster now knows its replicas.
  await waitFor('every replica to be in sync and listed', async () => {
    for (const node of nodes) {
      const info = await cli(node.port, 'INFO', 'replication');
      if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
    }
    const slots = await cli(nodes[0]!.port, 'CLUSTER', 'SLOTS');
    return nodes.every((node) => slots.includes(`\n${node.port}\n`) || slots.endsWith(`\n${node.port}`));
  });
  return {
    nodes,
    seeds: nodes.map((n) => n.address).join(','),
    masterOf: async (key) => byPort(nodes, (await slotOwner(key)).master),
    replicasOf: async (key) => (await slotOwner(key)).replicas.map((port) => byPort(nodes, port)),
    waitHealthy,
    cli: (node, ...args) => cli(node.port, ...args),
    dispose: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
};

/** A primary, its replicas and three sentinels watching them, all redis-server processes. */
export interface RedisSentinelProcesses {
  masterName: string;
  dataNodes: RedisNodeProcess[];
  sentinels: RedisNodeProcess[];
  /** `host:port,…` of the sentinels, as REDIS_SENTINELS takes it. */
  seeds: string;
  /** The data node the sentinels name as primary now. */
  currentMaster: () => Promise<RedisNodeProcess>;
  /** Waits until the sentinels name a running primary other than `previous` (a failover finished). */
  waitForNewMaster: (previous: RedisNodeProcess, timeoutMs?: number) => Promise<RedisNodeProcess>;
  cli: (node: RedisNodeProcess, ...args: string[]) => Promise<string>;
  dispose: () => Promise<void>;
}

export const startRedisSentinel = async ({
  replicas = 1,
  sentinels = 3,
  downAfterMs = 1000,
  masterName = 'sluice-primary',
} = {}): Promise<RedisSentinelProcesses> => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-sentinel-'));
  const primaryDir = join(root, 'data-0');
  const primary = await nodeProcess(primaryDir, dataNodeArgs(primaryDir, []));
  const dataNodes = [primary];
  for (let i = 1; i <= replicas; i++) {
    const dir = join(root, `data-${i}`);
    dataNodes.push(
      await nodeProcess(dir, dataNodeArgs(dir, ['--replicaof', '127.0.0.1', String(primary.port)])),
    );
  }
  await waitFor('the replicas to sync', async () => {
    for (const node of dataNodes.slice(1)) {
      if (!(await cli(node.port, 'INFO', 'replication')).includes('master_link_status:up')) return false;
    }
    return true;
  });
  const watchers: RedisNodeProcess[] = [];
  for (let i = 0; i < sentinels; i++) {
    const dir = join(root, `sentinel-${i}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'sentinel.conf');
    writeFileSync(
      file,
      [
        `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    watchers.push(
      await nodeProcess(
        dir,
        (port) => [file, '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no'],
        true,
      ),
    );
  }
  const currentMasterPort = async (): Promise<number> => {
    for (const sentinel of watchers.filter((s) => s.running)) {
      try {
        const reply = await cli(sentinel.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName);
        const port = Number(reply.split('\n')[1]);
        if (Number.isInteger(port)) return port;
      } catch {}
    }
    throw new Error('no sentinel answered');
  };
  // Every sentinel knows the others and the replicas before a test kills anything.
  await waitFor('the sentinels to see each other and the replicas', async () => {
    for (const sentinel of watchers) {
      const info = await cli(sentinel.port, 'SENTINEL', 'MASTER', masterName);
      const fields = info.split('\n');
      const value = (name: string) => Number(fields[fields.indexOf(name) + 1]);
      if (value('num-other-sentinels') < sentinels - 1 || value('num-slaves') < replicas) return false;
    }
    return true;
  });
  const byPortIn = (port: number) => byPort(dataNodes, port);
  return {
    masterName,
    dataNodes,
    sentinels: watchers,
    seeds: watchers.map((s) => s.address).join(','),
    currentMaster: async () => byPortIn(await currentMasterPort()),
    waitForNewMaster: async (previous, timeoutMs = 30_000) => {
      let found: RedisNodeProcess | undefined;
      await waitFor(
        'a sentinel failover',
        async () => {
          const port = await currentMasterPort();
          if (port === previous.port) return false;
          const node = byPortIn(port);
          const role = await cli(port, 'ROLE');
          if (!role.startsWith('master')) return false;
          found = node;
          return true;
        },
        timeoutMs,
      );
      return found!;
    },
    cli: (node, ...args) => cli(node.port, ...args),
    dispose: async () => {
      await Promise.all([...watchers, ...dataNodes].map((n) => n.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
};

import calculateSlot from 'cluster-key-slot';
import { createCluster, type RedisClientType } from 'redis';
import {
  abandoner,
  CLUSTER_CHECK_MS,
  CLUSTER_REFRESH_MS,
  keepConnecting,
  nodeClient,
  nodeOptions,
  type RedisOptions,
  replicaRead,
  within,
  withoutWriteTimeout,
} from './connection.js';
import { boundedCommands, CALL_DEADLINE_MS, withDeadline } from './deadline.js';
import type { ReadConnection, Redis } from './redis.js';
import { evalScript, type SendToPrimary } from './scripts.js';
import { ChannelSubscriber, type SubscriberRouting } from './subscriber.js';
import type { RedisEndpoint, RedisTopology } from './topology.js';

type Cluster = ReturnType<typeof createCluster>;

/**
 * node-redis reads a Cluster's slot map only at connect and on MOVED/ASK; a primary that dies without
 * answering MOVED leaves its slots pointing at a dead node forever (node-redis issue #2806). This reads
 * the map again whenever a primary's connection is down, and every 10 s.
 */
const watchClusterTopology = (
  cluster: Cluster,
  roots: RedisEndpoint[],
  isClosed: () => boolean,
  onError?: (error: Error) => void,
) => {
  let refreshing: Promise<void> | undefined;
  let lastRefresh = Date.now();
  const refresh = () => {
    if (isClosed() || !cluster.isOpen || refreshing !== undefined) return;
    lastRefresh = Date.now();
    const alive = cluster.masters.find((master) => master.client?.isReady === true) ?? roots[0];
    // The discovery connection gets an idle timeout: a frozen node must not hold the refresh forever.
    const startWith = { options: { socket: { host: alive?.host, port: alive?.port, socketTimeout: 2000 } } };
    refreshing = cluster._slots
      .rediscover(startWith as unknown as Parameters<Cluster['_slots']['rediscover']>[0])
      .catch((error: Error) => onError?.(error))
      .finally(() => {
        refreshing = undefined;
      });
  };
  const timer = setInterval(() => {
    const stale = cluster.masters.some((master) => master.client !== undefined && !master.client.isReady);
    if (stale || Date.now() - lastRefresh > CLUSTER_REFRESH_MS) refresh();
  }, CLUSTER_CHECK_MS);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
};

export const clusterRedis = (
  topology: Extract<RedisTopology, { kind: 'cluster' }>,
  options: RedisOptions,
): Redis => {
  const { auth } = topology;
  const node = nodeOptions(auth);
  const create = (useReplicas: boolean) => {
    const cluster = createCluster({
      rootNodes: topology.nodes.map((endpoint) => ({
        socket: { ...endpoint, socketTimeout: 2000, ...(auth.tls ? { tls: true as const } : {}) },
      })),
      defaults: node,
      useReplicas,
    });
    cluster.on('error', (error: Error) => options.onError?.(error));
    cluster.on('node-error', (error: Error) => options.onError?.(error));
    return cluster;
  };
  let closed = false;
  let connected = false;
  let connecting: Promise<void> | undefined;
  const primary = create(false);
  const replicas = options.readFrom === 'replica' ? create(true) : undefined;
  const watches = [primary, replicas].flatMap((cluster) =>
    cluster === undefined
      ? []
      : [watchClusterTopology(cluster, topology.nodes, () => closed, options.onError)],
  );
  const abandon = abandoner(options.onError);
  /** The connection to the primary that serves a key's slot (the one a stuck call went to). */
  const abandonNodeOf = (key: string | undefined) =>
    abandon(
      key === undefined ? undefined : (primary.slots[calculateSlot(key)]?.master.client as RedisClientType),
    );
  const sendToPrimary: SendToPrimary = (key, args) =>
    withDeadline(primary.sendCommand(key, false, args), CALL_DEADLINE_MS, () => abandonNodeOf(key));
  const routing: SubscriberRouting = {
    sharded: true,
    addressOf: (channel) => {
      const master = primary.slots[calculateSlot(channel)]?.master;
      return master === undefined ? undefined : `${master.host}:${master.port}`;
    },
    clientFor: (address) => nodeClient(address, auth),
    refreshTopology: () => watches[0]?.refresh(),
  };
  const primaryRead: ReadConnection = { commands: withoutWriteTimeout(primary), replica: false };
  let next = 0;
  return {
    topology: 'cluster',
    primary: boundedCommands(primary, CALL_DEADLINE_MS, abandonNodeOf),
    // A replica of the key's shard that is connected (round robin), else the shard's primary.
    readConnection: (key) => {
      const shard = replicas?.slots[calculateSlot(key)];
      const ready = (shard?.replicas ?? []).filter((node) => node.client?.isReady === true);
      if (ready.length === 0) return primaryRead;
      next = (next + 1) % ready.length;
      return replicaRead(ready[next]!.client as RedisClientType);
    },
    publishCommand: 'SPUBLISH',
    runScript: (script, keys, args) => evalScript(sendToPrimary, script, keys, args),
    subscribe: (subscription) => new ChannelSubscriber(routing, subscription),
    primaries: async () =>
      primary.masters.map((master) => ({
        address: `${master.host}:${master.port}`,
        send: async (args: string[]) => {
          const client = (await primary.nodeClient(master)) as RedisClientType;
          return withDeadline(client.sendCommand(args), CALL_DEADLINE_MS, () => abandon(client));
        },
      })),
    get isReady() {
      return connected && primary.isOpen;
    },
    connect: (waitMs = 2000) => {
      connecting ??= keepConnecting(
        async () => {
          if (!primary.isOpen) await primary.connect();
          if (replicas !== undefined && !replicas.isOpen) await replicas.connect();
          connected = true;
        },
        () => closed,
        options.onError,
      );
      return within(connecting, waitMs);
    },
    close: async () => {
      closed = true;
      for (const watch of watches) watch.stop();
      for (const cluster of [primary, replicas]) if (cluster?.isOpen) cluster.destroy();
    },
  };
};

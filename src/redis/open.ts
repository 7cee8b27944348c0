import calculateSlot from 'cluster-key-slot';
import { createClient, createCluster, createSentinel, type RedisClientType } from 'redis';
import { boundedCommands, CALL_DEADLINE_MS, withDeadline } from './deadline';
import { NoReplicaAvailable } from './errors';
import type { ReadConnection, Redis, RedisNode } from './redis';
import { evalScript, type RedisScript, type SendToPrimary } from './scripts';
import { SentinelReplicas } from './sentinel-replicas';
import { ChannelSubscriber, type SubscriberRouting, type SubscriptionOptions } from './subscriber';
import type { ReadFrom, RedisAuth, RedisEndpoint, RedisTopology } from './topology';

export interface RedisOptions {
  /** `replica`: queries read from replicas where the topology has them (Sentinel, Cluster). */
  readFrom?: ReadFrom;
  /** Connection errors; the clients keep reconnecting by themselves. */
  onError?: (error: Error) => void;
}

/** Longest a command waits to be written (node-redis's command timeout; CALL_DEADLINE_MS bounds the answer). */
const COMMAND_TIMEOUT_MS = 5000;
/** How often a Cluster's slot map is read again even when every node answers (replicas come and go). */
const CLUSTER_REFRESH_MS = 10_000;
/** How often a Cluster client checks for a primary that stopped answering (it may have failed over). */
const CLUSTER_CHECK_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Options of every connection to a data node: fail fast while disconnected (a query answers 503 instead of
 * hanging), no command waits forever, reconnect with capped backoff.
 */
const nodeOptions = (auth: RedisAuth | undefined) => ({
  disableOfflineQueue: true,
  commandOptions: { timeout: COMMAND_TIMEOUT_MS },
  ...(auth?.username ? { username: auth.username } : {}),
  ...(auth?.password ? { password: auth.password } : {}),
  socket: {
    connectTimeout: 2000,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    ...(auth?.tls ? { tls: true as const } : {}),
  },
});

const endpointOf = (address: string): RedisEndpoint => {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
};

/** A plain client for one node of a Sentinel or Cluster topology (subscribers use these). */
const nodeClient = (address: string, auth: RedisAuth): RedisClientType => {
  const options = nodeOptions(auth);
  return createClient({
    ...options,
    socket: { ...options.socket, ...endpointOf(address) },
  }) as RedisClientType;
};

/** Resolves true once `connected` does, false after `waitMs` (it keeps going). */
const within = (connected: Promise<unknown>, waitMs: number): Promise<boolean> =>
  Promise.race([
    connected.then(
      () => true,
      () => false,
    ),
    sleep(waitMs).then(() => false),
  ]);

/** Calls `attempt` until it succeeds or the seam closes; node-redis's Sentinel and Cluster give up at once. */
const keepConnecting = async (
  attempt: () => Promise<unknown>,
  isClosed: () => boolean,
  onError?: (error: Error) => void,
): Promise<void> => {
  for (let tries = 0; !isClosed(); tries++) {
    try {
      await attempt();
      return;
    } catch (error) {
      onError?.(error as Error);
      await sleep(Math.min(100 * 2 ** tries, 2000));
    }
  }
  throw new Error('closed before Redis answered');
};

/**
 * Drops a connection whose command ran out of time (its answer may never come) and opens it again; the
 * commands queued behind the stuck one fail at once instead of waiting for it. One at a time per client.
 */
const abandoner = (onError?: (error: Error) => void) => {
  const reopening = new WeakSet<RedisClientType>();
  return (client: RedisClientType | undefined) => {
    if (client === undefined || !client.isOpen || reopening.has(client)) return;
    reopening.add(client);
    onError?.(new Error(`a call did not answer within ${CALL_DEADLINE_MS} ms: abandoning its connection`));
    client.destroy();
    client
      .connect()
      .catch(() => {})
      .finally(() => reopening.delete(client));
  };
};

const singleRedis = (url: string, options: RedisOptions): Redis => {
  const client = createClient({ url, ...nodeOptions(undefined) }) as RedisClientType;
  client.on('error', (error: Error) => options.onError?.(error));
  let connecting: Promise<unknown> | undefined;
  const abandon = abandoner(options.onError);
  const send = (args: string[]) =>
    withDeadline(client.sendCommand(args), CALL_DEADLINE_MS, () => abandon(client));
  const subscriberClient = () => {
    const subscriber = client.duplicate();
    subscriber.on('error', () => {}); // the main client reports connection errors
    return subscriber;
  };
  const readConnection: ReadConnection = { commands: client, replica: false };
  return {
    topology: 'single',
    primary: boundedCommands(client, CALL_DEADLINE_MS, () => abandon(client)),
    readConnection: () => readConnection,
    publishCommand: 'PUBLISH',
    runScript: (script: RedisScript, keys: string[], args: string[]) =>
      evalScript((_key, a) => send(a), script, keys, args),
    subscribe: (subscription: SubscriptionOptions) =>
      new ChannelSubscriber(
        { sharded: false, addressOf: () => url, clientFor: subscriberClient },
        subscription,
      ),
    primaries: async (): Promise<RedisNode[]> => [{ address: new URL(url).host, send }],
    get isReady() {
      return client.isReady;
    },
    connect: (waitMs = 2000) => {
      connecting ??= client.connect();
      return within(connecting, waitMs);
    },
    close: async () => {
      if (client.isOpen) client.destroy();
    },
  };
};

const sentinelRedis = (
  topology: Extract<RedisTopology, { kind: 'sentinel' }>,
  options: RedisOptions,
): Redis => {
  const { auth } = topology;
  const primary = createSentinel({
    name: topology.masterName,
    sentinelRootNodes: topology.sentinels,
    nodeClientOptions: nodeOptions(auth),
    sentinelClientOptions: nodeOptions(auth),
    masterPoolSize: 1,
    scanInterval: 2000,
    passthroughClientErrorEvents: true,
  });
  primary.on('error', (error: Error) => options.onError?.(error));
  const primaryRead: ReadConnection = { commands: primary, replica: false };
  let replicas: SentinelReplicas | undefined;
  let closed = false;
  let connecting: Promise<void> | undefined;
  // A frozen primary is bounded here; Sentinel itself replaces its connection when it fails the primary over.
  const sendToPrimary: SendToPrimary = (_key, args) =>
    withDeadline(primary.sendCommand(false, args), CALL_DEADLINE_MS, () => {});
  const masterAddress = () => {
    const master = primary.getMasterNode();
    return master === undefined ? undefined : `${master.host}:${master.port}`;
  };
  const routing: SubscriberRouting = {
    sharded: false,
    addressOf: masterAddress,
    clientFor: (address) => nodeClient(address, auth),
  };
  return {
    topology: 'sentinel',
    primary: boundedCommands(primary, CALL_DEADLINE_MS, () => {}),
    // With every replica gone (the last one was promoted), queries read the primary rather than fail.
    readConnection: () => {
      const replica = replicas?.pick();
      return replica === undefined ? primaryRead : { commands: replica, replica: true };
    },
    publishCommand: 'PUBLISH',
    runScript: (script, keys, args) => evalScript(sendToPrimary, script, keys, args),
    subscribe: (subscription) => new ChannelSubscriber(routing, subscription),
    primaries: async () => {
      const address = masterAddress();
      if (address === undefined) throw new NoReplicaAvailable('the sentinels name no primary now');
      return [{ address, send: (args) => sendToPrimary('', args) }];
    },
    get isReady() {
      return primary.isReady;
    },
    connect: (waitMs = 2000) => {
      if (options.readFrom === 'replica')
        replicas ??= new SentinelReplicas(topology.sentinels, topology.masterName, auth, (address) =>
          nodeClient(address, auth),
        );
      connecting ??= keepConnecting(
        () => primary.connect(),
        () => closed,
        options.onError,
      );
      return within(connecting, waitMs);
    },
    close: async () => {
      closed = true;
      replicas?.close();
      if (primary.isOpen) await primary.destroy();
    },
  };
};

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

const clusterRedis = (
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
  const primaryRead: ReadConnection = { commands: primary, replica: false };
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
      return { commands: ready[next]!.client!, replica: true };
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

/** The seam for a topology; nothing is connected until `connect()`. */
export const openRedis = (topology: RedisTopology, options: RedisOptions = {}): Redis => {
  switch (topology.kind) {
    case 'single':
      return singleRedis(topology.url, options);
    case 'sentinel':
      return sentinelRedis(topology, options);
    case 'cluster':
      return clusterRedis(topology, options);
  }
};

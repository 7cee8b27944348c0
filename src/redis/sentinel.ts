import { createSentinel } from 'redis';
import {
  keepConnecting,
  nodeClient,
  nodeOptions,
  type RedisOptions,
  replicaRead,
  within,
  withoutWriteTimeout,
} from './connection.js';
import { boundedCommands, CALL_DEADLINE_MS, withDeadline } from './deadline.js';
import { NoReplicaAvailable } from './errors.js';
import type { ReadConnection, Redis } from './redis.js';
import { evalScript, type SendToPrimary } from './scripts.js';
import { SentinelReplicas } from './sentinel-replicas.js';
import { ChannelSubscriber, type SubscriberRouting } from './subscriber.js';
import type { RedisTopology } from './topology.js';

/** Redis behind Sentinel: node-redis's Sentinel client for the primary, our own connections to replicas. */
export const sentinelRedis = (
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
  const primaryRead: ReadConnection = { commands: withoutWriteTimeout(primary), replica: false };
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
      return replica === undefined ? primaryRead : replicaRead(replica);
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

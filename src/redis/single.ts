import { createClient, type RedisClientType } from 'redis';
import { abandoner, nodeOptions, type RedisOptions, within, withoutWriteTimeout } from './connection.js';
import { boundedCommands, CALL_DEADLINE_MS, withDeadline } from './deadline.js';
import type { ReadConnection, Redis, RedisNode } from './redis.js';
import { evalScript, type RedisScript } from './scripts.js';
import { ChannelSubscriber, type SubscriptionOptions } from './subscriber.js';

/** One Redis (REDIS_URL): one client for everything, a duplicate of it for notifications. */
export const singleRedis = (url: string, options: RedisOptions): Redis => {
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
  const readConnection: ReadConnection = { commands: withoutWriteTimeout(client), replica: false };
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

import { createClient, type RedisClientType } from 'redis';
import { CALL_DEADLINE_MS } from './deadline.js';
import type { ReadConnection } from './redis.js';
import type { ReadFrom, RedisAuth, RedisEndpoint } from './topology.js';

export interface RedisOptions {
  /** `replica`: queries read from replicas where the topology has them (Sentinel, Cluster). */
  readFrom?: ReadFrom;
  /** Connection errors; the clients keep reconnecting by themselves. */
  onError?: (error: Error) => void;
}

/** Longest a command waits to be written (node-redis's command timeout; CALL_DEADLINE_MS bounds the answer). */
export const COMMAND_TIMEOUT_MS = 5000;
/** How often a Cluster's slot map is read again even when every node answers (replicas come and go). */
export const CLUSTER_REFRESH_MS = 10_000;
/** How often a Cluster client checks for a primary that stopped answering (it may have failed over). */
export const CLUSTER_CHECK_MS = 500;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Options of every connection to a data node: fail fast while disconnected (a query answers 503 instead of
 * hanging), no command waits forever, reconnect with capped backoff.
 */
export const nodeOptions = (auth: RedisAuth | undefined) => ({
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

/**
 * The same connection for a query's reads, without node-redis's command timeout. That timeout bounds only the
 * wait to be *written* (a command already sent waits for its answer regardless), and it costs an
 * `AbortSignal.timeout` per command (a timer and two listeners): a profile of plain GETs showed it above 5 % of the
 * service, the query's own code less. A read is bounded by its request's deadline instead (READ_DEADLINE_MS
 * in the query route), which covers the answer too. Commands queued in a MULTI never had the timeout.
 */
export const withoutWriteTimeout = <C extends { withCommandOptions(options: object): unknown }>(
  commands: C,
): C => commands.withCommandOptions({ timeout: undefined }) as C;

const replicaReads = new WeakMap<RedisClientType, ReadConnection>();

/** The read connection of a replica's client (made once per client: queries pick one per request). */
export const replicaRead = (client: RedisClientType): ReadConnection => {
  let read = replicaReads.get(client);
  if (read === undefined) {
    read = { commands: withoutWriteTimeout(client), replica: true };
    replicaReads.set(client, read);
  }
  return read;
};

export const endpointOf = (address: string): RedisEndpoint => {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
};

/** A plain client for one node of a Sentinel or Cluster topology (subscribers use these). */
export const nodeClient = (address: string, auth: RedisAuth): RedisClientType => {
  const options = nodeOptions(auth);
  return createClient({
    ...options,
    socket: { ...options.socket, ...endpointOf(address) },
  }) as RedisClientType;
};

/** Resolves true once `connected` does, false after `waitMs` (it keeps going). */
export const within = (connected: Promise<unknown>, waitMs: number): Promise<boolean> =>
  new Promise<boolean>((resolve) => {
    // Cleared once connected: a pending timer would keep a short-lived process (the CLI) alive for waitMs.
    const timer = setTimeout(() => resolve(false), waitMs);
    const settle = (ok: boolean) => () => {
      clearTimeout(timer);
      resolve(ok);
    };
    connected.then(settle(true), settle(false));
  });

/** Calls `attempt` until it succeeds or the seam closes; node-redis's Sentinel and Cluster give up at once. */
export const keepConnecting = async (
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
export const abandoner = (onError?: (error: Error) => void) => {
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

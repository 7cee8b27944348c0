import { createClient } from 'redis';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisOptions {
  url: string;
  /** Called on connection errors; node-redis keeps reconnecting by itself. */
  onError?: (error: Error) => void;
}

/**
 * A client that fails fast while disconnected (no offline queue: a query answers 503 instead of hanging)
 * and reconnects with capped exponential backoff.
 */
export const createRedis = ({ url, onError }: RedisOptions): RedisClient => {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    // No call waits forever on a Redis that stopped answering (a frozen process, a partition).
    commandOptions: { timeout: 5000 },
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  client.on('error', (error: Error) => onError?.(error));
  return client;
};

/** Connects, failing after `timeoutMs` instead of retrying forever (start-up must not hang). */
export const connectRedis = async (client: RedisClient, timeoutMs = 3000): Promise<RedisClient> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timeout]);
    return client;
  } catch (error) {
    client.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from 'redis';

/**
 * node-redis's own errors for "no connection now": closed, offline, refused, timed out, or destroyed under a
 * command in flight (a replica dropped from the read pool, a node removed by a new slot map).
 */
const CONNECTION_ERRORS = [
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
];

/** Replies of a Redis that cannot serve right now: loading, a failover under way, a busy script, a replica. */
const NOT_SERVING = /^(LOADING|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

/** Socket errors of the operating system (a refused or reset connection) that surface unwrapped. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** Thrown by this service when a Redis call did not answer within its deadline. */
export class RedisDeadlineExceeded extends Error {
  override readonly name = 'RedisDeadlineExceeded';
}

/** Sentinel with replica reads and no replica left (node-redis throws a plain Error for it). */
export class NoReplicaAvailable extends Error {
  override readonly name = 'NoReplicaAvailable';
}

/** Redis cannot answer now (down, failing over, loading): a query answers 503, a projector retries. */
export const isRedisUnavailable = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  if (error instanceof RedisDeadlineExceeded || error instanceof NoReplicaAvailable) return true;
  if (CONNECTION_ERRORS.some((type) => error instanceof type)) return true;
  if (error instanceof ErrorReply) return NOT_SERVING.test(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && SOCKET_CODES.has(code);
};

/**
 * A short, stable name for why a Redis call failed: a metric label and the start of a status line.
 * `oom` and `noauth` need an operator; `unavailable` heals by itself; the rest are bugs or misconfiguration.
 */
export type RedisFailureCause =
  | 'oom'
  | 'noauth'
  | 'readonly'
  | 'crossslot'
  | 'moved'
  | 'noscript'
  | 'unavailable'
  | 'other';

export const redisFailureCause = (error: unknown): RedisFailureCause => {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('OOM')) return 'oom';
  if (/^(NOAUTH|WRONGPASS|NOPERM)\b/.test(message)) return 'noauth';
  if (message.startsWith('READONLY')) return 'readonly';
  if (message.startsWith('CROSSSLOT')) return 'crossslot';
  if (/^(MOVED|ASK)\b/.test(message)) return 'moved';
  if (message.startsWith('NOSCRIPT')) return 'noscript';
  if (isRedisUnavailable(error)) return 'unavailable';
  return 'other';
};

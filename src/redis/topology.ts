import { redactCredentials } from '../redact/index.js';
/** A Redis node or sentinel as configured: where it is, and how to log in. */
export interface RedisEndpoint {
  host: string;
  port: number;
}

/** Credentials and TLS shared by every node of a topology (discovered nodes get them too). */
export interface RedisAuth {
  username?: string;
  password?: string;
  tls: boolean;
}

/** Where the read model lives: the three shapes of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES. */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: RedisEndpoint[]; masterName: string; auth: RedisAuth }
  | { kind: 'cluster'; nodes: RedisEndpoint[]; auth: RedisAuth };

/** Where queries read: the primary, or replicas where the topology has them. */
export type ReadFrom = 'primary' | 'replica';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

const portOf = (text: string, entry: string): number => {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${entry}" has no valid port`);
  return port;
};

interface ParsedEntry {
  endpoint: RedisEndpoint;
  auth: RedisAuth;
  /** Whether the entry said anything about credentials or TLS (a plain host:port does not). */
  explicit: boolean;
}

/** One list entry: `host:port`, `[ipv6]:port`, or `redis://[user:password@]host:port` / `rediss://…`. */
const parseEntry = (raw: string, shown: string): ParsedEntry => {
  const entry = raw.trim();
  if (entry === '') throw new Error('an entry is empty');
  if (/^rediss?:\/\//.test(entry)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new Error(`"${shown}" is not a valid URL`);
    }
    if (url.hostname === '' || url.port === '') throw new Error(`"${shown}" needs host:port`);
    if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '')
      throw new Error(`"${shown}" must be scheme://[user:password@]host:port with nothing after the port`);
    const username = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    return {
      endpoint: { host: url.hostname.replace(/^\[|\]$/g, ''), port: portOf(url.port, shown) },
      auth: {
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        tls: url.protocol === 'rediss:',
      },
      explicit: true,
    };
  }
  const match = HOST_PORT.exec(entry);
  if (match === null) throw new Error(`"${shown}" is not host:port or a redis:// / rediss:// URL`);
  return {
    endpoint: { host: match[1] ?? match[2]!, port: portOf(match[3]!, shown) },
    auth: { tls: false },
    explicit: false,
  };
};

const sameAuth = (a: RedisAuth, b: RedisAuth) =>
  a.username === b.username && a.password === b.password && a.tls === b.tls;

/**
 * A comma-separated list of nodes; throws an Error that names what is wrong (never a password).
 * Credentials and TLS apply to every node, so the entries that state them must agree.
 */
export const parseNodeList = (list: string): { endpoints: RedisEndpoint[]; auth: RedisAuth } => {
  const entries = list.split(',');
  const parsed = entries.map((entry) => parseEntry(entry, redactCredentials(entry.trim())));
  const explicit = parsed.filter((p) => p.explicit);
  const auth = explicit[0]?.auth ?? { tls: false };
  if (explicit.some((p) => !sameAuth(p.auth, auth)))
    throw new Error('the entries disagree on credentials or TLS; give every node the same ones');
  const seen = new Set<string>();
  for (const { endpoint } of parsed) {
    const key = `${endpoint.host}:${endpoint.port}`;
    if (seen.has(key)) throw new Error(`${key} is listed twice`);
    seen.add(key);
  }
  return { endpoints: parsed.map((p) => p.endpoint), auth };
};

/** Where a topology lives, for a log line (credentials left out). */
export const describeTopology = (topology: RedisTopology): string => {
  switch (topology.kind) {
    case 'single':
      return redactCredentials(topology.url);
    case 'sentinel':
      return `sentinel ${topology.masterName} via ${topology.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
    case 'cluster':
      return `cluster via ${topology.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
};

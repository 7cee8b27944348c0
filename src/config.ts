import { z } from 'zod';
import { parseEventStoreUrl } from './eventstore/index.js';
import { redactMessage } from './redact/index.js';
import { parseNodeList, type ReadFrom, type RedisTopology } from './redis/index.js';

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be 0–65535')
  .max(65535, 'must be 0–65535');

const positiveMs = z.coerce
  .number({ error: 'must be a number' })
  .int('must be whole milliseconds')
  .min(0)
  .max(600_000);

const nodeList = z.string().superRefine((list, ctx) => {
  try {
    parseNodeList(list);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const configSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  EVENTSTORE_URL: z
    .string()
    .default('sqlite:./data/events.sqlite')
    .superRefine((url, ctx) => {
      try {
        parseEventStoreUrl(url);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be redis://host:port or rediss://host:port')
    .refine((url) => URL.canParse(url) && new URL(url).hostname !== '', 'must be redis://host:port')
    .optional(),
  REDIS_CLUSTER_NODES: nodeList.optional(),
  REDIS_SENTINELS: nodeList.optional(),
  REDIS_SENTINEL_MASTER: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be the master name the sentinels monitor ([A-Za-z0-9_.-])')
    .optional(),
  REDIS_READ_FROM: z.enum(['primary', 'replica'], { error: 'must be primary or replica' }).default('primary'),
  // Braces would change the {projection} hash tag that keeps one projection in one Cluster slot.
  REDIS_PREFIX: z
    .string()
    .min(1)
    .max(100)
    .refine(
      (prefix) => !/[{}]/.test(prefix),
      'must not contain { or } (they would change Redis Cluster hash slots)',
    )
    .default('sluice:'),
  ROLE: z.enum(['all', 'api', 'projector'], { error: 'must be all, api or projector' }).default('all'),
  // Whitespace could never be sent back in a Bearer header, nor non-ASCII by most clients (curl sends
  // UTF-8, Node's fetch Latin-1); a short token is guessed.
  ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .refine((token) => !/\s/.test(token), 'must not contain whitespace')
    .refine((token) => /^[\x21-\x7E]*$/.test(token), 'must be printable ASCII characters')
    .optional(),
  CONSISTENCY_TIMEOUT_MS: positiveMs.default(2000),
  // "order-view=2000,daily-revenue=60000": the lag each named projection accepts, over its definition's.
  ACCEPTABLE_LAG_MS: z
    .string()
    .transform((list, ctx) => {
      const lags: Record<string, number> = {};
      for (const entry of list
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)) {
        const match = /^([A-Za-z0-9_.-]{1,100})=(\d{1,9})$/.exec(entry);
        if (match === null) {
          ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not <projection>=<ms>` });
          return z.NEVER;
        }
        lags[match[1]!] = Number(match[2]);
      }
      return lags;
    })
    .optional(),
  LIVE_HEARTBEAT_MS: positiveMs.refine((ms) => ms >= 100, 'must be at least 100 ms').default(15_000),
  PROJECTION_LEASE_TTL_MS: positiveMs.refine((ms) => ms >= 500, 'must be at least 500 ms').default(5000),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be fatal, error, warn, info, debug, trace or silent',
    })
    .default('info'),
});

export interface Config {
  port: number;
  host: string;
  eventStoreUrl: string;
  /** Undefined when no Redis variable is set: start-up may launch a local redis-server. */
  redis: RedisTopology | undefined;
  redisReadFrom: ReadFrom;
  redisPrefix: string;
  role: 'all' | 'api' | 'projector';
  adminToken: string | undefined;
  consistencyTimeoutMs: number;
  /** ACCEPTABLE_LAG_MS: projection name → the lag it accepts (ms), over its definition's. */
  acceptableLagMs: Record<string, number>;
  /** A live query (server-sent events) writes a comment at least this often. */
  liveHeartbeatMs: number;
  /** How long a projection lease lives without renewal: a standby takes over within it. */
  projectionLeaseTtlMs: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Variables whose value is a secret as a whole: a message names them, never their value. */
const SECRET_VARIABLES = new Set(['ADMIN_TOKEN']);

/**
 * One line naming the variable and what is wrong; credentials in the value are never echoed, neither in
 * the quoted value nor in a message that repeats part of it.
 */
const invalid = (variable: string, env: NodeJS.ProcessEnv, message: string): ConfigError => {
  const value = env[variable] ?? '';
  if (SECRET_VARIABLES.has(variable)) return new ConfigError(`invalid ${variable}: ${message}`);
  return new ConfigError(
    `invalid ${variable}=${JSON.stringify(redactMessage(value, value))}: ${redactMessage(message, value)}`,
  );
};

type ParsedConfig = z.infer<typeof configSchema>;

/** REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES are alternatives: at most one of them. */
const redisTopology = (c: ParsedConfig, env: NodeJS.ProcessEnv): RedisTopology | undefined => {
  const set = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter(
    (name) => c[name] !== undefined,
  );
  if (set.length > 1)
    throw invalid(
      set[1]!,
      env,
      `${set[0]} is set too; set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES`,
    );
  if (c.REDIS_SENTINELS !== undefined && c.REDIS_SENTINEL_MASTER === undefined)
    throw invalid(
      'REDIS_SENTINEL_MASTER',
      env,
      'must name the master the sentinels monitor (REDIS_SENTINELS is set)',
    );
  if (c.REDIS_SENTINEL_MASTER !== undefined && c.REDIS_SENTINELS === undefined)
    throw invalid('REDIS_SENTINEL_MASTER', env, 'needs REDIS_SENTINELS (the sentinels to ask)');
  if (c.REDIS_URL !== undefined) return { kind: 'single', url: c.REDIS_URL };
  if (c.REDIS_SENTINELS !== undefined) {
    const { endpoints, auth } = parseNodeList(c.REDIS_SENTINELS);
    return { kind: 'sentinel', sentinels: endpoints, masterName: c.REDIS_SENTINEL_MASTER!, auth };
  }
  if (c.REDIS_CLUSTER_NODES !== undefined) {
    const { endpoints, auth } = parseNodeList(c.REDIS_CLUSTER_NODES);
    return { kind: 'cluster', nodes: endpoints, auth };
  }
  return undefined;
};

/** Reads the environment; a bad variable throws one ConfigError line naming it. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(String(issue.path[0]), env, issue.message);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    eventStoreUrl: c.EVENTSTORE_URL,
    redis: redisTopology(c, env),
    redisReadFrom: c.REDIS_READ_FROM,
    redisPrefix: c.REDIS_PREFIX,
    role: c.ROLE,
    adminToken: c.ADMIN_TOKEN,
    consistencyTimeoutMs: c.CONSISTENCY_TIMEOUT_MS,
    acceptableLagMs: c.ACCEPTABLE_LAG_MS ?? {},
    liveHeartbeatMs: c.LIVE_HEARTBEAT_MS,
    projectionLeaseTtlMs: c.PROJECTION_LEASE_TTL_MS,
    logLevel: c.LOG_LEVEL,
  };
};

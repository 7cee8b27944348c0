import { z } from 'zod';
import { parseEventStoreUrl } from './eventstore/from-url';

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
    .optional(),
  REDIS_PREFIX: z.string().min(1).max(100).default('sluice:'),
  ROLE: z.enum(['all', 'api', 'projector'], { error: 'must be all, api or projector' }).default('all'),
  ADMIN_TOKEN: z.string().min(1).optional(),
  CONSISTENCY_TIMEOUT_MS: positiveMs.default(2000),
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
  /** Undefined when REDIS_URL is not set: start-up may launch a local redis-server. */
  redisUrl: string | undefined;
  redisPrefix: string;
  role: 'all' | 'api' | 'projector';
  adminToken: string | undefined;
  consistencyTimeoutMs: number;
  /** How long a projection lease lives without renewal: a standby takes over within it. */
  projectionLeaseTtlMs: number;
  logLevel: string;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads the environment; a bad variable throws one ConfigError line naming it. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw new ConfigError(`invalid ${variable}=${JSON.stringify(env[variable] ?? '')}: ${issue.message}`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    eventStoreUrl: c.EVENTSTORE_URL,
    redisUrl: c.REDIS_URL,
    redisPrefix: c.REDIS_PREFIX,
    role: c.ROLE,
    adminToken: c.ADMIN_TOKEN,
    consistencyTimeoutMs: c.CONSISTENCY_TIMEOUT_MS,
    projectionLeaseTtlMs: c.PROJECTION_LEASE_TTL_MS,
    logLevel: c.LOG_LEVEL,
  };
};

import type { Redis, RedisNode } from './redis.js';

/** What one primary says of itself. */
export interface NodeFacts {
  address: string;
  /** `maxmemory-policy`; undefined when neither CONFIG GET nor INFO tells it. */
  evictionPolicy: string | undefined;
  /** `redis_version`, when INFO answers. */
  version: string | undefined;
}

/** Redis 7.0 brought flagged scripts (out-of-memory handling) and sharded pub/sub; older ones are refused. */
export const MIN_REDIS_MAJOR = 7;

const infoField = (info: string, field: string): string | undefined =>
  new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();

const textOf = (reply: unknown): string =>
  Buffer.isBuffer(reply) ? reply.toString() : typeof reply === 'string' ? reply : '';

/** CONFIG GET first; a managed Redis that disables CONFIG still tells the policy in INFO memory. */
const factsOf = async (node: RedisNode): Promise<NodeFacts> => {
  let evictionPolicy: string | undefined;
  try {
    const reply = (await node.send(['CONFIG', 'GET', 'maxmemory-policy'])) as unknown[];
    evictionPolicy = reply.length >= 2 ? textOf(reply[1]) : undefined;
  } catch {
    // CONFIG is disabled or renamed: INFO below
  }
  let version: string | undefined;
  try {
    const info = textOf(await node.send(['INFO', 'server']));
    version = infoField(info, 'redis_version');
    if (evictionPolicy === undefined)
      evictionPolicy = infoField(textOf(await node.send(['INFO', 'memory'])), 'maxmemory_policy');
  } catch {
    // INFO is disabled too: unknown
  }
  return { address: node.address, evictionPolicy, version };
};

export const readNodeFacts = async (redis: Redis): Promise<NodeFacts[]> =>
  Promise.all((await redis.primaries()).map(factsOf));

/**
 * Why the read model would be unsafe on these nodes, or undefined. A policy other than `noeviction` lets
 * Redis delete read models and checkpoints under memory pressure, silently.
 */
export const evictionProblem = (facts: NodeFacts[]): string | undefined => {
  const evicting = facts.find((f) => f.evictionPolicy !== undefined && f.evictionPolicy !== 'noeviction');
  if (evicting === undefined) return undefined;
  return (
    `Redis at ${evicting.address} has maxmemory-policy ${evicting.evictionPolicy}: it may evict read models ` +
    'and checkpoints; set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf)'
  );
};

export const versionProblem = (facts: NodeFacts[]): string | undefined => {
  const old = facts.find((f) => f.version !== undefined && Number(f.version.split('.')[0]) < MIN_REDIS_MAJOR);
  return old === undefined
    ? undefined
    : `Redis at ${old.address} is ${old.version}; Sluice needs Redis ${MIN_REDIS_MAJOR}.0 or newer`;
};

export const unknownPolicyNodes = (facts: NodeFacts[]): string[] =>
  facts.filter((f) => f.evictionPolicy === undefined).map((f) => f.address);

/** How often a running service looks at the policy again (someone may change it with CONFIG SET). */
const WATCH_EVERY_MS = 1000;

/**
 * Keeps an eye on the eviction policy while the service runs: projectors ask `problem` before each batch and
 * stop applying while the policy would let Redis evict what they write.
 */
export class EvictionPolicyWatch {
  private current: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly onChange?: (problem: string | undefined) => void,
  ) {}

  get problem(): string | undefined {
    return this.current;
  }

  /** Looks now, then every few seconds (`everyMs`). */
  async start(everyMs = WATCH_EVERY_MS): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async check(): Promise<void> {
    let problem: string | undefined;
    try {
      problem = evictionProblem(await readNodeFacts(this.redis));
    } catch {
      return; // Redis is down: nothing to learn now; the projectors report that themselves
    }
    if (problem !== this.current) {
      this.current = problem;
      this.onChange?.(problem);
    }
  }
}

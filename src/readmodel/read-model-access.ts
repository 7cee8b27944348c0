import type { Redis, RedisCommands } from '../redis/index.js';
import type { ReadModelKeys } from './keys.js';
import type { NotificationHub } from './notification-hub.js';
import { type Consistency, ReadRequest } from './read-request.js';

type GenerationKeys = ReturnType<ReadModelKeys['generation']>;

/** How long a cached active generation is trusted without a notification (a missed flip heals by then). */
const GENERATION_CACHE_MS = 1000;

/**
 * The query side's view of the read model: which generation of each projection is active (cached,
 * refreshed by flip notifications), and one ReadRequest per query.
 */
export class ReadModelAccess {
  private readonly generations = new Map<string, { generation: number; at: number }>();

  constructor(
    readonly redis: Redis,
    readonly keys: ReadModelKeys,
    readonly hub: NotificationHub,
  ) {
    hub.listen((notification) => {
      if (notification.kind === 'flipped') this.remember(notification.projection, notification.generation);
      if (notification.kind === 'untrusted')
        this.learnTrust(notification.projection, notification.generation, false);
    });
  }

  /** Called when notifications may have been missed. */
  forgetGenerations(): void {
    this.generations.clear();
    this.trustedAt.clear();
    this.untrusted.clear();
  }

  /** Per projection: the generation a check last found without a fault mark, and when. */
  private readonly trustedAt = new Map<string, { generation: number; at: number }>();
  /** Generations (`projection/generation`) seen marked: never trusted again here (a lagging replica may not show it yet). */
  private readonly untrusted = new Set<string>();

  /** What a check read of a generation's fault mark, or an `untrusted` notification. */
  learnTrust(projection: string, generation: number, trusted: boolean): void {
    const key = `${projection}/${generation}`;
    if (!trusted) {
      this.untrusted.add(key);
      if (this.trustedAt.get(projection)?.generation === generation) this.trustedAt.delete(projection);
    } else if (!this.untrusted.has(key)) {
      this.trustedAt.set(projection, { generation, at: Date.now() });
    }
  }

  /** Whether a fault mark a check read says the generation is trusted (none), remembered (see `trusts`). */
  trustedBy(projection: string, generation: number, fault: string | null | undefined): boolean {
    const trusted = fault === null || fault === undefined;
    this.learnTrust(projection, generation, trusted);
    return trusted;
  }

  /**
   * True when a check found `generation` without a fault mark within the last second and no mark was heard of
   * since (the mark's notification arrives at once; a missed one, like a missed flip, heals within the second).
   */
  trusts(projection: string, generation: number): boolean {
    const seen = this.trustedAt.get(projection);
    return seen !== undefined && seen.generation === generation && Date.now() - seen.at < GENERATION_CACHE_MS;
  }

  private readonly keysOf = new Map<string, { generation: number; keys: GenerationKeys; active: string }>();

  /** A projection's active-pointer key and one generation's keys, made once per generation (every read uses them). */
  generationKeys(projection: string, generation: number): { keys: GenerationKeys; active: string } {
    let known = this.keysOf.get(projection);
    if (known === undefined || known.generation !== generation) {
      known = {
        generation,
        keys: this.keys.generation(projection, generation),
        active: this.keys.active(projection),
      };
      this.keysOf.set(projection, known);
    }
    return known;
  }

  remember(projection: string, generation: number): void {
    this.generations.set(projection, { generation, at: Date.now() });
  }

  /** The active generation if recently known, without asking Redis. */
  knownGeneration(projection: string): number | undefined {
    const cached = this.generations.get(projection);
    return cached && Date.now() - cached.at < GENERATION_CACHE_MS ? cached.generation : undefined;
  }

  /** The active generation, read from `redis` (the request's connection) unless recently known. */
  async activeGeneration(projection: string, redis: RedisCommands): Promise<number> {
    const known = this.knownGeneration(projection);
    if (known !== undefined) return known;
    const active = await redis.get(this.keys.active(projection));
    const generation = active === null ? 1 : Number(active);
    this.remember(projection, generation);
    return generation;
  }

  /** One query's reads: each projection read through one connection, waits checked on that connection. */
  request(): ReadRequest {
    return new ReadRequest(this);
  }

  /** Waits until every listed projection has processed `position`, or the timeout. */
  waitForPosition(projections: string[], position: bigint, timeoutMs: number): Promise<Consistency> {
    return this.request().waitFor(new Map(projections.map((p) => [p, { position }])), timeoutMs);
  }

  /** Waits until a projection has applied `stream` up to `revision`, or the timeout. */
  waitForStreamVersion(
    projection: string,
    stream: string,
    revision: bigint,
    timeoutMs: number,
  ): Promise<Consistency> {
    return this.request().waitFor(new Map([[projection, { stream: { name: stream, revision } }]]), timeoutMs);
  }
}

import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../eventstore';
import {
  builtByVersion,
  ensureActiveGeneration,
  rebuildingGeneration,
  requestRebuild,
  unlinkGeneration,
} from './generations';
import type { ReadModelKeys } from './keys';
import { Lease } from './lease';
import type { Projection } from './projection';
import { Projector } from './projector';
import { claimRebuild, flipToRebuilt, leftoverGenerations, UNLINK_GRACE_MS } from './rebuild';
import type { RedisClient } from './redis';

export interface ProjectionRunnerOptions {
  projection: Projection;
  store: EventStore;
  redis: RedisClient;
  keys: ReadModelKeys;
  upcast?: (event: RecordedEvent) => RecordedEvent;
  leaseTtlMs?: number;
  batchSize?: number;
  /** How long an old generation outlives a flip before it is unlinked (default UNLINK_GRACE_MS). */
  unlinkGraceMs?: number;
  log?: Logger;
}

/** Pause before asking again to flip when the rebuilt generation was a batch behind the active one. */
const FLIP_RETRY_MS = 25;

/**
 * Runs one projection in this process while it holds the projection's lease: the active generation's
 * projector, and a rebuild projector beside it when a rebuild is asked for (by anyone: the request is a key
 * in Redis, looked at on every tick). Without the lease it stands by and tries again on every tick, so it
 * takes over within the lease time when the holder dies, and resumes a rebuild that holder left half done.
 */
export class ProjectionRunner {
  private readonly lease: Lease;
  private main: Projector | undefined;
  private rebuild: Projector | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private flipping: Promise<void> | undefined;
  private readonly pending = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.lease = new Lease(
      options.redis,
      options.keys.lease(options.projection.name),
      options.leaseTtlMs ?? 5000,
    );
  }

  get name(): string {
    return this.options.projection.name;
  }

  get holdsLease(): boolean {
    return this.lease.held;
  }

  get projectors(): { main?: Projector; rebuild?: Projector } {
    return { ...(this.main ? { main: this.main } : {}), ...(this.rebuild ? { rebuild: this.rebuild } : {}) };
  }

  start(): this {
    const tickEvery = Math.max(50, Math.floor(this.lease.ttlMs / 5));
    const tick = () => {
      this.ticking = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, tickEvery);
      });
    };
    tick();
    return this;
  }

  /** Stops after the batches in hand and releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // An unlink not done yet is found again by the next holder (leftoverGenerations).
    for (const timer of this.pending) clearTimeout(timer);
    await this.ticking;
    await this.flipping;
    await this.stopProjectors();
    if (this.lease.held) await this.options.redis.del(this.options.keys.state(this.name)).catch(() => 0);
    await this.lease.release().catch(() => {});
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const held = await this.lease.acquireOrRenew();
      if (!held) {
        if (this.main || this.rebuild) this.options.log?.warn({ projection: this.name }, 'lease lost');
        await this.stopProjectors();
        return;
      }
      if (this.main?.finished) this.main = undefined; // it stopped itself (lease lost and since regained)
      if (this.rebuild?.finished) this.rebuild = undefined;
      if (this.main === undefined) await this.startMain();
      if (this.rebuild === undefined) await this.startRebuildIfAsked();
      else if (this.rebuild.status === 'running') void this.tryFlip(); // a flip that was refused earlier
      await this.publishState();
    } catch (error) {
      // Redis down: projectors retry by themselves; the lease is renewed or lost on a later tick.
      this.options.log?.debug({ projection: this.name, err: error }, 'lease tick failed');
    }
  }

  /** Lets any process (admin API, metrics) see how the projection runs here. */
  private async publishState(): Promise<void> {
    const { redis, keys } = this.options;
    const main = this.main;
    if (main === undefined) return;
    const key = keys.state(this.name);
    await redis
      .multi()
      .hSet(key, {
        status: main.status,
        generation: String(main.generation),
        lastError: main.stats.lastError ?? '',
        at: String(Date.now()),
      })
      .pExpire(key, this.lease.ttlMs * 2)
      .exec();
  }

  private projector(generation: number, onCaughtUp?: () => void): Projector {
    const { projection, store, redis, keys, upcast, batchSize, log } = this.options;
    return new Projector({
      projection,
      generation,
      store,
      redis,
      keys,
      leaseToken: () => this.lease.token,
      ...(upcast ? { upcast } : {}),
      ...(batchSize ? { batchSize } : {}),
      ...(log ? { log } : {}),
      ...(onCaughtUp ? { onCaughtUp } : {}),
      onLeaseLost: () => this.lease.drop(),
    }).start();
  }

  /**
   * Runs the active generation. When it was built by an older version of the projection, a rebuild is
   * asked for; meanwhile the active generation keeps following new events with this code, so queries keep
   * being served (from a model that is about to be replaced anyway).
   */
  private async startMain(): Promise<void> {
    const { projection, redis, keys, log } = this.options;
    const active = await ensureActiveGeneration(redis, keys, projection.name, projection.version);
    this.main = this.projector(active);
    log?.info({ projection: projection.name, generation: active }, 'projector started');
    for (const leftover of await leftoverGenerations(redis, keys, projection.name, active)) {
      this.unlinkAfterGrace(leftover);
    }
    const builtBy = (await builtByVersion(redis, keys, projection.name, active)) ?? projection.version;
    // Only a newer version rebuilds: an older process in a rolling deploy must not undo a newer model.
    if (builtBy < projection.version) {
      const generation = await requestRebuild(redis, keys, projection.name);
      log?.info(
        { projection: projection.name, from: builtBy, to: projection.version, generation },
        'projection version changed in code: rebuilding',
      );
    }
  }

  private async startRebuildIfAsked(): Promise<void> {
    const { projection, redis, keys, log } = this.options;
    const generation = await rebuildingGeneration(redis, keys, projection.name);
    if (generation === undefined || this.main === undefined) return;
    const claim = await claimRebuild(redis, keys, projection.name, generation, projection.version);
    if (claim === 'left-for-newer') {
      log?.debug(
        { projection: projection.name, generation },
        'rebuild belongs to a newer version; left to it',
      );
      return;
    }
    log?.info({ projection: projection.name, generation, claim }, 'rebuild started');
    this.rebuild = this.projector(generation, () => void this.tryFlip());
  }

  /** One flip attempt at a time; the caught-up mark, the retry timer and the tick all come through here. */
  private tryFlip(): Promise<void> {
    this.flipping ??= this.flip().finally(() => {
      this.flipping = undefined;
    });
    return this.flipping;
  }

  /** The rebuilt generation caught up: make it the active one in one step, then drop the old one. */
  private async flip(): Promise<void> {
    const rebuild = this.rebuild;
    const main = this.main;
    if (rebuild === undefined || main === undefined || rebuild.finished || this.stopped) return;
    const { projection, redis, keys, log } = this.options;
    const request = {
      projection: projection.name,
      version: projection.version,
      from: main.generation,
      to: rebuild.generation,
      leaseToken: this.lease.token,
    };
    const outcome = await flipToRebuilt(redis, keys, request).catch((error: unknown) => {
      log?.warn({ projection: projection.name, err: error }, 'flip failed; the next tick tries again');
      return undefined;
    });
    if (outcome === 'BEHIND') return this.later(FLIP_RETRY_MS, () => void this.tryFlip());
    if (outcome !== 'FLIPPED') {
      // STALE_LEASE: the tick stops everything. Otherwise another holder changed the pointers: start over.
      if (outcome === 'NOT_REBUILDING' || outcome === 'ACTIVE_MOVED') await this.stopProjectors();
      if (outcome !== undefined) log?.warn({ projection: projection.name, outcome }, 'flip refused');
      return;
    }
    this.main = rebuild;
    this.rebuild = undefined;
    log?.info(
      { projection: projection.name, generation: request.to, previous: request.from },
      'rebuild caught up: generation flipped',
    );
    await main.stop();
    await this.publishState().catch(() => {});
    this.unlinkAfterGrace(request.from);
  }

  private unlinkAfterGrace(generation: number): void {
    const { projection, redis, keys, log } = this.options;
    this.later(this.options.unlinkGraceMs ?? UNLINK_GRACE_MS, async () => {
      try {
        const unlinked = await unlinkGeneration(redis, keys, projection.name, generation);
        log?.info({ projection: projection.name, generation, unlinked }, 'old generation unlinked');
      } catch (error) {
        log?.warn({ projection: projection.name, generation, err: error }, 'unlinking a generation failed');
      }
    });
  }

  /** A timer that stop() clears. */
  private later(ms: number, run: () => void | Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      void run();
    }, ms);
    this.pending.add(timer);
  }

  private async stopProjectors(): Promise<void> {
    const running = [this.main, this.rebuild];
    this.main = undefined;
    this.rebuild = undefined;
    await Promise.all(running.map((projector) => projector?.stop()));
  }
}

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
import { encodeNotification } from './notifications';
import type { Projection } from './projection';
import { Projector } from './projector';
import type { RedisClient } from './redis';
import { flipGenerationScript, runScript } from './scripts';

export interface ProjectionRunnerOptions {
  projection: Projection;
  store: EventStore;
  redis: RedisClient;
  keys: ReadModelKeys;
  upcast?: (event: RecordedEvent) => RecordedEvent;
  leaseTtlMs?: number;
  batchSize?: number;
  log?: Logger;
}

/**
 * Runs one projection in this process while it holds the projection's lease: the active generation's
 * projector, and a rebuild projector beside it when a rebuild is asked for. Without the lease it stands by
 * and tries again on every tick, so it takes over within the lease time when the holder dies.
 */
export class ProjectionRunner {
  private readonly lease: Lease;
  private main: Projector | undefined;
  private rebuild: Projector | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
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
    await this.ticking;
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

  private async startMain(): Promise<void> {
    const { projection, redis, keys } = this.options;
    const active = await ensureActiveGeneration(redis, keys, projection.name, projection.version);
    this.main = this.projector(active);
    this.options.log?.info({ projection: projection.name, generation: active }, 'projector started');
    void this.unlinkOlderGenerations(active);
    const builtBy = await builtByVersion(redis, keys, projection.name, active);
    if (
      builtBy !== projection.version &&
      (await rebuildingGeneration(redis, keys, projection.name)) === undefined
    ) {
      const generation = await requestRebuild(redis, keys, projection.name);
      this.options.log?.info(
        { projection: projection.name, from: builtBy, to: projection.version, generation },
        'projection version changed in code: rebuilding',
      );
    }
  }

  private async startRebuildIfAsked(): Promise<void> {
    const generation = await rebuildingGeneration(this.options.redis, this.options.keys, this.name);
    if (generation === undefined) return;
    this.options.log?.info({ projection: this.name, generation }, 'rebuild started');
    const rebuild = this.projector(generation, () => void this.flipTo(rebuild));
    this.rebuild = rebuild;
  }

  /** The rebuilt generation caught up: make it the active one in one step, then drop the old one. */
  private async flipTo(rebuild: Projector): Promise<void> {
    if (this.rebuild !== rebuild) return;
    const { projection, redis, keys, log } = this.options;
    const generation = rebuild.generation;
    await redis.hSet(keys.versions(projection.name), `g${generation}`, String(projection.version));
    const previous = await runScript(
      redis,
      flipGenerationScript,
      [keys.lease(projection.name), keys.rebuilding(projection.name), keys.active(projection.name)],
      [
        this.lease.token,
        String(generation),
        keys.notifications,
        encodeNotification({ kind: 'flipped', projection: projection.name, generation }),
      ],
    ).catch((error: unknown) => {
      log?.error({ projection: projection.name, err: error }, 'flip failed; rebuild keeps running');
      return undefined;
    });
    if (previous === undefined) return;
    const old = this.main;
    this.main = rebuild;
    this.rebuild = undefined;
    log?.info({ projection: projection.name, generation, previous }, 'rebuild caught up: generation flipped');
    await old?.stop();
    if (typeof previous === 'string' && previous !== '') {
      void unlinkGeneration(redis, keys, projection.name, Number(previous)).catch((error: unknown) =>
        log?.warn({ projection: projection.name, err: error }, 'unlinking the old generation failed'),
      );
    }
  }

  /** Leftovers of a process that died between a flip and its clean-up. */
  private async unlinkOlderGenerations(active: number): Promise<void> {
    const { redis, keys, projection } = this.options;
    for (let generation = 1; generation < active; generation++) {
      const leftover = await redis
        .exists(keys.generation(projection.name, generation).checkpoint)
        .catch(() => 0);
      if (leftover) await unlinkGeneration(redis, keys, projection.name, generation).catch(() => 0);
    }
  }

  private async stopProjectors(): Promise<void> {
    const running = [this.main, this.rebuild];
    this.main = undefined;
    this.rebuild = undefined;
    await Promise.all(running.map((projector) => projector?.stop()));
  }
}

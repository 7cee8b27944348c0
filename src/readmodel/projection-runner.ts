import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../eventstore';
import { type Redis, redisFailureCause } from '../redis';
import {
  builtByVersion,
  ensureActiveGeneration,
  rebuildingGeneration,
  requestRebuild,
  unlinkGeneration,
} from './generations';
import type { ReadModelKeys } from './keys';
import { Lease } from './lease';
import { replayDoneScript } from './parked';
import type { Projection } from './projection';
import { Projector, type ProjectorFailureCause, type ProjectorStatus, storeBehind } from './projector';
import { claimRebuild, flipToRebuilt, leftoverGenerations, UNLINK_GRACE_MS } from './rebuild';
import { markFaultScript, publishStateScript } from './scripts';
import { ReadModelStateLost, StoreBehindReadModel } from './untrusted';

export interface ProjectionRunnerOptions {
  projection: Projection;
  store: EventStore;
  redis: Redis;
  keys: ReadModelKeys;
  /** The projection's module's upcaster: every event reaches the handlers in its current shape. */
  upcast: (event: RecordedEvent) => RecordedEvent;
  leaseTtlMs?: number;
  batchSize?: number;
  /** How long an old generation outlives a flip before it is unlinked (default UNLINK_GRACE_MS). */
  unlinkGraceMs?: number;
  /** Why projectors must not apply now (see ProjectorOptions.guard). */
  guard?: () => string | undefined;
  /** Every failure of this projection's runner or projectors, with its cause (for a metric). */
  onFailure?: (cause: ProjectorFailureCause) => void;
  log?: Logger;
}

/** Pause before asking again to flip when the rebuilt generation was a batch behind the active one. */
const FLIP_RETRY_MS = 25;
/** A fault that lasts is logged again this often (with its cause), not on every tick. */
const FAULT_LOG_EVERY_MS = 30_000;

/** Why this runner cannot run its projection now (it cannot reach Redis, its state was lost…). */
export interface RunnerFault {
  cause: ProjectorFailureCause;
  message: string;
  since: number;
}

/**
 * Runs one projection in this process while it holds the projection's lease: the active generation's
 * projector, and a rebuild projector beside it when a rebuild is asked for (by anyone: the request is a key
 * in Redis, looked at on every tick). Without the lease it stands by and tries again on every tick, so it
 * takes over within the lease time when the holder dies, and resumes a rebuild that holder left half done.
 *
 * A tick that fails is a fault: logged with its cause, shown as `faulted` (here and, where Redis takes it,
 * in the projection's state hash that /admin/projections reads), and tried again on the next tick.
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
  private tickFault: RunnerFault | undefined;
  /** The replay of parked events this process is running for a request, if any. */
  private replaying: Promise<void> | undefined;
  private lastFaultLog = 0;

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

  /** What keeps the projection from running here now, if anything: a failing tick, a guard, a projector. */
  get fault(): RunnerFault | undefined {
    if (this.tickFault !== undefined) return this.tickFault;
    const paused = this.options.guard?.();
    if (paused !== undefined && this.main !== undefined)
      return { cause: 'guard', message: paused, since: Date.now() };
    for (const projector of [this.main, this.rebuild]) {
      if (projector?.status === 'faulted' || projector?.halted) {
        return {
          cause: projector.stats.lastErrorCause ?? 'other',
          message: projector.stats.lastError ?? 'faulted',
          since: Date.now(),
        };
      }
    }
    return undefined;
  }

  /** The status this process would publish for the projection (undefined while it does not run it). */
  get status(): ProjectorStatus | undefined {
    if (this.fault !== undefined) return 'faulted';
    return this.main?.status;
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
    if (this.lease.held)
      await this.options.redis.primary.del(this.options.keys.state(this.name)).catch(() => 0);
    await this.lease.release().catch(() => {});
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const held = await this.lease.acquireOrRenew();
      if (!held) {
        if (this.main || this.rebuild) this.options.log?.warn({ projection: this.name }, 'lease lost');
        await this.stopProjectors();
        this.recovered();
        return;
      }
      // A projector that stopped itself (lease lost and since regained) is started again; a halted one
      // (its checkpoint was lost) stays until a rebuild replaces its generation.
      if (this.main?.finished && !this.main.halted) this.main = undefined;
      if (this.rebuild?.finished) this.rebuild = undefined;
      if (this.main === undefined) await this.startMain();
      else await this.followRedis();
      await this.serveReplayRequest();
      if (this.rebuild === undefined) await this.startRebuildIfAsked();
      else if (this.rebuild.status === 'running') void this.tryFlip(); // a flip that was refused earlier
      this.recovered();
      await this.publishState();
    } catch (error) {
      this.faulted(error);
      await this.publishState().catch(() => {}); // where Redis still takes it (out of memory, say)
    }
  }

  /**
   * Redis holds the truth of which generation is active: a failover or a restore can take a flip back, or
   * lose the pointer. A running main on another generation than Redis's active one is stopped (the next
   * tick starts the right one); a missing pointer is reported as lost, never recreated as generation 1.
   */
  private async followRedis(): Promise<void> {
    const { projection, redis, keys, log } = this.options;
    const main = this.main;
    if (main === undefined || this.flipping !== undefined) return;
    const active = await redis.primary.get(keys.active(projection.name));
    if (this.flipping !== undefined || this.main !== main) return; // a flip began meanwhile: it decides
    if (active === null) {
      throw new ReadModelStateLost(
        `${projection.name}: the active-generation pointer is missing while generation ${main.generation} runs ` +
          '(evicted or deleted?); rebuild the projection',
      );
    }
    if (Number(active) !== main.generation) {
      log?.warn(
        { projection: projection.name, running: main.generation, active: Number(active) },
        'the active generation in Redis is not the one running here (a failover or restore took a flip back?); restarting on it',
      );
      await this.stopProjectors();
      return;
    }
    // The store went back (reset, restored from a backup): events the generation applied are gone from it.
    // The position is read before the head, so an event applied meanwhile cannot look like one past it.
    const applied = main.stats.eventPosition;
    if (applied === undefined || main.halted) return;
    const head = await this.options.store.headPosition();
    if (applied > head) {
      await main.halt(new StoreBehindReadModel(storeBehind(projection.name, main.generation, applied, head)));
    }
  }

  /** A replay asked for (admin API, CLI) runs in the main projector's loop; its outcome answers the asker. */
  private async serveReplayRequest(): Promise<void> {
    const { projection, redis, keys, log } = this.options;
    const main = this.main;
    if (main === undefined || main.finished || this.replaying !== undefined) return;
    const generationKeys = keys.generation(projection.name, main.generation);
    const id = await redis.primary.get(generationKeys.replayRequest);
    if (id === null) return;
    this.replaying = (async () => {
      try {
        const outcome = await main.replayParked();
        await redis.runScript(
          replayDoneScript,
          [keys.lease(projection.name), generationKeys.replayRequest, generationKeys.replayResult(id)],
          [this.lease.token, id, String(outcome.replayed), String(outcome.failed), String(outcome.remaining)],
        );
        log?.info(
          { projection: projection.name, generation: main.generation, ...outcome },
          'parked events replayed',
        );
      } catch (error) {
        log?.warn(
          { projection: projection.name, err: error },
          'replaying parked events failed; the request stays',
        );
      }
    })().finally(() => {
      this.replaying = undefined;
    });
  }

  /** A tick failed: remember why, log it (once per cause, then every 30 s), count it. */
  private faulted(error: unknown): void {
    const cause: ProjectorFailureCause =
      error instanceof ReadModelStateLost ? 'lost-state' : redisFailureCause(error);
    const message = error instanceof Error ? error.message : String(error);
    const changed = this.tickFault?.message !== message;
    this.tickFault = { cause, message, since: changed ? Date.now() : this.tickFault!.since };
    this.options.onFailure?.(cause);
    if (changed || Date.now() - this.lastFaultLog >= FAULT_LOG_EVERY_MS) {
      this.lastFaultLog = Date.now();
      this.options.log?.error(
        { projection: this.name, cause, err: error },
        'projection cannot run: its runner failed; trying again',
      );
    }
  }

  private recovered(): void {
    if (this.tickFault === undefined) return;
    this.options.log?.info(
      { projection: this.name, after: this.tickFault.message },
      'projection runner recovered',
    );
    this.tickFault = undefined;
  }

  /** Lets any process (admin API, metrics) see how the projection runs here; runs even out of memory. */
  private async publishState(): Promise<void> {
    const { redis, keys } = this.options;
    if (!this.lease.held) return;
    const fault = this.fault;
    const main = this.main;
    const status = fault !== undefined ? 'faulted' : main?.status;
    if (status === undefined) return;
    await redis.runScript(
      publishStateScript,
      [keys.state(this.name)],
      [
        String(this.lease.ttlMs * 2),
        'status',
        status,
        'generation',
        String(main?.generation ?? ''),
        'lastError',
        fault?.message ?? main?.stats.lastError ?? '',
        'at',
        String(Date.now()),
      ],
    );
  }

  private projector(generation: number, onCaughtUp?: () => void): Projector {
    const { projection, store, redis, keys, upcast, batchSize, log, guard, onFailure } = this.options;
    return new Projector({
      projection,
      generation,
      store,
      redis,
      keys,
      leaseToken: () => this.lease.token,
      upcast,
      ...(batchSize ? { batchSize } : {}),
      ...(log ? { log } : {}),
      ...(onCaughtUp ? { onCaughtUp } : {}),
      ...(guard ? { guard } : {}),
      ...(onFailure ? { onFailure } : {}),
      onLeaseLost: () => this.lease.drop(),
      // Marked in Redis, so no read-your-writes wait answers fresh from it, in any process.
      onUntrusted: async (why) => {
        await redis.runScript(
          markFaultScript,
          [keys.lease(projection.name), keys.generation(projection.name, generation).checkpoint],
          [this.lease.token, why],
        );
      },
    }).start();
  }

  /**
   * Runs the active generation. When it was built by an older version of the projection, a rebuild is
   * asked for; meanwhile the active generation keeps following new events with this code, so queries keep
   * being served (from a model that is about to be replaced anyway). Every check comes before the projector
   * starts: a Redis error in one fails the tick, and the next tick does them all again.
   */
  private async startMain(): Promise<void> {
    const { projection, redis, keys, log } = this.options;
    const active = await ensureActiveGeneration(redis, keys, projection.name, projection.version);
    const leftovers = await leftoverGenerations(redis, keys, projection.name);
    const builtBy = (await builtByVersion(redis, keys, projection.name, active)) ?? projection.version;
    // Only a newer version rebuilds: an older process in a rolling deploy must not undo a newer model.
    if (builtBy < projection.version) {
      const generation = await requestRebuild(redis, keys, projection.name);
      log?.info(
        { projection: projection.name, from: builtBy, to: projection.version, generation },
        'projection version changed in code: rebuilding',
      );
    }
    this.main = this.projector(active);
    log?.info({ projection: projection.name, generation: active }, 'projector started');
    for (const leftover of leftovers) this.unlinkAfterGrace(leftover);
  }

  private async startRebuildIfAsked(): Promise<void> {
    const { projection, redis, keys, log } = this.options;
    const generation = await rebuildingGeneration(redis, keys, projection.name);
    if (generation === undefined || this.main === undefined) return;
    const claimed = await claimRebuild(redis, keys, projection.name, generation, projection.version);
    if (claimed.claim === 'left-for-newer') {
      log?.debug(
        { projection: projection.name, generation },
        'rebuild belongs to a newer version; left to it',
      );
      return;
    }
    log?.info({ projection: projection.name, ...claimed }, 'rebuild started');
    this.rebuild = this.projector(claimed.generation, () => void this.tryFlip());
    if (claimed.claim === 'restarted') this.unlinkAfterGrace(claimed.abandoned);
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

  /**
   * Deletes an old generation after the grace period, outside the lease tick, in bounded steps each fenced
   * by the lease; it stops when this runner stops or loses the lease, and the next holder finds the rest.
   */
  private unlinkAfterGrace(generation: number): void {
    const { projection, redis, keys, log } = this.options;
    this.later(this.options.unlinkGraceMs ?? UNLINK_GRACE_MS, async () => {
      try {
        const outcome = await unlinkGeneration(
          redis,
          keys,
          projection.name,
          generation,
          () => this.lease.token,
          () => this.stopped || !this.lease.held,
        );
        if (outcome.refused === undefined)
          log?.info({ projection: projection.name, generation, ...outcome }, 'old generation unlinked');
        else
          log?.warn(
            { projection: projection.name, generation, ...outcome },
            'unlinking an old generation stopped before the end',
          );
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

import {
  builtByVersion,
  ensureActiveGeneration,
  rebuildingGeneration,
  requestRebuild,
} from './generations.js';
import { Lease } from './lease.js';
import type { Projector } from './projector.js';
import type { ProjectorStatus } from './projector-options.js';
import { claimRebuild, flipToRebuilt, leftoverGenerations, UNLINK_GRACE_MS } from './rebuild.js';
import {
  checkRunningGeneration,
  type ProjectionRunnerOptions,
  publishState,
  type RunnerScope,
  serveReplayRequest,
  startProjector,
  Timers,
  unlinkOldGeneration,
} from './runner-chores.js';
import { type RunnerFault, TickFault } from './runner-fault.js';

export type { ProjectionRunnerOptions } from './runner-chores.js';
export type { RunnerFault } from './runner-fault.js';

/** Pause before asking again to flip when the rebuilt generation was a batch behind the active one. */
const FLIP_RETRY_MS = 25;

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
  private readonly timers = new Timers();
  private stopped = false;
  private readonly tickFault: TickFault;
  /** The replay of parked events this process is running for a request, if any. */
  private replaying: Promise<void> | undefined;
  private readonly scope: RunnerScope;

  constructor(private readonly options: ProjectionRunnerOptions) {
    const { projection, redis, keys, leaseTtlMs, onFailure, log } = options;
    this.lease = new Lease(redis, keys.lease(projection.name), leaseTtlMs ?? 5000);
    this.tickFault = new TickFault(projection.name, onFailure, log);
    this.scope = { projection: projection.name, redis, keys, lease: this.lease, ...(log ? { log } : {}) };
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
    if (this.tickFault.current !== undefined) return this.tickFault.current;
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
    this.timers.stop();
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
        this.tickFault.recovered();
        return;
      }
      // A projector that stopped itself (lease lost and since regained) is started again; a halted one
      // (its checkpoint was lost) stays until a rebuild replaces its generation.
      if (this.main?.finished && !this.main.halted) this.main = undefined;
      if (this.rebuild?.finished) this.rebuild = undefined;
      if (this.main === undefined) await this.startMain();
      else await this.followRedis();
      await this.serveReplay();
      if (this.rebuild === undefined) await this.startRebuildIfAsked();
      else if (this.rebuild.status === 'running') void this.tryFlip(); // a flip that was refused earlier
      this.tickFault.recovered();
      await this.publishState();
    } catch (error) {
      this.tickFault.failed(error);
      await this.publishState().catch(() => {}); // where Redis still takes it (out of memory, say)
    }
  }

  /** Redis holds the truth of which generation is active, and the store of which events exist. */
  private async followRedis(): Promise<void> {
    const main = this.main;
    if (main === undefined || this.flipping !== undefined) return;
    const verdict = await checkRunningGeneration(this.scope, this.options.store, main);
    if (verdict === 'restart' && this.flipping === undefined && this.main === main)
      await this.stopProjectors();
  }

  /** A replay asked for (admin API, CLI) runs in the main projector's loop; its outcome answers the asker. */
  private async serveReplay(): Promise<void> {
    const main = this.main;
    if (main === undefined || main.finished || this.replaying !== undefined) return;
    const replay = await serveReplayRequest(this.scope, main);
    this.replaying = replay?.done.finally(() => {
      this.replaying = undefined;
    });
  }

  private async publishState(): Promise<void> {
    if (!this.lease.held) return;
    const fault = this.fault;
    const main = this.main;
    const status = fault !== undefined ? 'faulted' : main?.status;
    if (status === undefined) return;
    const lastError = fault?.message ?? main?.stats.lastError;
    await publishState(this.scope, {
      status,
      ...(main ? { generation: main.generation } : {}),
      ...(lastError ? { lastError } : {}),
    });
  }

  private projector(generation: number, onCaughtUp?: () => void): Projector {
    return startProjector(this.options, this.lease, generation, onCaughtUp);
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

  /** Deletes an old generation after the grace period (runner-chores.ts). */
  private unlinkAfterGrace(generation: number): void {
    this.later(this.options.unlinkGraceMs ?? UNLINK_GRACE_MS, () =>
      unlinkOldGeneration(this.scope, generation, () => this.stopped || !this.lease.held),
    );
  }

  private later(ms: number, run: () => void | Promise<void>): void {
    if (!this.stopped) this.timers.later(ms, run);
  }

  private async stopProjectors(): Promise<void> {
    const running = [this.main, this.rebuild];
    this.main = undefined;
    this.rebuild = undefined;
    await Promise.all(running.map((projector) => projector?.stop()));
  }
}

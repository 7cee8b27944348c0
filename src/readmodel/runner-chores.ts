import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../eventstore/index.js';
import type { Redis } from '../redis/index.js';
import { unlinkGeneration } from './generations.js';
import { GENERATION_KEYS, type ReadModelKeys } from './keys.js';
import type { Lease } from './lease.js';
import { encodeNotification } from './notifications.js';
import { replayDoneScript } from './parked.js';
import type { Projection } from './projection.js';
import { Projector } from './projector.js';
import { type ProjectorFailureCause, type ProjectorStatus, storeBehind } from './projector-options.js';
import { markFaultScript, publishStateScript } from './scripts.js';
import { ReadModelStateLost, StoreBehindReadModel } from './untrusted.js';

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

/** What the chores of one projection's runner work on. */
export interface RunnerScope {
  projection: string;
  redis: Redis;
  keys: ReadModelKeys;
  lease: Lease;
  log?: Logger;
}

/** Timers that outlive a tick (flip retries, unlinks after the grace period); stop() clears them all. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private stopped = false;

  later(ms: number, run: () => void | Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      void run();
    }, ms);
    this.pending.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.pending) clearTimeout(timer);
  }
}

/** Lets any process (admin API, metrics) see how the projection runs here; runs even out of memory. */
export const publishState = async (
  { redis, keys, projection, lease }: RunnerScope,
  state: { status: ProjectorStatus; generation?: number; lastError?: string },
): Promise<void> => {
  await redis.runScript(
    publishStateScript,
    [keys.state(projection)],
    [
      String(lease.ttlMs * 2),
      'status',
      state.status,
      'generation',
      String(state.generation ?? ''),
      'lastError',
      state.lastError ?? '',
      'at',
      String(Date.now()),
    ],
  );
};

/**
 * Serves a replay of parked events asked for (admin API, CLI) when there is one: it runs in the main
 * projector's loop, and its outcome answers the asker. Gives the running replay (`done` settles when it is
 * over; wrapped, so the tick does not wait for it), or undefined when nothing was asked; a failure is logged
 * and leaves the request for the next tick.
 */
export const serveReplayRequest = async (
  { redis, keys, projection, lease, log }: RunnerScope,
  main: Projector,
): Promise<{ done: Promise<void> } | undefined> => {
  const generationKeys = keys.generation(projection, main.generation);
  const id = await redis.primary.get(generationKeys.replayRequest);
  if (id === null) return undefined;
  const done = (async () => {
    try {
      const outcome = await main.replayParked();
      await redis.runScript(
        replayDoneScript,
        [keys.lease(projection), generationKeys.replayRequest, generationKeys.replayResult(id)],
        [lease.token, id, String(outcome.replayed), String(outcome.failed), String(outcome.remaining)],
      );
      log?.info({ projection, generation: main.generation, ...outcome }, 'parked events replayed');
    } catch (error) {
      log?.warn({ projection, err: error }, 'replaying parked events failed; the request stays');
    }
  })();
  return { done };
};

/**
 * Deletes an old generation, outside the lease tick, in bounded steps each fenced by the lease; it stops
 * when `stopped()` says so (the runner stopped or lost the lease), and the next holder finds the rest.
 */
export const unlinkOldGeneration = async (
  { redis, keys, projection, lease, log }: RunnerScope,
  generation: number,
  stopped: () => boolean,
): Promise<void> => {
  try {
    const outcome = await unlinkGeneration(redis, keys, projection, generation, () => lease.token, stopped);
    if (outcome.refused === undefined)
      log?.info({ projection, generation, ...outcome }, 'old generation unlinked');
    else
      log?.warn({ projection, generation, ...outcome }, 'unlinking an old generation stopped before the end');
  } catch (error) {
    log?.warn({ projection, generation, err: error }, 'unlinking a generation failed');
  }
};

/**
 * Redis holds the truth of which generation is active: a failover or a restore can take a flip back, or
 * lose the pointer. A main running on another generation than Redis's active one must restart (the next
 * tick starts the right one); a missing pointer is reported as lost, never recreated as generation 1. And
 * a store that went back (reset, restored from a backup) below what the generation applied halts it.
 */
export const checkRunningGeneration = async (
  { redis, keys, projection, log }: RunnerScope,
  store: EventStore,
  main: Projector,
): Promise<'ok' | 'restart'> => {
  const active = await redis.primary.get(keys.active(projection));
  if (active === null) {
    throw new ReadModelStateLost(
      `${projection}: the active-generation pointer is missing while generation ${main.generation} runs ` +
        '(evicted or deleted?); rebuild the projection',
    );
  }
  if (Number(active) !== main.generation) {
    log?.warn(
      { projection, running: main.generation, active: Number(active) },
      'the active generation in Redis is not the one running here (a failover or restore took a flip back?); restarting on it',
    );
    return 'restart';
  }
  // The position is read before the head, so an event applied meanwhile cannot look like one past it.
  const applied = main.stats.eventPosition;
  if (applied === undefined || main.halted) return 'ok';
  const head = await store.headPosition();
  if (applied > head) {
    await main.halt(new StoreBehindReadModel(storeBehind(projection, main.generation, applied, head)));
  }
  return 'ok';
};

/** Starts a projector of `generation` that applies under `lease`, for a runner with these options. */
export const startProjector = (
  options: ProjectionRunnerOptions,
  lease: Lease,
  generation: number,
  onCaughtUp?: () => void,
): Projector => {
  const { projection, store, redis, keys, upcast, batchSize, log, guard, onFailure } = options;
  return new Projector({
    projection,
    generation,
    store,
    redis,
    keys,
    leaseToken: () => lease.token,
    upcast,
    ...(batchSize ? { batchSize } : {}),
    ...(log ? { log } : {}),
    ...(onCaughtUp ? { onCaughtUp } : {}),
    ...(guard ? { guard } : {}),
    ...(onFailure ? { onFailure } : {}),
    onLeaseLost: () => lease.drop(),
    // Marked in Redis, so no read-your-writes wait answers fresh from it, in any process.
    // Also completes the mark of a generation an older release marked in its checkpoint only: a stored fault
    // halts the projector at start, which lands here.
    onUntrusted: async (why) => {
      const { checkpoint, streamVersions } = keys.generation(projection.name, generation);
      await redis.runScript(
        markFaultScript,
        [keys.lease(projection.name), checkpoint, streamVersions],
        [
          lease.token,
          why,
          GENERATION_KEYS.streamVersionsFault,
          keys.notifications(projection.name),
          encodeNotification({ kind: 'untrusted', projection: projection.name, generation }),
          redis.publishCommand,
        ],
      );
    },
  }).start();
};

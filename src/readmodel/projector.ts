import type { Logger } from 'pino';
import type { EventStore, Position, RecordedEvent, Subscription, SubscriptionMessage } from '../eventstore';
import { type Redis, type RedisFailureCause, redisFailureCause } from '../redis';
import { applyBatch, BehindCheckpoint, LeaseLost, type PreparedBatch, readCheckpoint } from './apply-batch';
import { BatchBuilder, type ParkedStreams } from './batch-builder';
import { generationHasKeys } from './generations';
import type { ReadModelKeys } from './keys';
import type { Projection } from './projection';
import { type ReplayOutcome, replayParkedEntries } from './replay';
import { GenerationUntrusted, ReadModelStateLost, StoreBehindReadModel } from './untrusted';

export type ProjectorStatus = 'starting' | 'catching-up' | 'running' | 'stopped' | 'faulted';

export interface ProjectorOptions {
  projection: Projection;
  generation: number;
  store: EventStore;
  redis: Redis;
  keys: ReadModelKeys;
  /** The lease token this process holds for the projection; checked by the apply script (fencing). */
  leaseToken: () => string;
  /** The projection's module's upcaster (see DomainModule.events). */
  upcast: (event: RecordedEvent) => RecordedEvent;
  /** Most events in one atomic apply. */
  batchSize?: number;
  handlerAttempts?: number;
  log?: Logger;
  /** Called after every batch that reached the head the subscription knew of. */
  onCaughtUp?: (checkpoint: Position) => void;
  /** Called when the lease turned out to be held by another process: the projector has stopped. */
  onLeaseLost?: () => void;
  /** Why applying must not go on now (Redis may evict keys, say), checked before every batch; undefined: go on. */
  guard?: () => string | undefined;
  /** Called on every failure, with its cause (a metric counts them). */
  onFailure?: (cause: ProjectorFailureCause) => void;
  /** Called once when the projector stops because its generation cannot be trusted (it is marked in Redis). */
  onUntrusted?: (why: string) => Promise<void>;
}

/** Why a generation that applied events past the store's head cannot be trusted. */
export const storeBehind = (projection: string, generation: number, applied: Position, head: Position) =>
  `${projection} generation ${generation} has applied events up to position ${applied} but the event store ` +
  `ends at ${head}: the store was reset or restored from an older backup; rebuild the projection`;

/** Why a projector failed: a Redis failure, or one of its own checks. */
export type ProjectorFailureCause =
  | RedisFailureCause
  | 'guard'
  | 'lost-state'
  | 'store-behind'
  | 'eventstore';

/** A guard said no: the batch is not sent, the projector retries with backoff until the guard clears. */
export class ApplyPaused extends Error {
  override readonly name = 'ApplyPaused';
}

export interface ProjectorStats {
  checkpoint: Position;
  /** recordedAt (ms) of the newest event applied. */
  newestRecordedAt?: number;
  /** Position of the newest event applied (not of a checkpoint mark). */
  eventPosition?: Position;
  applied: number;
  parked: number;
  batches: number;
  errors: number;
  lastError?: string;
  lastErrorCause?: ProjectorFailureCause;
}

const IDLE = Symbol('idle');
const STOP = Symbol('stop');
/** Work is waiting to run between two batches (a replay of parked events). */
const TASK = Symbol('task');
type Signal = typeof STOP | typeof TASK;
const nextTurn = () => new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)));
/**
 * Settles only if the work fails. A fresh never-settling promise each time: adopting one shared promise
 * would add a reaction to it per call that is never released.
 */
const failureOf = (work: Promise<void>): Promise<never> => work.then(() => new Promise<never>(() => {}));
/** A catching-up projection logs its progress this often (a live one logs nothing per batch). */
const PROGRESS_LOG_EVERY_MS = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Feeds one projection generation from a catch-up subscription into Redis, one atomic batch at a time.
 * A batch closes when it is full or when no further event is ready right now, so catch-up runs in large
 * batches and a live event is applied on the next turn of the event loop.
 */
export class Projector {
  status: ProjectorStatus = 'starting';
  readonly stats: ProjectorStats = { checkpoint: 0n, applied: 0, parked: 0, batches: 0, errors: 0 };
  private stopping = false;
  /**
   * Waits that a stop must cut short. A listener per wait, removed when the wait ends — not a race against
   * one long-lived "stopped" promise, which keeps a reaction (and the value it raced) per wait until stop.
   */
  private readonly stopListeners = new Set<(signal: Signal) => void>();
  /** Work to run between two batches, with nothing in hand and nothing in flight (see between()). */
  private readonly tasks: Array<(batch: BatchBuilder) => Promise<void>> = [];
  /** Streams with a parked event, loaded with the checkpoint; shared with the batch builder and replays. */
  private parkedStreams: ParkedStreams = new Map();
  private lastProgressLog = Date.now();
  private running: Promise<void> | undefined;
  /** The apply sent last and not yet answered: the next batch is built while Redis runs it. */
  private inFlight: Promise<void> | undefined;
  /** Closed by stop(), which ends a wait for its next message. */
  private subscription: Subscription | undefined;

  constructor(private readonly options: ProjectorOptions) {}

  get name(): string {
    return this.options.projection.name;
  }

  get generation(): number {
    return this.options.generation;
  }

  /** The work's outcome, or STOP as soon as stop() is called, or TASK when work waits between batches. */
  private unlessStopped<T>(work: Promise<T>): Promise<T | Signal> {
    if (this.stopping) return Promise.resolve(STOP);
    return new Promise<T | Signal>((resolve, reject) => {
      const onStop = (signal: Signal) => resolve(signal);
      this.stopListeners.add(onStop);
      work.then(
        (value) => {
          this.stopListeners.delete(onStop);
          resolve(value);
        },
        (error: unknown) => {
          this.stopListeners.delete(onStop);
          reject(error);
        },
      );
    });
  }

  /** Stopped, or stopping: it will not apply another batch. */
  get finished(): boolean {
    return this.stopping;
  }

  /**
   * Stopped for good because its generation's checkpoint was lost while the generation's keys remain:
   * starting over from 0 would apply every event twice. A rebuild replaces the generation.
   */
  halted = false;

  start(): this {
    this.running ??= this.runWithRestarts();
    return this;
  }

  /**
   * Replays the generation's parked entries in order, in this projector's loop between two of its batches,
   * through its own apply (see replay.ts): a stream's held events follow its parked one, and nothing else
   * writes to the generation meanwhile.
   */
  replayParked(): Promise<ReplayOutcome> {
    const { projection, generation, redis, keys, upcast } = this.options;
    return this.between((batch) =>
      replayParkedEntries({
        redis,
        keys,
        projection,
        generation,
        upcast,
        parkedStreams: this.parkedStreams,
        checkpoint: batch.storedCheckpoint,
        apply: (prepared) =>
          applyBatch(
            redis,
            keys,
            { projection: projection.name, generation, leaseToken: this.options.leaseToken() },
            prepared,
          ),
      }),
    );
  }

  /** Runs `work` in the loop once the batch in hand is applied and nothing is in flight. */
  private between<T>(work: (batch: BatchBuilder) => Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(new Error(`the projector of ${this.name} is stopping`));
    return new Promise<T>((resolve, reject) => {
      this.tasks.push((batch) => work(batch).then(resolve, reject));
      for (const listener of this.stopListeners) listener(TASK);
    });
  }

  /** Finishes the batch in hand, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const onStop of this.stopListeners) onStop(STOP);
    this.stopListeners.clear();
    void this.subscription?.close();
    await this.running;
    this.status = this.halted ? 'faulted' : 'stopped';
  }

  /** Stops for good: the generation cannot be trusted (found by the runner: the store went back). */
  async halt(error: GenerationUntrusted): Promise<void> {
    if (this.halted) return;
    this.halted = true;
    this.failed(error);
    this.options.log?.error(
      { projection: this.name, generation: this.generation, cause: error.failureCause, err: error },
      'projection generation cannot be trusted; the projector stops until the projection is rebuilt',
    );
    await this.stop();
    await this.options.onUntrusted?.(error.message);
  }

  private async runWithRestarts(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.runOnce();
        failures = 0;
      } catch (error) {
        if (error instanceof LeaseLost) {
          this.options.log?.warn({ projection: this.name }, 'lease lost; projector stops');
          this.stopping = true;
          this.status = 'stopped';
          this.options.onLeaseLost?.();
          return;
        }
        if (error instanceof BehindCheckpoint) continue; // another writer moved on: resync from Redis
        failures += 1;
        const cause = this.failed(error);
        if (error instanceof GenerationUntrusted) {
          this.options.log?.error(
            { projection: this.name, generation: this.generation, cause, err: error },
            'projection generation cannot be trusted; the projector stops until the projection is rebuilt',
          );
          this.halted = true;
          this.stopping = true;
          await this.options.onUntrusted?.(error.message).catch(() => {});
          return;
        }
        this.options.log?.error(
          { projection: this.name, generation: this.generation, cause, err: error },
          'projector failed; restarting',
        );
        // A node down or failing over answers again within seconds: retry at least every second then.
        const longest = cause === 'unavailable' ? 1000 : 5000;
        await this.unlessStopped(sleep(Math.min(100 * 2 ** failures, longest)));
      }
    }
    this.status = this.halted ? 'faulted' : 'stopped';
  }

  /** Records a failure (status, stats, metric) and answers its cause. */
  private failed(error: unknown): ProjectorFailureCause {
    const cause: ProjectorFailureCause =
      error instanceof GenerationUntrusted
        ? error.failureCause
        : error instanceof ApplyPaused
          ? 'guard'
          : (error as { name?: string })?.name === 'EventStoreUnavailable'
            ? 'eventstore'
            : redisFailureCause(error);
    this.stats.errors += 1;
    this.stats.lastError = error instanceof Error ? error.message : String(error);
    this.stats.lastErrorCause = cause;
    this.status = 'faulted';
    this.options.onFailure?.(cause);
    return cause;
  }

  private async runOnce(): Promise<void> {
    const { projection, generation, store, redis, keys } = this.options;
    const stored = await readCheckpoint(redis, keys, projection.name, generation);
    if (stored.missing && (await generationHasKeys(redis, keys, projection.name, generation))) {
      throw new ReadModelStateLost(
        `the checkpoint of ${projection.name} generation ${generation} is missing while the generation's ` +
          'keys exist (evicted, or deleted by hand); rebuild the projection',
      );
    }
    if (stored.fault !== undefined) throw new StoreBehindReadModel(stored.fault);
    if (stored.eventPosition !== undefined) {
      const head = await store.headPosition();
      if (stored.eventPosition > head)
        throw new StoreBehindReadModel(storeBehind(projection.name, generation, stored.eventPosition, head));
      this.stats.eventPosition = stored.eventPosition;
    }
    this.stats.checkpoint = stored.position;
    if (stored.recordedAt !== undefined) this.stats.newestRecordedAt = stored.recordedAt;
    const parkedStreams = await redis.primary.hGetAll(
      keys.generation(projection.name, generation).parkedStreams,
    );
    this.parkedStreams = new Map(Object.entries(parkedStreams).map(([stream, at]) => [stream, BigInt(at)]));
    if (this.status !== 'running') this.status = 'catching-up';
    const subscription = store.subscribeAll({
      from: stored.position === 0n ? 'start' : stored.position,
      filter: { streamPrefixes: projection.streams },
    });
    this.subscription = subscription;
    const messages = subscription[Symbol.asyncIterator]();
    const batch = new BatchBuilder(
      projection,
      this.options.handlerAttempts ?? 3,
      stored.position,
      this.options.upcast,
      this.parkedStreams,
    );
    let pending = messages.next();
    let live = false; // until the subscription says caught-up
    try {
      while (!this.stopping) {
        if (this.tasks.length > 0) {
          await this.flush(batch);
          await this.drain();
          for (const task of this.tasks.splice(0)) await task(batch);
          continue;
        }
        const next = await this.nextOf(pending, batch, live);
        if (next === STOP) break;
        if (next === TASK) continue;
        if (next === IDLE) {
          await this.flush(batch);
          continue;
        }
        if (next.done) break;
        pending = messages.next();
        if (next.value.kind === 'caught-up') live = true;
        const flushing = this.take(next.value, batch);
        if (flushing !== undefined) await flushing;
      }
      await this.flush(batch);
      await this.drain();
    } finally {
      pending.catch(() => {}); // left unread when a batch failed: its outcome no longer matters
      const unanswered = this.inFlight;
      this.inFlight = undefined;
      await unanswered?.catch(() => {}); // a failed run restarts from what Redis holds
      if (this.subscription === subscription) this.subscription = undefined;
      await subscription.close();
    }
  }

  /** The next message; IDLE when live with a batch in hand and nothing else ready this turn; STOP. */
  private nextOf(
    pending: Promise<IteratorResult<SubscriptionMessage>>,
    batch: BatchBuilder,
    live: boolean,
  ): Promise<IteratorResult<SubscriptionMessage> | typeof IDLE | Signal> {
    // Nothing in hand (right after a flush): a failing apply must surface even if the store is slow to
    // send the next message. Once per batch, so this race costs nothing.
    const failure = batch.isEmpty && this.inFlight ? failureOf(this.inFlight) : undefined;
    if (!live) {
      // Catching up: the next message is on its way, so wait for it alone — a timer, a race and a stop
      // listener per message cost more than the handlers do. stop() closes the subscription to end it.
      return failure ? Promise.race([pending, failure]) : pending;
    }
    // Live: a batch in hand is sent on the next turn unless another event is ready first.
    const waits: Array<Promise<IteratorResult<SubscriptionMessage> | typeof IDLE>> = [pending];
    if (!batch.isEmpty) waits.push(nextTurn());
    if (failure) waits.push(failure);
    return this.unlessStopped(waits.length === 1 ? pending : Promise.race(waits));
  }

  /** Adds a message to the batch; answers a promise only when it had to send the batch (synchronous otherwise). */
  private take(message: SubscriptionMessage, batch: BatchBuilder): Promise<void> | undefined {
    if (message.kind === 'event') {
      const { parked, held } = batch.addEvent(message.event); // upcast there: an unreadable event is parked
      if (parked !== undefined && !held) {
        this.options.log?.error(
          { projection: this.name, position: String(message.event.position), err: parked },
          'handler kept failing; event parked (later events of its stream wait behind it)',
        );
      }
      return batch.size >= (this.options.batchSize ?? 1000) ? this.flush(batch) : undefined;
    }
    batch.advanceTo(message.position);
    return message.kind === 'caught-up' ? this.caughtUp(batch) : undefined;
  }

  private async caughtUp(batch: BatchBuilder): Promise<void> {
    await this.flush(batch);
    await this.drain();
    if (this.status !== 'running') {
      this.options.log?.info(
        {
          projection: this.name,
          generation: this.generation,
          checkpoint: String(this.stats.checkpoint),
          applied: this.stats.applied,
        },
        'projection caught up; now live',
      );
    }
    this.status = 'running';
    this.options.onCaughtUp?.(batch.storedCheckpoint);
  }

  /**
   * Sends the batch without waiting for its answer, so the next batch is built while Redis applies this
   * one; waits for the one before it, so at most two are in flight. Order is safe: one connection keeps
   * them in order, and a batch whose predecessor failed is refused (its expected checkpoint is missing).
   */
  private async flush(batch: BatchBuilder): Promise<void> {
    if (batch.isEmpty) return;
    const paused = this.options.guard?.();
    if (paused !== undefined) throw new ApplyPaused(paused);
    const parked = batch.parkedCount;
    const prepared = batch.take();
    if (prepared === undefined) return;
    const { projection, generation, redis, keys } = this.options;
    const sent = applyBatch(
      redis,
      keys,
      { projection: projection.name, generation, leaseToken: this.options.leaseToken() },
      prepared,
    );
    const previous = this.inFlight;
    const applied = (async () => {
      const refused = await sent;
      await previous; // answers arrive in order; stats follow them
      this.recordApplied(prepared, parked, refused);
    })();
    applied.catch(() => {}); // surfaced by the next flush or the drain
    this.inFlight = applied;
    await previous;
  }

  /** Waits until every batch sent has been applied (or throws the failure). */
  private async drain(): Promise<void> {
    await this.inFlight;
  }

  private recordApplied(prepared: PreparedBatch, parked: number, refused: number): void {
    if (refused > 0) {
      this.options.log?.error(
        { projection: this.name, refused, checkpoint: String(prepared.checkpoint) },
        'Redis refused writes of the batch; they were parked',
      );
    }
    this.stats.checkpoint = prepared.checkpoint;
    if (prepared.newestRecordedAt !== undefined) this.stats.newestRecordedAt = prepared.newestRecordedAt;
    if (prepared.newestEventPosition !== undefined) this.stats.eventPosition = prepared.newestEventPosition;
    this.stats.applied += prepared.eventCount;
    this.stats.parked += parked + refused;
    this.stats.batches += 1;
    if (this.status === 'faulted') this.status = 'catching-up';
    if (this.status === 'catching-up' && Date.now() - this.lastProgressLog >= PROGRESS_LOG_EVERY_MS) {
      this.lastProgressLog = Date.now();
      this.options.log?.info(
        {
          projection: this.name,
          generation: this.generation,
          checkpoint: String(prepared.checkpoint),
          applied: this.stats.applied,
        },
        'projection catching up',
      );
    }
  }
}

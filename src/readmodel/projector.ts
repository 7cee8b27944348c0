import type { Subscription, SubscriptionMessage } from '../eventstore/index.js';
import { applyBatch, BehindCheckpoint, LeaseLost, type PreparedBatch } from './apply-batch.js';
import { ApplyPipeline } from './apply-pipeline.js';
import { BatchBuilder, type ParkedStreams } from './batch-builder.js';
import { BetweenBatches, Interrupts } from './interrupts.js';
import {
  ApplyPaused,
  countApplied,
  countFailure,
  type ProjectorFailureCause,
  type ProjectorOptions,
  type ProjectorStats,
  type ProjectorStatus,
  startingPoint,
} from './projector-options.js';
import { type ReplayOutcome, replayParkedEntries } from './replay.js';
import { GenerationUntrusted } from './untrusted.js';

const IDLE = Symbol('idle');
const STOP = Symbol('stop');
const TASK = Symbol('task'); // work waits to run between two batches (a replay of parked events)
type Signal = typeof STOP | typeof TASK;
const nextTurn = () => new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)));
const PROGRESS_LOG_EVERY_MS = 5000; // a catching-up projection logs its progress this often
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
  /** Waits that a stop (or work between batches) must cut short. */
  private readonly interrupts = new Interrupts<Signal>();
  /** Work to run between two batches, with nothing in hand and nothing in flight (a replay). */
  private readonly between = new BetweenBatches<BatchBuilder>(() => this.interrupts.signal(TASK));
  /** Streams with a parked event, loaded with the checkpoint; shared with the batch builder and replays. */
  private parkedStreams: ParkedStreams = new Map();
  private lastProgressLog = Date.now();
  private running: Promise<void> | undefined;
  private readonly pipeline = new ApplyPipeline(
    (batch) => this.apply(batch),
    (batch, refused) => this.recordApplied(batch, refused),
  );
  /** Closed by stop(), which ends a wait for its next message. */
  private subscription: Subscription | undefined;

  readonly name: string;
  readonly generation: number;

  constructor(private readonly options: ProjectorOptions) {
    this.name = options.projection.name;
    this.generation = options.generation;
  }

  /** The work's outcome, or STOP as soon as stop() is called, or TASK when work waits between batches. */
  private interruptible<T>(work: Promise<T>): Promise<T | Signal> {
    return this.stopping ? Promise.resolve(STOP) : this.interrupts.race(work);
  }

  /** Stopped, or stopping: it will not apply another batch. */
  get finished(): boolean {
    return this.stopping;
  }

  /** Stopped for good: its generation cannot be trusted (see GenerationUntrusted); a rebuild replaces it. */
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
    if (this.stopping) return Promise.reject(new Error(`the projector of ${this.name} is stopping`));
    return this.between.run((batch) =>
      replayParkedEntries({
        ...this.options,
        parkedStreams: this.parkedStreams,
        checkpoint: batch.storedCheckpoint,
        apply: (prepared) => this.apply(prepared),
      }),
    );
  }

  /** One atomic apply of a batch (or of a replay's page) to this generation, fenced by the lease. */
  private apply(batch: PreparedBatch): Promise<number> {
    const { projection, generation, redis, keys } = this.options;
    const target = { projection: projection.name, generation, leaseToken: this.options.leaseToken() };
    return applyBatch(redis, keys, target, batch);
  }

  /** Finishes the batch in hand, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.interrupts.signal(STOP);
    void this.subscription?.close();
    await this.running;
    this.status = this.halted ? 'faulted' : 'stopped';
  }

  /** Stops for good: the generation cannot be trusted (found by the runner: the store went back). */
  async halt(error: GenerationUntrusted): Promise<void> {
    if (this.halted) return;
    const marked = this.untrusted(error);
    await this.stop();
    await marked;
  }

  /** Records why the generation cannot be trusted, stops applying, and marks it so in Redis. */
  private untrusted(error: GenerationUntrusted): Promise<void> {
    this.halted = true;
    this.stopping = true;
    this.failed(error);
    this.options.log?.error(
      { projection: this.name, generation: this.generation, cause: error.failureCause, err: error },
      'projection generation cannot be trusted; the projector stops until the projection is rebuilt',
    );
    return this.options.onUntrusted?.(error.message).catch(() => {}) ?? Promise.resolve();
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
        if (error instanceof GenerationUntrusted) return this.untrusted(error);
        failures += 1;
        const cause = this.failed(error);
        this.options.log?.error(
          { projection: this.name, generation: this.generation, cause, err: error },
          'projector failed; restarting',
        );
        // A node down or failing over answers again within seconds: retry at least every second then.
        const longest = cause === 'unavailable' ? 1000 : 5000;
        await this.interruptible(sleep(Math.min(100 * 2 ** failures, longest)));
      }
    }
    this.status = this.halted ? 'faulted' : 'stopped';
  }

  /** Records a failure (status, stats, metric) and answers its cause. */
  private failed(error: unknown): ProjectorFailureCause {
    const cause = countFailure(this.stats, error);
    this.status = 'faulted';
    this.options.onFailure?.(cause);
    return cause;
  }

  private async runOnce(): Promise<void> {
    const { projection, store } = this.options;
    const { stored, parkedStreams } = await startingPoint(this.options, this.stats);
    this.parkedStreams = parkedStreams;
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
        if (this.between.waiting) {
          await this.flush(batch);
          await this.pipeline.drain();
          await this.between.runAll(batch);
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
      await this.pipeline.drain();
    } finally {
      pending.catch(() => {}); // left unread when a batch failed: its outcome no longer matters
      await this.pipeline.abandon(); // a failed run restarts from what Redis holds
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
    const failure = batch.isEmpty ? this.pipeline.failure() : undefined;
    if (!live) {
      // Catching up: the next message is on its way, so wait for it alone — a timer, a race and a stop
      // listener per message cost more than the handlers do. stop() closes the subscription to end it.
      return failure ? Promise.race([pending, failure]) : pending;
    }
    // Live: a batch in hand is sent on the next turn unless another event is ready first.
    const waits: Array<Promise<IteratorResult<SubscriptionMessage> | typeof IDLE>> = [pending];
    if (!batch.isEmpty) waits.push(nextTurn());
    if (failure) waits.push(failure);
    return this.interruptible(waits.length === 1 ? pending : Promise.race(waits));
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
    await this.pipeline.drain();
    if (this.status !== 'running') this.logProgress('projection caught up; now live');
    this.status = 'running';
    this.options.onCaughtUp?.(batch.storedCheckpoint);
  }

  /** Sends the batch in hand (see ApplyPipeline), unless a guard says Redis must not be written now. */
  private async flush(batch: BatchBuilder): Promise<void> {
    if (batch.isEmpty) return;
    const paused = this.options.guard?.();
    if (paused !== undefined) throw new ApplyPaused(paused);
    const prepared = batch.take();
    if (prepared !== undefined) await this.pipeline.push(prepared);
  }

  private recordApplied(prepared: PreparedBatch, refused: number): void {
    if (refused > 0) {
      this.options.log?.error(
        { projection: this.name, refused, checkpoint: String(prepared.checkpoint) },
        'Redis refused writes of the batch; they were parked',
      );
    }
    countApplied(this.stats, prepared, refused);
    if (this.status === 'faulted') this.status = 'catching-up';
    if (this.status === 'catching-up' && Date.now() - this.lastProgressLog >= PROGRESS_LOG_EVERY_MS) {
      this.lastProgressLog = Date.now();
      this.logProgress('projection catching up');
    }
  }

  private logProgress(message: string): void {
    const { stats } = this;
    this.options.log?.info(
      {
        projection: this.name,
        generation: this.generation,
        checkpoint: String(stats.checkpoint),
        applied: stats.applied,
      },
      message,
    );
  }
}

import type { PreparedBatch } from './apply-batch.js';

/**
 * Batches on their way to Redis: a batch is sent without waiting for its answer, so the next one is built
 * while Redis applies it; sending waits for the one before, so at most two are in flight. Order is safe: one
 * connection keeps them in order, and a batch whose predecessor failed is refused (its expected checkpoint
 * is missing).
 */
export class ApplyPipeline {
  /** The apply sent last and not yet answered (or its failure, until someone awaits it). */
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly send: (batch: PreparedBatch) => Promise<number>,
    /** Called in order, once each batch is applied, with how many writes Redis refused. */
    private readonly applied: (batch: PreparedBatch, refused: number) => void,
  ) {}

  /** Sends `batch`; resolves once the batch before it was applied (or throws its failure). */
  async push(batch: PreparedBatch): Promise<void> {
    const sent = this.send(batch);
    const previous = this.inFlight;
    const applied = (async () => {
      const refused = await sent;
      await previous; // answers arrive in order; what follows them does too
      this.applied(batch, refused);
    })();
    applied.catch(() => {}); // surfaced by the next push or the drain
    this.inFlight = applied;
    await previous;
  }

  /** Waits until every batch sent has been applied (or throws the failure). */
  async drain(): Promise<void> {
    await this.inFlight;
  }

  /**
   * Settles only if the batch in flight fails. A fresh never-settling promise each time: adopting one shared
   * promise would add a reaction to it per call that is never released.
   */
  failure(): Promise<never> | undefined {
    return this.inFlight?.then(() => new Promise<never>(() => {}));
  }

  /** Forgets what is in flight after a failed run, waiting for it to settle (the run restarts from Redis). */
  async abandon(): Promise<void> {
    const unanswered = this.inFlight;
    this.inFlight = undefined;
    await unanswered?.catch(() => {});
  }
}

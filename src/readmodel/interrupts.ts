/**
 * Lets a waiting loop be cut short: `race(work)` settles as the work does, or with the signal sent first.
 * A listener per wait, removed when the wait ends — not a race against one long-lived promise, which would
 * keep a reaction (and the value it raced) per wait until it settles.
 */
export class Interrupts<S> {
  private readonly listeners = new Set<(signal: S) => void>();

  /** Waits under way; one per open wait, so a leak shows as a growing count. */
  get pending(): number {
    return this.listeners.size;
  }

  race<T>(work: Promise<T>): Promise<T | S> {
    return new Promise<T | S>((resolve, reject) => {
      const onSignal = (signal: S) => resolve(signal);
      this.listeners.add(onSignal);
      work.then(
        (value) => {
          this.listeners.delete(onSignal);
          resolve(value);
        },
        (error: unknown) => {
          this.listeners.delete(onSignal);
          reject(error);
        },
      );
    });
  }

  /** Every wait under way ends with `signal`. */
  signal(signal: S): void {
    for (const listener of this.listeners) listener(signal);
    this.listeners.clear();
  }
}

/** Work queued to run in a loop at its next safe point, given what the loop holds there. */
export class BetweenBatches<B> {
  private readonly tasks: Array<(batch: B) => Promise<void>> = [];

  constructor(private readonly wake: () => void) {}

  get waiting(): boolean {
    return this.tasks.length > 0;
  }

  /** Resolves with what `work` answers once the loop ran it. */
  run<T>(work: (batch: B) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push((batch) => work(batch).then(resolve, reject));
      this.wake();
    });
  }

  async runAll(batch: B): Promise<void> {
    for (const task of this.tasks.splice(0)) await task(batch);
  }
}

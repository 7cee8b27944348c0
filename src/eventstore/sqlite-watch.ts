/**
 * Notices commits that other connections (another process on the same file) made, within `intervalMs`:
 * `PRAGMA data_version` changes exactly when another connection has committed, and reading it costs a few
 * microseconds. It runs while the store has subscriptions; appends of this process wake them directly.
 */
export class ForeignCommitWatch {
  #timer: NodeJS.Timeout | undefined;
  #version: unknown;

  constructor(
    private readonly readVersion: () => unknown,
    private readonly intervalMs: number,
    private readonly onForeignCommit: () => void,
  ) {}

  start(): void {
    if (this.#timer !== undefined) return;
    this.#version = this.readVersion();
    this.#timer = setInterval(() => this.#check(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    let version: unknown;
    try {
      version = this.readVersion();
    } catch {
      // A closed or failing database: the subscription's own read reports it.
      return;
    }
    if (version === this.#version) return;
    this.#version = version;
    this.onForeignCommit();
  }
}

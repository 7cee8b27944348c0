/**
 * Failed admin logins per client address, in a fixed one-minute window from the first failure: after
 * `limit` failures the address is refused (429) for the rest of that window, whatever token it sends.
 * Entries whose window is over are swept as new failures come, so the map stays bounded by the addresses
 * that failed within the last minute.
 */
export class AuthFailures {
  readonly #windows = new Map<string, { startedAt: number; failures: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may now. */
  blockedFor(address: string): number {
    const window = this.#current(address);
    if (window === undefined || window.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((window.startedAt + this.windowMs - this.now()) / 1000));
  }

  fail(address: string): void {
    const window = this.#current(address);
    if (window !== undefined) {
      window.failures += 1;
      return;
    }
    if (this.#windows.size >= 1000) this.#sweep();
    this.#windows.set(address, { startedAt: this.now(), failures: 1 });
  }

  #current(address: string) {
    const window = this.#windows.get(address);
    if (window === undefined || this.now() - window.startedAt < this.windowMs) return window;
    this.#windows.delete(address);
    return undefined;
  }

  #sweep(): void {
    const now = this.now();
    for (const [address, window] of this.#windows)
      if (now - window.startedAt >= this.windowMs) this.#windows.delete(address);
  }
}

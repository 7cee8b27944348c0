import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

export interface AppendHealthOptions {
  /** At most one error line per this many ms while appends keep failing (the rest are counted in it). */
  logEveryMs?: number;
  /** A failure older than this, with no append tried since, no longer fails readiness. */
  staleAfterMs?: number;
  now?: () => number;
}

interface Failing {
  since: number;
  last: number;
  cause: string;
  message: string;
  /** Failures since the last error line. */
  unlogged: number;
}

/** The store's own name for what failed (SQLITE_FULL…), found on the error or its causes. */
export const causeOf = (error: unknown): string => {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'unavailable';
};

/**
 * Whether appends to the event store work, as the commands see them. A store can answer a ping and still
 * refuse every write (a full disk), so readiness asks this too. While appends fail: one error line with the
 * cause at most every `logEveryMs` (not one per request), `sluice_eventstore_append_failures_total{cause}`,
 * and `sluice_eventstore_appends_failing` at 1; the first append that works again ends it with an info line.
 */
export class AppendHealth {
  #failing: Failing | undefined;
  #lastLogged = Number.NEGATIVE_INFINITY;
  readonly #logEveryMs: number;
  readonly #staleAfterMs: number;
  readonly #now: () => number;

  constructor(
    private readonly log: Logger,
    private readonly metrics: Pick<Metrics, 'appendFailures' | 'appendsFailing'>,
    { logEveryMs = 10_000, staleAfterMs = 15_000, now = Date.now }: AppendHealthOptions = {},
  ) {
    this.#logEveryMs = logEveryMs;
    this.#staleAfterMs = staleAfterMs;
    this.#now = now;
  }

  failed(error: unknown): void {
    const now = this.#now();
    const cause = causeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    this.metrics.appendFailures.inc({ cause });
    this.metrics.appendsFailing.set(1);
    const failing = this.#failing ?? { since: now, last: now, cause, message, unlogged: 0 };
    this.#failing = { ...failing, last: now, cause, message, unlogged: failing.unlogged + 1 };
    if (now - this.#lastLogged < this.#logEveryMs) return;
    this.#lastLogged = now;
    this.log.error(
      { cause, failures: this.#failing.unlogged, failingForMs: now - failing.since, err: error },
      `event store appends failing: ${message}`,
    );
    this.#failing.unlogged = 0;
  }

  succeeded(): void {
    const failing = this.#failing;
    if (failing === undefined) return;
    this.#failing = undefined;
    // The throttle holds across recoveries: appends that fail every other time still log once per period.
    this.metrics.appendsFailing.set(0);
    this.log.info({ failedForMs: this.#now() - failing.since }, 'event store appends work again');
  }

  /** Throws, naming the cause, while appends fail (a failure within `staleAfterMs`). */
  assertHealthy(): void {
    const failing = this.#failing;
    if (failing === undefined || this.#now() - failing.last > this.#staleAfterMs) return;
    throw new Error(`appends failing (${failing.cause}): ${failing.message}`);
  }
}

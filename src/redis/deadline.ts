import { withDeadline as deadline } from '../deadline/index.js';
import type { RedisCommands } from './commands.js';
import { RedisDeadlineExceeded } from './errors.js';

/**
 * Longest any call on a primary may take. node-redis's command timeout only bounds the wait to be *written*:
 * a command already sent to a Redis that stopped answering without closing the socket (frozen, a silent
 * partition) waits for TCP, minutes. This bound rejects the call, and the connection is abandoned.
 */
export const CALL_DEADLINE_MS = 5000;

/** Rejects with RedisDeadlineExceeded after `ms` (and calls `onExpired`), or settles as `work` does. */
export const withDeadline = <T>(work: Promise<T>, ms: number, onExpired: () => void): Promise<T> =>
  deadline(work, ms, () => {
    onExpired();
    return new RedisDeadlineExceeded(`Redis did not answer within ${ms} ms; the connection was abandoned`);
  });

/**
 * The same commands, each call bounded by `ms` (a MULTI's exec too). `abandon` is told the key of a call
 * that ran out of time, so the topology can drop the connection that carried it and open a new one.
 */
export const boundedCommands = (
  commands: RedisCommands,
  ms: number,
  abandon: (key: string | undefined) => void,
): RedisCommands => {
  /** Calls on `target` bounded; a call answering `target` itself (a MULTI's chained command) answers the proxy. */
  const bound = <T extends object>(target: T, isMulti: boolean): T => {
    let key: string | undefined; // a MULTI's first key: its slot is the connection it runs on
    const proxy: T = new Proxy(target, {
      get(object, property) {
        const value = Reflect.get(object, property, object);
        if (typeof value !== 'function') return value;
        if (property === 'multi' && !isMulti) return () => bound(value.call(object) as object, true);
        return (...args: unknown[]) => {
          const first = typeof args[0] === 'string' ? args[0] : undefined;
          if (isMulti) key ??= first;
          const result = value.apply(object, args);
          if (result === object) return proxy;
          if (!(result instanceof Promise)) return result;
          return withDeadline(result, ms, () => abandon(isMulti ? key : first));
        };
      },
    });
    return proxy;
  };
  return bound(commands, false);
};

import type { Command, Query } from './messages';

type HandlerMap<M extends { type: string }, R> = {
  [T in M['type']]: (message: Extract<M, { type: T }>) => Promise<R>;
};

/** Wraps every dispatch: metrics, logs, tracing. Receives the message type and the outcome. */
export type DispatchObserver = (
  type: string,
  outcome: 'ok' | 'error',
  error?: unknown,
  ms?: number,
  result?: unknown,
) => void;

export interface CommandBus<C extends Command, R> {
  dispatch(command: C): Promise<R>;
}

export interface QueryBus<Q extends Query, R> {
  ask(query: Q): Promise<R>;
}

const dispatcher =
  <M extends { type: string }, R>(handlers: HandlerMap<M, R>, observe?: DispatchObserver) =>
  async (message: M): Promise<R> => {
    const handler = (handlers as unknown as Record<string, (m: M) => Promise<R>>)[message.type];
    if (handler === undefined) throw new Error(`no handler for ${message.type}`);
    const started = performance.now();
    try {
      const result = await handler(message);
      observe?.(message.type, 'ok', undefined, performance.now() - started, result);
      return result;
    } catch (error) {
      observe?.(message.type, 'error', error, performance.now() - started);
      throw error;
    }
  };

/** One handler per command type, checked at compile time: a missing handler does not type-check. */
export const createCommandBus = <C extends Command, R>(
  handlers: HandlerMap<C, R>,
  observe?: DispatchObserver,
): CommandBus<C, R> => ({ dispatch: dispatcher(handlers, observe) });

export const createQueryBus = <Q extends Query, R>(
  handlers: HandlerMap<Q, R>,
  observe?: DispatchObserver,
): QueryBus<Q, R> => ({
  ask: dispatcher(handlers, observe),
});

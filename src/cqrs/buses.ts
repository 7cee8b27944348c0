import type { Command, Query } from './messages.js';

type HandlerMap<M extends { type: string }, R, Ctx = undefined> = {
  [T in M['type']]: (message: Extract<M, { type: T }>, context: Ctx) => Promise<R>;
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

/** Queries are asked with the read context of the request (read-your-writes reads one connection). */
export interface QueryBus<Q extends Query, R, Ctx = unknown> {
  ask(query: Q, context: Ctx): Promise<R>;
}

const dispatcher =
  <M extends { type: string }, R, Ctx = undefined>(
    handlers: HandlerMap<M, R, Ctx>,
    observe?: DispatchObserver,
  ) =>
  async (message: M, context: Ctx): Promise<R> => {
    const handler = (handlers as unknown as Record<string, (m: M, c: Ctx) => Promise<R>>)[message.type];
    if (handler === undefined) throw new Error(`no handler for ${message.type}`);
    const started = performance.now();
    try {
      const result = await handler(message, context);
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
): CommandBus<C, R> => {
  const dispatch = dispatcher(handlers, observe);
  return { dispatch: (command) => dispatch(command, undefined) };
};

/** One handler per query type; each is given the read context the request asks with. */
export const createQueryBus = <Q extends Query, R, Ctx>(
  handlers: HandlerMap<Q, R, Ctx>,
  observe?: DispatchObserver,
): QueryBus<Q, R, Ctx> => ({
  ask: dispatcher(handlers, observe),
});

import type { Command, EventSchemas, ExpectedVersion, Query, StreamCommandResult } from '../cqrs/index.js';
import type { EventStore } from '../eventstore/index.js';
import type { RouteBuilder } from '../http/index.js';
import type { Projection, ReadContext } from '../readmodel/index.js';

/** Method syntax makes a parameter bivariant: a handler of one command type is a handler of `Command`. */
type Handler<A, B, R> = { handle(message: A, context: B): R }['handle'];

/** What a module's command handlers are built with, at start. */
export interface CommandDeps {
  store: EventStore;
  /** An append was refused because the stream moved on since it was read. */
  onConflict?: (commandType: string) => void;
  /** A refused append is about to be retried (only without If-Match). */
  onRetry?: (commandType: string) => void;
}

/** A command may carry the version If-Match pins (undefined: any). */
export type DispatchedCommand = Command & { expectedVersion?: ExpectedVersion };

export type CommandHandlers = Record<
  string,
  Handler<DispatchedCommand, undefined, Promise<StreamCommandResult>>
>;

/** A query handler reads through the request's read context (see ReadContext). */
export type QueryHandlers = Record<string, Handler<Query, ReadContext, Promise<unknown>>>;

/**
 * One domain, everything of it behind one object: the composition root mounts a list of these and names
 * no domain. Adding a domain is one folder and one entry in that list.
 *
 * @example
 * export const inventory = defineModule({
 *   name: 'inventory',
 *   events: { StockReserved: { current: 1 } },
 *   projections: [stockLevels],
 *   commands: ({ store }) => ({ ReserveStock: (command) => reserve(store, command) }),
 *   queries: { GetStock: (query, read) => stockOf(read, query.params.sku) },
 *   routes: (r) => {
 *     r.command({ method: 'post', path: '/stock/{sku}/reservations', … });
 *     r.query({ path: '/stock/{sku}', … });
 *   },
 * });
 */
export interface DomainModule {
  /** Stable name, used in errors (a conflict between two modules names both). */
  name: string;
  /** The module's event types with their versions and upcasters; each type belongs to one module only. */
  events: EventSchemas;
  /** The module's read models; each is fed its events through the module's own upcaster. */
  projections: readonly Projection[];
  /** Its command handlers by command type, built at start (one CommandBus serves every module). */
  commands: (deps: CommandDeps) => CommandHandlers;
  /** Its query handlers by query type (one QueryBus serves every module). */
  queries: QueryHandlers;
  /** Its HTTP routes, built with the generic command and query routes. */
  routes: (r: RouteBuilder) => void;
}

export const defineModule = <M extends DomainModule>(module: M): M => module;

import {
  type CommandBus,
  createCommandBus,
  createQueryBus,
  createUpcaster,
  type DispatchObserver,
  type Query,
  type QueryBus,
  type StreamCommandResult,
} from '../cqrs/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { RouteBuilder } from '../http/index.js';
import type { Projection, ReadContext } from '../readmodel/index.js';
import type { CommandDeps, DispatchedCommand, DomainModule } from './define-module.js';

/** Two modules claim the same event type, command type, query type or projection name: start-up stops. */
export class ModuleConflict extends Error {
  override readonly name = 'ModuleConflict';
}

/** A projection with the module it belongs to and the upcaster its events pass through. */
export interface MountedProjection {
  projection: Projection;
  upcast: (event: RecordedEvent) => RecordedEvent;
  module: string;
}

export interface MountedModules {
  modules: readonly DomainModule[];
  projections: readonly MountedProjection[];
  /** One CommandBus over every module's command handlers. */
  commandBus: (
    deps: CommandDeps,
    observe?: DispatchObserver,
  ) => CommandBus<DispatchedCommand, StreamCommandResult>;
  queryBus: (observe?: DispatchObserver) => QueryBus<Query, unknown, ReadContext>;
  routes: (r: RouteBuilder) => void;
}

/** Each name in one module only: `what` of `owner`, claimed again by `module`, stops start-up. */
const claim = (claimed: Map<string, string>, what: string, name: string, module: string): void => {
  const owner = claimed.get(name);
  if (owner !== undefined)
    throw new ModuleConflict(`${what} ${name} is claimed by module ${owner} and by module ${module}`);
  claimed.set(name, module);
};

/**
 * Checks a list of modules against each other and joins them: event types, command types, query types and
 * projection names each belong to one module. The modules' upcasters are merged into one: as each event type
 * has one owner, it upcasts every event as its own module would, also for a projection of another module
 * that reads it (an inventory projection following orders, say).
 */
export const mountModules = (modules: readonly DomainModule[]): MountedModules => {
  const events = new Map<string, string>();
  const projectionNames = new Map<string, string>();
  const queryTypes = new Map<string, string>();
  for (const module of modules) {
    for (const type of Object.keys(module.events)) claim(events, 'event type', type, module.name);
    for (const type of Object.keys(module.queries)) claim(queryTypes, 'query type', type, module.name);
    for (const projection of module.projections)
      claim(projectionNames, 'projection', projection.name, module.name);
  }
  const upcast = createUpcaster(Object.assign({}, ...modules.map((m) => m.events)));
  const projections: MountedProjection[] = modules.flatMap((module) =>
    module.projections.map((projection) => ({ projection, upcast, module: module.name })),
  );
  const queryHandlers = Object.assign({}, ...modules.map((m) => m.queries));
  return {
    modules,
    projections,
    commandBus: (deps, observe) => {
      const commandTypes = new Map<string, string>();
      const handlers = {};
      for (const module of modules) {
        const own = module.commands(deps);
        for (const type of Object.keys(own)) claim(commandTypes, 'command type', type, module.name);
        Object.assign(handlers, own);
      }
      return createCommandBus<DispatchedCommand, StreamCommandResult>(handlers as never, observe);
    },
    queryBus: (observe) => createQueryBus<Query, unknown, ReadContext>(queryHandlers as never, observe),
    routes: (r) => {
      for (const module of modules) module.routes(r);
    },
  };
};

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { type CommandRouteDeps, type CommandRouteSpec, commandRoute } from './command-route.js';
import { type QueryRouteDeps, type QueryRouteSpec, queryRoute } from './query-route.js';

/** What a domain module's `routes` is given: a command route and a query route, each one declaration. */
export interface RouteBuilder {
  command<P extends z.ZodObject | undefined, B extends z.ZodType>(spec: CommandRouteSpec<P, B>): void;
  query<P extends z.ZodObject | undefined, Q extends z.ZodObject | undefined, R>(
    spec: QueryRouteSpec<P, Q, R>,
  ): void;
}

export type RouteDeps = CommandRouteDeps & QueryRouteDeps;

export const routeBuilder = (app: OpenAPIHono, deps: RouteDeps): RouteBuilder => ({
  command: (spec) => commandRoute(app, deps, spec),
  query: (spec) => queryRoute(app, deps, spec),
});

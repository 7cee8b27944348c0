import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { NotFound, ProblemError, ServiceUnavailable } from '../cqrs';
import { EventStoreUnavailable } from '../eventstore';
import type { Metrics } from '../ops';
import { isRedisUnavailable } from '../redis';
import { type AdminRouteDeps, registerAdminRoutes } from './admin';
import { guardBodies, observeRequests, requireValidCorrelationId } from './middleware';
import { type OpsRouteDeps, registerOpsRoutes } from './ops';
import { toProblem } from './problem';
import { type RouteBuilder, type RouteDeps, routeBuilder } from './route-builder';

export interface HttpAppDeps {
  log: Logger;
  metrics: Metrics;
  /** The modules' routes (commands and queries), and what the generic routes need to serve them. */
  routes?: { build: (r: RouteBuilder) => void; deps: RouteDeps };
  /** The admin API (projections, rebuilds, parked events). */
  admin?: AdminRouteDeps;
  ops: Omit<OpsRouteDeps, 'registry'>;
}

/** Headers a handler set with c.header() before it threw (X-Consistency on a stale 404) stay on the problem. */
const withHeadersSetSoFar = (c: Context, problem: Response): Response => {
  for (const [name, value] of c.res.headers) {
    if (name !== 'content-type' && name !== 'content-length') problem.headers.set(name, value);
  }
  return problem;
};

/**
 * The one place a failure becomes its HTTP answer: a store or Redis that cannot answer now is a 503 with
 * Retry-After, whatever route asked it; a ProblemError is itself; anything else is a logged 500.
 */
const problemOf = (error: unknown, log: Logger, path: string): unknown => {
  if (error instanceof EventStoreUnavailable) {
    log.warn({ err: error, path }, 'event store unavailable');
    return new ServiceUnavailable('the event store is unavailable; nothing was appended', 1);
  }
  if (isRedisUnavailable(error)) {
    log.warn({ err: error, path }, 'Redis unavailable');
    return new ServiceUnavailable('the read model (Redis) is unavailable', 1);
  }
  if (!(error instanceof ProblemError)) log.error({ err: error, path }, 'unhandled error');
  return error;
};

const TAGS = [
  {
    name: 'Commands',
    description: 'Writes: each appends events to one stream, with expected-version concurrency.',
  },
  { name: 'Queries', description: 'Reads from the Redis read models, with read-your-writes on request.' },
  { name: 'Operations', description: 'Liveness, readiness and metrics.' },
  { name: 'Admin', description: 'Projections: status, rebuilds, parked events. Bearer ADMIN_TOKEN.' },
];

/** The Hono app: correlation ids, one log line and one latency sample per request, body rules, problem+json errors. */
export const createHttpApp = ({ log, metrics, routes, admin, ops }: HttpAppDeps): OpenAPIHono => {
  const app = new OpenAPIHono();
  app.use(observeRequests(log, metrics));
  app.use(requireValidCorrelationId);
  app.use(guardBodies);

  app.onError((error, c) => withHeadersSetSoFar(c, toProblem(problemOf(error, log, c.req.path), c.req.path)));
  app.notFound((c) => toProblem(new NotFound(`no route for ${c.req.method} ${c.req.path}`), c.req.path));

  if (routes) routes.build(routeBuilder(app, routes.deps));
  registerOpsRoutes(app, { ...ops, registry: metrics.registry });
  if (admin) registerAdminRoutes(app, admin);

  const document = (origin: string) =>
    app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Sluice',
        version: '0.1.0',
        description:
          'A CQRS service: commands append events (EventStoreDB or embedded SQLite); queries read Redis projections. ' +
          'Errors are RFC 9457 problem+json. Commands answer the entity id with {version, position}; pass them back ' +
          'as minVersion / minPosition to read your writes.',
        license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
      },
      servers: [{ url: origin, description: 'This service' }],
      tags: TAGS,
    });
  app.get('/openapi.json', (c) => c.json(document(new URL(c.req.url).origin)));
  return app;
};

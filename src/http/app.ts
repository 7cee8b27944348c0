import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import {
  ClientClosedRequest,
  MethodNotAllowed,
  NotFound,
  ProblemError,
  RequestTimeout,
  ServiceUnavailable,
} from '../cqrs/index.js';
import { EventStoreUnavailable } from '../eventstore/index.js';
import type { Metrics } from '../ops/index.js';
import { isRedisUnavailable } from '../redis/index.js';
import { type AdminRouteDeps, registerAdminRoutes } from './admin.js';
import { registerConsole } from './console.js';
import {
  guardBodies,
  observeRequests,
  refuseAmbiguousRequests,
  requireValidCorrelationId,
} from './middleware.js';
import { type OpsRouteDeps, registerOpsRoutes } from './ops.js';
import { toProblem } from './problem.js';
import { type RouteBuilder, type RouteDeps, routeBuilder } from './route-builder.js';

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
const problemOf = (error: unknown, log: Logger, path: string, storeLines: Throttle): unknown => {
  if (error instanceof EventStoreUnavailable) {
    // One line per request would flood the log while the store is down (the commands' own error line
    // with the cause comes from AppendHealth); the request log line still records every 503.
    if (storeLines.allow()) log.warn({ err: error, path }, 'event store unavailable');
    return new ServiceUnavailable('the event store is unavailable; nothing was appended', 1);
  }
  if (isRedisUnavailable(error)) {
    log.warn({ err: error, path }, 'Redis unavailable');
    return new ServiceUnavailable('the read model (Redis) is unavailable', 1);
  }
  if (error instanceof ClientClosedRequest) log.debug({ path }, 'client closed the request mid-body');
  else if (error instanceof RequestTimeout) log.debug({ path }, 'request timed out mid-body');
  else if (!(error instanceof ProblemError)) log.error({ err: error, path }, 'unhandled error');
  return error;
};

/**
 * The methods the app's routes serve at a path (HEAD wherever GET is), for a 405's Allow header: a path
 * that exists with another method is not a 404 (RFC 9110 §15.5.6). Read from the routes once, on first use.
 */
const allowedMethods = (app: OpenAPIHono) => {
  let routes: Array<{ pattern: RegExp; method: string }> | undefined;
  return (path: string): string[] => {
    routes ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}$`),
      }));
    const methods = new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
};

/** Lets one thing through per `everyMs`. */
class Throttle {
  #last = Number.NEGATIVE_INFINITY;
  constructor(private readonly everyMs: number) {}
  allow(now = Date.now()): boolean {
    if (now - this.#last < this.everyMs) return false;
    this.#last = now;
    return true;
  }
}

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
  app.use(refuseAmbiguousRequests);
  app.use(requireValidCorrelationId);
  app.use(guardBodies);

  const storeLines = new Throttle(10_000);
  app.onError((error, c) =>
    withHeadersSetSoFar(c, toProblem(problemOf(error, log, c.req.path, storeLines), c.req.path)),
  );
  const allowedOn = allowedMethods(app);
  app.notFound((c) => {
    const allow = allowedOn(c.req.path);
    if (allow.length > 0) {
      const detail = `${c.req.method} is not supported on ${c.req.path}; it supports ${allow.join(', ')}`;
      return toProblem(new MethodNotAllowed(detail, allow), c.req.path);
    }
    return toProblem(new NotFound(`no route for ${c.req.method} ${c.req.path}`), c.req.path);
  });

  if (routes) routes.build(routeBuilder(app, routes.deps));
  registerOpsRoutes(app, { ...ops, registry: metrics.registry });
  if (admin) {
    registerAdminRoutes(app, admin);
    registerConsole(app);
  }

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

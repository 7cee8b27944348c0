import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { NotFound, ProblemError, ServiceUnavailable } from '../cqrs';
import type { Metrics } from '../ops/metrics';
import { isRedisUnavailable } from '../redis';
import { type CommandRouteDeps, registerCommandRoutes } from './commands';
import { guardBodies, observeRequests, requireValidCorrelationId } from './middleware';
import { type OpsRouteDeps, registerOpsRoutes } from './ops';
import { toProblem } from './problem';
import { type QueryRouteDeps, registerQueryRoutes } from './queries';

export interface HttpAppDeps {
  log: Logger;
  metrics: Metrics;
  commands?: CommandRouteDeps;
  queries?: QueryRouteDeps;
  ops: Omit<OpsRouteDeps, 'registry'>;
  /** Extra routes (admin) registered by the composition root. */
  extend?: (app: OpenAPIHono) => void;
}

/** Headers a handler set with c.header() before it threw (X-Consistency on a stale 404) stay on the problem. */
const withHeadersSetSoFar = (c: Context, problem: Response): Response => {
  for (const [name, value] of c.res.headers) {
    if (name !== 'content-type' && name !== 'content-length') problem.headers.set(name, value);
  }
  return problem;
};

/** The Hono app: correlation ids, one log line and one latency sample per request, body rules, problem+json errors. */
export const createHttpApp = ({ log, metrics, commands, queries, ops, extend }: HttpAppDeps): OpenAPIHono => {
  const app = new OpenAPIHono();
  app.use(observeRequests(log, metrics));
  app.use(requireValidCorrelationId);
  app.use(guardBodies);

  app.onError((error, c) => {
    if (isRedisUnavailable(error)) {
      // Redis down or failing over: whatever route asked it, the client may try again shortly.
      log.warn({ err: error, path: c.req.path }, 'Redis unavailable');
      return withHeadersSetSoFar(
        c,
        toProblem(new ServiceUnavailable('the read model (Redis) is unavailable', 1), c.req.path),
      );
    }
    if (!(error instanceof ProblemError)) log.error({ err: error, path: c.req.path }, 'unhandled error');
    return withHeadersSetSoFar(c, toProblem(error, c.req.path));
  });
  app.notFound((c) => toProblem(new NotFound(`no route for ${c.req.method} ${c.req.path}`), c.req.path));

  if (commands) registerCommandRoutes(app, commands);
  if (queries) registerQueryRoutes(app, queries);
  registerOpsRoutes(app, { ...ops, registry: metrics.registry });
  extend?.(app);

  const document = () =>
    app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Sluice',
        version: '0.1.0',
        description:
          'Orders over CQRS: commands append events (EventStoreDB or embedded SQLite); queries read Redis projections. ' +
          'Errors are RFC 9457 problem+json. Commands answer {orderId, version, position}; pass them back as minVersion / minPosition to read your writes.',
      },
    });
  app.get('/openapi.json', (c) => c.json(document()));
  return app;
};

import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import { NotFound, ProblemError } from '../cqrs';
import type { Metrics } from '../ops/metrics';
import { type CommandRouteDeps, registerCommandRoutes } from './commands';
import { type OpsRouteDeps, registerOpsRoutes } from './ops';
import { toProblem } from './problem';
import { type QueryRouteDeps, registerQueryRoutes } from './queries';
import { printableHeader } from './request';

export interface HttpAppDeps {
  log: Logger;
  metrics: Metrics;
  commands?: CommandRouteDeps;
  queries?: QueryRouteDeps;
  ops: Omit<OpsRouteDeps, 'registry'>;
  /** Extra routes (admin) registered by the composition root. */
  extend?: (app: OpenAPIHono) => void;
}

declare module 'hono' {
  interface ContextVariableMap {
    correlationId: string;
  }
}

/** The Hono app: correlation ids, one log line and one latency sample per request, problem+json errors. */
export const createHttpApp = ({ log, metrics, commands, queries, ops, extend }: HttpAppDeps): OpenAPIHono => {
  const app = new OpenAPIHono();

  app.use(async (c, next) => {
    const started = performance.now();
    let correlationId: string;
    try {
      correlationId = printableHeader(c, 'x-correlation-id', 128) ?? randomUUID();
    } catch (error) {
      correlationId = randomUUID();
      c.set('correlationId', correlationId);
      c.res = toProblem(error, c.req.path);
    }
    c.set('correlationId', correlationId);
    if (c.res.status !== 400 || c.finalized === false) await next();
    c.res.headers.set('X-Correlation-Id', correlationId);
    const status = c.res.status;
    const routePath = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
    const ms = performance.now() - started;
    metrics.httpDuration.observe(
      { method: c.req.method, route: routePath, status: String(status) },
      ms / 1000,
    );
    log.info(
      {
        method: c.req.method,
        route: routePath,
        path: c.req.path,
        status,
        ms: Math.round(ms * 10) / 10,
        correlationId,
      },
      'request',
    );
  });

  app.onError((error, c) => {
    if (!(error instanceof ProblemError)) log.error({ err: error, path: c.req.path }, 'unhandled error');
    return toProblem(error, c.req.path);
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

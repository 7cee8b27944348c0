import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { withDeadline } from '../deadline/index.js';
import { route } from './openapi-route.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /** A failure is reported (`degraded`, with the error) without failing readiness. */
  degradesOnly?: boolean;
}

export interface OpsRouteDeps {
  checks: ReadinessCheck[];
  registry: Registry;
}

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });</script>
</body></html>`;

export const registerOpsRoutes = (app: OpenAPIHono, { checks, registry }: OpsRouteDeps) => {
  route(
    app,
    {
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      security: [],
      summary: 'Liveness: 200 while the process is alive',
      tags: ['Operations'],
      responses: {
        200: {
          description: 'Alive',
          content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
        },
      },
    },
    (c) => c.json({ status: 'ok' }),
  );

  const ReadySchema = z.object({
    status: z.enum(['ready', 'unavailable']),
    components: z.record(
      z.string(),
      z.object({
        status: z.enum(['up', 'down', 'degraded']).meta({
          description:
            '`degraded`: failing, but not a reason to take this process out (a faulted projection seen from an API process)',
        }),
        error: z.string().optional(),
      }),
    ),
  });
  route(
    app,
    {
      method: 'get',
      path: '/ready',
      operationId: 'getReadiness',
      security: [],
      summary: 'Readiness: the event store and Redis each answer, and no projection run here is faulted',
      tags: ['Operations'],
      responses: {
        200: {
          description: 'Every component answers',
          content: { 'application/json': { schema: ReadySchema } },
        },
        503: {
          description: 'A component does not answer; the body names it',
          content: { 'application/json': { schema: ReadySchema } },
        },
      },
    },
    async (c) => {
      const results = await Promise.all(
        checks.map(async ({ name, check, degradesOnly }) => {
          try {
            await withDeadline(check(), 1000, () => new Error('no answer within 1000 ms'));
            return [name, { status: 'up' as const }] as const;
          } catch (error) {
            const status = degradesOnly ? ('degraded' as const) : ('down' as const);
            return [name, { status, error: (error as Error).message }] as const;
          }
        }),
      );
      const ready = results.every(([, r]) => r.status !== 'down');
      if (!ready) c.header('Retry-After', '1');
      return c.json(
        { status: ready ? 'ready' : 'unavailable', components: Object.fromEntries(results) },
        ready ? 200 : 503,
      );
    },
  );

  route(
    app,
    {
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      security: [],
      summary: 'Prometheus metrics',
      tags: ['Operations'],
      responses: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
      },
    },
    async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );

  app.get('/docs', (c) => c.html(DOCS_PAGE));
  app.get('/docs/:file', async (c) => {
    const file = c.req.param('file');
    const type = SWAGGER_FILES[file];
    if (type === undefined) return c.notFound();
    return c.body(await readFile(join(swaggerDir, file)), 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
    });
  });
};

import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';

export type RouteConfig = Parameters<typeof createRoute>[0];

/** problem+json as documented in every error response. */
export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: 'https://sluice.dev/problems/validation-failed' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

export const problemResponses = (statuses: Record<number, string>) =>
  Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      { description, content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );

/** How a route names itself in the OpenAPI document. */
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
}

/** A public route's naming in the OpenAPI document (no security: the service does no authentication). */
export const publicOperation = (operation: Operation, defaultTag: string) => ({
  operationId: operation.operationId,
  summary: operation.summary,
  ...(operation.description ? { description: operation.description } : {}),
  tags: operation.tags ?? [defaultTag],
  security: [],
});

/**
 * Registers a route's OpenAPI description and its handler. Validation is ours (readJsonBody, parseParams),
 * so that every failure is problem+json with the right status (415, 413, 400 with `errors`).
 */
export const route = (
  app: OpenAPIHono,
  config: RouteConfig,
  handler: (c: Context) => Promise<Response> | Response,
): void => {
  app.openAPIRegistry.registerPath(createRoute(config));
  const honoPath = config.path.replace(/\{([^}]+)\}/g, ':$1');
  app.on(config.method.toUpperCase(), honoPath, handler);
};

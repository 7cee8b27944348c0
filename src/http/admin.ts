import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { Forbidden, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized } from '../cqrs/index.js';
import type { EventStore } from '../eventstore/index.js';
import {
  listParked,
  type Projection,
  type ProjectionStatusReader,
  type ReadModelKeys,
  ReplayNotServed,
  requestRebuild,
  requestReplay,
} from '../readmodel/index.js';
import type { Redis } from '../redis/index.js';
import { registerAdminEventRoutes } from './admin-events.js';
import { AuthFailures } from './auth-failures.js';
import { problemResponses, route } from './openapi-route.js';
import { toProblem } from './problem.js';
import { parseParams } from './request.js';

export interface AdminRouteDeps {
  /** Unset: every admin call answers 403 "admin API disabled". */
  adminToken: string | undefined;
  /** Called on each failed admin login (a metric). */
  onAuthFailure?: () => void;
  statuses: ProjectionStatusReader;
  redis: Redis;
  keys: ReadModelKeys;
  /** The console's event routes (recent events, a stream, the live feed); without it they are not mounted. */
  store?: EventStore;
  /** How often /admin/feed sends (tests make it fast). */
  feedEveryMs?: number;
}

const SECURITY_SCHEME = 'adminBearer';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Digests have one length whatever the inputs, so the comparison takes the same time for any token. */
const sameToken = (given: string, expected: string): boolean =>
  timingSafeEqual(sha256(given), sha256(expected));

const unauthorized = (c: Context, detail: string, error?: string): Response => {
  const response = toProblem(new Unauthorized(detail), c.req.path);
  response.headers.set(
    'WWW-Authenticate',
    `Bearer realm="sluice-admin"${error === undefined ? '' : `, error="${error}"`}`,
  );
  return response;
};

/** The client's address as the socket has it (a proxy in front makes every client one address: say so). */
const clientAddress = (c: Context): string =>
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? 'unknown';

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` on every /admin route. A wrong or missing token is a failure of
 * the client's address; after 10 within a minute the address gets 429 with Retry-After until the minute
 * is over (guessing the token takes forever), and each failure is counted (`onFailure`).
 */
export const adminAuth = (
  adminToken: string | undefined,
  { failures = new AuthFailures(), onFailure }: { failures?: AuthFailures; onFailure?: () => void } = {},
): MiddlewareHandler => {
  return async (c, next) => {
    if (adminToken === undefined) return toProblem(new Forbidden('admin API disabled'), c.req.path);
    const address = clientAddress(c);
    const wait = failures.blockedFor(address);
    if (wait > 0) {
      return toProblem(
        new TooManyRequests(`too many failed admin logins from this address; try again in ${wait} s`, wait),
        c.req.path,
      );
    }
    const header = c.req.header('authorization');
    const token = header === undefined ? undefined : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1];
    if (token !== undefined && sameToken(token, adminToken)) return next();
    failures.fail(address);
    onFailure?.();
    if (header === undefined) return unauthorized(c, 'send Authorization: Bearer <ADMIN_TOKEN>');
    // Another scheme (Basic…) is no bearer token at all: no error code (RFC 6750 §3.1), and a detail that says so.
    if (token === undefined) return unauthorized(c, 'Authorization must be Bearer <ADMIN_TOKEN>');
    return unauthorized(c, 'the bearer token is not the admin token', 'invalid_token');
  };
};

const NameParam = z.object({
  name: z.string().min(1).max(200).meta({ description: 'The projection name.', example: 'order-view' }),
});

const StatusRowSchema = z
  .object({
    name: z.string(),
    version: z.number().int().meta({ description: 'The code version of the projection.' }),
    generation: z.number().int().meta({ description: 'The generation queries read.' }),
    status: z.enum(['running', 'catching-up', 'rebuilding', 'stopped', 'faulted']),
    checkpoint: z.string().meta({ description: 'Position the active generation has processed.' }),
    headPosition: z.string(),
    lagEvents: z
      .number()
      .int()
      .meta({
        description:
          'Head position minus checkpoint: a count of events on the embedded store (dense positions); on EventStoreDB, ' +
          'where positions are log offsets, a distance in bytes — zero means caught up on both.',
      }),
    lagMs: z
      .number()
      .int()
      .meta({ description: 'Age of the newest applied event while behind, in ms; 0 when caught up.' }),
    acceptableLagMs: z.number().int().meta({
      description:
        'The lag the projection accepts (its definition, or ACCEPTABLE_LAG_MS); /ready names it when over.',
    }),
    overAcceptableLag: z.boolean().meta({ description: 'lagMs is over acceptableLagMs.' }),
    parked: z.number().int().meta({ description: 'Parked events of the active generation.' }),
    rebuildGeneration: z.number().int().optional(),
    rebuildCheckpoint: z.string().optional(),
    lastError: z.string().optional(),
  })
  .meta({ id: 'ProjectionStatus' });

const ParkedEventSchema = z
  .object({
    id: z.string().meta({ description: 'Entry id in the parked-events Redis stream.' }),
    position: z.string(),
    error: z.string().meta({
      description:
        'What the handler threw on its last attempt, or which parked event of its stream it is held behind.',
    }),
    stream: z.string().optional().meta({ description: 'The event’s stream, when the entry is an event.' }),
    event: z
      .unknown()
      .optional()
      .meta({ description: 'The event as stored, when its handler (or upcaster) kept failing.' }),
    write: z
      .unknown()
      .optional()
      .meta({ description: 'The write `{ command, key, args }`, when Redis refused one write of a batch.' }),
  })
  .meta({ id: 'ParkedEvent' });

const ReplaySchema = z
  .object({
    replayed: z.number().int().meta({ description: 'Applied and removed from the parked events.' }),
    failed: z.number().int().meta({ description: 'Failed again; still parked.' }),
    remaining: z.number().int().meta({ description: 'Parked events left.' }),
  })
  .meta({ id: 'ReplayOutcome' });

const adminErrors = problemResponses({
  401: 'No bearer token, or not the admin token (with WWW-Authenticate: Bearer)',
  403: 'ADMIN_TOKEN is not set: the admin API is disabled',
  429: '10 failed attempts from this address within a minute: refused until the minute is over, with Retry-After',
  503: 'Redis (the read model), or for the list the event store, is unreachable; for a replay, no process runs the projection; with Retry-After',
});
const unknownProjection = problemResponses({ 404: 'No projection of that name' });

/** An admin operation: tagged, behind the bearer token, with the admin problem responses. */
export type AdminOperation = typeof admin;

const admin = (config: {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  withName?: boolean;
  request?: unknown;
  responses: Record<number, unknown>;
}) => ({
  method: config.method,
  path: config.path,
  operationId: config.operationId,
  summary: config.summary,
  ...(config.description ? { description: config.description } : {}),
  tags: ['Admin'],
  security: [{ [SECURITY_SCHEME]: [] }],
  ...(config.withName ? { request: { params: NameParam } } : {}),
  ...(config.request ? { request: config.request } : {}),
  responses: { ...config.responses, ...adminErrors, ...(config.withName ? unknownProjection : {}) },
});

export const registerAdminRoutes = (app: OpenAPIHono, deps: AdminRouteDeps) => {
  const { statuses, redis, keys } = deps;
  app.openAPIRegistry.registerComponent('securitySchemes', SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'The ADMIN_TOKEN of the deployment.',
  });
  app.use('/admin/*', adminAuth(deps.adminToken, { onFailure: deps.onAuthFailure }));
  if (deps.store)
    registerAdminEventRoutes(app, admin, {
      store: deps.store,
      statuses,
      ...(deps.feedEveryMs ? { feedEveryMs: deps.feedEveryMs } : {}),
    });

  /** The projection named in the path; Redis must answer before anything is read or asked. */
  const projectionOf = (c: Context): Projection => {
    const { name } = parseParams(NameParam, { name: c.req.param('name') }, 'path');
    const projection = statuses.projections.find((p) => p.name === name);
    if (projection === undefined) throw new NotFound(`no projection named "${name}"`);
    readModelUp();
    return projection;
  };
  const readModelUp = () => {
    if (!redis.isReady) throw new ServiceUnavailable('the read model (Redis) is unavailable', 1);
  };

  route(
    app,
    admin({
      method: 'get',
      path: '/admin/projections',
      operationId: 'listProjections',
      summary: 'Every projection: generation, status, checkpoint, lag and parked events',
      responses: {
        200: {
          description: 'One row per projection',
          content: { 'application/json': { schema: z.array(StatusRowSchema) } },
        },
      },
    }),
    async (c) => {
      readModelUp();
      return c.json(await statuses.list());
    },
  );

  route(
    app,
    admin({
      method: 'post',
      path: '/admin/projections/{name}/rebuild',
      operationId: 'rebuildProjection',
      summary: 'Rebuild a projection blue/green into a new generation',
      description:
        'The projection’s lease holder builds the new generation from the start beside the active one ' +
        '(picked up within a second); queries read the old generation until the new one has caught up, ' +
        'then switch at once. A rebuild already under way answers its generation.',
      withName: true,
      responses: {
        202: {
          description: 'Rebuild asked for (or already under way)',
          content: { 'application/json': { schema: z.object({ generation: z.number().int() }) } },
        },
      },
    }),
    async (c) => {
      const projection = projectionOf(c);
      return c.json({ generation: await requestRebuild(redis, keys, projection.name) }, 202);
    },
  );

  route(
    app,
    admin({
      method: 'get',
      path: '/admin/projections/{name}/parked',
      operationId: 'listParkedEvents',
      summary:
        'The events the projection’s handlers kept failing on (and writes Redis refused), with the error',
      withName: true,
      responses: {
        200: {
          description: 'Parked events of the active generation, oldest first (at most 1000)',
          content: { 'application/json': { schema: z.array(ParkedEventSchema) } },
        },
      },
    }),
    async (c) => {
      const projection = projectionOf(c);
      return c.json(await listParked(redis, keys, projection.name));
    },
  );

  route(
    app,
    admin({
      method: 'post',
      path: '/admin/projections/{name}/parked/replay',
      operationId: 'replayParkedEvents',
      summary: 'Re-apply the parked events through the projection’s handlers, in order',
      description:
        'The process holding the projection’s lease replays the parked entries oldest first, between two of ' +
        'its batches and through the same atomic apply: an event goes through the upcaster and the handlers ' +
        'again, a refused write is tried again as it was. Once an event of a stream was parked, the later ' +
        'events of that stream were held behind it: they replay after it, in order, and stay parked behind it ' +
        'if it fails again, so a view never skips an event or goes back. One replay at a time; 503 when no ' +
        'process runs the projection (nothing was replayed).',
      withName: true,
      responses: {
        200: { description: 'Counts', content: { 'application/json': { schema: ReplaySchema } } },
      },
    }),
    async (c) => {
      const projection = projectionOf(c);
      const outcome = await requestReplay(redis, keys, projection.name).catch((error: unknown) => {
        if (error instanceof ReplayNotServed) throw new ServiceUnavailable(error.message, 5);
        throw error;
      });
      return c.json(outcome);
    },
  );
};

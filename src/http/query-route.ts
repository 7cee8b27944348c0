import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { NotFound, type Query, type QueryBus, ServiceUnavailable } from '../cqrs/index.js';
import { withDeadline } from '../deadline/index.js';
import type { ReadContext, ReadModelAccess, Requirement } from '../readmodel/index.js';
import { RedisDeadlineExceeded } from '../redis/index.js';
import { consistencyParams } from './consistency-params.js';
import { answerLive, type LiveDeps, wantsEventStream } from './live-answer.js';
import { type Operation, problemResponses, publicOperation, route } from './openapi-route.js';
import { ifNoneMatchHits, parseParams } from './request.js';

const consistencyHeader = {
  'X-Consistency': {
    description:
      'With minVersion/minPosition: `fresh` when reached, `stale` after the timeout (the answer is what is there).',
    schema: { type: 'string' as const, enum: ['fresh', 'stale'] },
  },
};

const etagHeader = {
  ETag: {
    description: "The answer's version, quoted: send it back in If-None-Match for a 304 while it is current.",
    schema: { type: 'string' as const, example: '"3"' },
  },
};

const liveStreamSchema = z.string().meta({
  description:
    'Server-sent events: `event: view`, `data: <the answer as JSON>`, `id: <version>`; first the current ' +
    'answer, then one message per newer version as soon as it is projected. A reconnect with ' +
    '`Last-Event-ID: <version>` gets the current answer only if it is newer. A comment line (`: keep-alive`) ' +
    'at least every LIVE_HEARTBEAT_MS (15 s). 404 problem+json when there is nothing to watch.',
  example: 'event: view\ndata: {"orderId":"…","version":2,…}\nid: 2\n\n',
});

/** Longest a read may take once its consistency wait is over: a Redis that stopped answering is a 503, not a hang. */
const READ_DEADLINE_MS = 2000;

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface QueryRouteSpec<P extends z.ZodObject | undefined, Q extends z.ZodObject | undefined, R>
  extends Operation {
  path: string;
  params?: P;
  /** Query-string parameters (minPosition, and minVersion when `version` is set, are added here). */
  query?: Q;
  /** The query message the route asks the QueryBus. */
  toQuery: (input: { params: Output<P>; query: Output<Q> }) => Query;
  response: z.ZodType<R>;
  /** Projections the query reads: `?minPosition=` waits for each of them. */
  reads: string[];
  /** `?minVersion=` waits until this projection has applied the stream up to that revision. */
  version?: {
    projection: string;
    stream: (params: Output<P>) => string;
    /**
     * The answer's own revision of that stream, for an answer every event of the stream stamps (order-view's
     * `version`): an answer at or past `minVersion` then speaks for itself, and a fresh read costs what a plain
     * one does (no check is sent while the generation is known to be trusted). Also the `id:` of live messages.
     */
    of?: (result: R) => number;
  };
  /** A null answer is a 404 with this detail. */
  notFound?: (params: Output<P>) => string;
  /** The answer's ETag (its version). */
  etag?: (result: R) => string | number;
  /**
   * `Accept: text/event-stream` gets the answer, then each newer version as it is projected (needs
   * `version` with `of`: its notifications wake the stream, `of` is each message's `id:`).
   */
  live?: boolean;
  errors?: Record<number, string>;
}

export interface QueryRouteDeps {
  queries: QueryBus<Query, unknown, ReadContext>;
  readModel: ReadModelAccess;
  consistencyTimeoutMs: number;
  /** False while Redis is not connected: answer 503 at once instead of waiting. */
  readModelReady: () => boolean;
  /** Live queries (server-sent events); without it a route answers JSON only. */
  live?: LiveDeps;
}

/** What each projection a query reads must reflect before the answer is `fresh`. */
const requirementsOf = (
  reads: string[],
  minPosition: string | undefined,
  version: { projection: string; stream: string; revision: number } | undefined,
): Map<string, Requirement> => {
  const requirements = new Map<string, Requirement>();
  if (minPosition !== undefined)
    for (const projection of reads) requirements.set(projection, { position: BigInt(minPosition) });
  if (version !== undefined) {
    const stream = { name: version.stream, revision: BigInt(version.revision) };
    requirements.set(version.projection, { ...requirements.get(version.projection), stream });
  }
  return requirements;
};

/**
 * A query route, with what every query has handled once: parameters parsed (400 naming each), read-your-
 * writes (`?minPosition=`, `?minVersion=`: the wait and the read go through one ReadRequest, so they look at
 * the same connection of each projection, and X-Consistency says fresh or stale), the QueryBus, a 404 for a
 * null answer, the ETag, Redis down as a 503, and the OpenAPI description.
 */
export const queryRoute = <P extends z.ZodObject | undefined, Q extends z.ZodObject | undefined, R>(
  app: OpenAPIHono,
  deps: QueryRouteDeps,
  spec: QueryRouteSpec<P, Q, R>,
): void => {
  const consistency = consistencyParams(spec.version !== undefined);
  const answerVersion = spec.version?.of;
  if (spec.live && answerVersion === undefined)
    throw new Error(
      `${spec.path}: a live query needs version.of (the answer's version is each message's id)`,
    );
  route(
    app,
    {
      method: 'get',
      path: spec.path,
      ...publicOperation(spec, 'Queries'),
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        query: z.object({ ...(spec.query?.shape ?? {}), ...consistency.fields }),
      },
      responses: {
        200: {
          description: spec.live
            ? 'The answer; with `Accept: text/event-stream`, a live stream of it (see text/event-stream)'
            : 'The answer',
          headers: spec.etag ? { ...consistencyHeader, ...etagHeader } : consistencyHeader,
          content: {
            'application/json': { schema: spec.response },
            ...(spec.live ? { 'text/event-stream': { schema: liveStreamSchema } } : {}),
          },
        },
        ...(spec.etag
          ? {
              304: {
                description: 'Not modified: If-None-Match names the current ETag (compared weakly) or is `*`',
                headers: { ...consistencyHeader, ...etagHeader },
              },
            }
          : {}),
        ...problemResponses({
          400: 'A bad parameter, id or cursor (`errors` lists each)',
          503: 'Redis (the read model) is unreachable; with Retry-After',
          ...(spec.notFound ? { 404: 'Not found (or not projected yet: X-Consistency: stale)' } : {}),
          ...spec.errors,
        } as Record<number, string>),
      },
    },
    async (c: Context) => {
      const params = (spec.params ? parseParams(spec.params, c.req.param(), 'path') : undefined) as Output<P>;
      const raw = c.req.query();
      const query = (spec.query ? parseParams(spec.query, raw, 'query') : undefined) as Output<Q>;
      const { minPosition, minVersion } = consistency.parse(raw);
      const requirements = requirementsOf(
        spec.reads,
        minPosition,
        spec.version && minVersion !== undefined
          ? { projection: spec.version.projection, stream: spec.version.stream(params), revision: minVersion }
          : undefined,
      );
      if (!deps.readModelReady()) throw new ServiceUnavailable('the read model (Redis) is unavailable', 1);
      const message = spec.toQuery({ params, query });
      if (spec.live && spec.version && answerVersion && deps.live && wantsEventStream(c)) {
        return answerLive(c, deps.live, {
          queries: deps.queries,
          readModel: deps.readModel,
          consistencyTimeoutMs: deps.consistencyTimeoutMs,
          projection: spec.version.projection,
          stream: spec.version.stream(params),
          query: message,
          version: answerVersion,
          notFound: spec.notFound?.(params) ?? 'not found',
          read: (work) => readDeadline(work, READ_DEADLINE_MS),
        });
      }
      const read = deps.readModel.request();
      let answer: R | null | undefined;
      if (requirements.size > 0) {
        if (
          minVersion !== undefined &&
          minPosition === undefined &&
          spec.version !== undefined &&
          answerVersion !== undefined &&
          read.answerSpeaksFor(spec.version.projection)
        ) {
          // The answer carries its version and the generation is trusted: the read is the check.
          const answered = (await readDeadline(
            deps.queries.ask(message, read),
            READ_DEADLINE_MS,
          )) as R | null;
          if (answered !== null && answerVersion(answered) >= minVersion) answer = answered;
        } else {
          // Already fresh (the common case): the checks and the query's reads in one round trip, under one
          // deadline; the reads are the answer only if the checks pass, else the request waits and reads again.
          const checked = read.checkNow(requirements);
          if (checked !== undefined) {
            const early = deps.queries.ask(message, read);
            const [met, answered] = await readDeadline(Promise.all([checked, early]), READ_DEADLINE_MS);
            if (met) answer = answered as R | null;
          }
        }
        if (answer !== undefined) c.header('X-Consistency', 'fresh');
        else {
          const waited = read.waitFor(requirements, deps.consistencyTimeoutMs);
          c.header('X-Consistency', await readDeadline(waited, deps.consistencyTimeoutMs + READ_DEADLINE_MS));
        }
      }
      if (answer === undefined)
        answer = (await readDeadline(deps.queries.ask(message, read), READ_DEADLINE_MS)) as R | null;
      if (answer === null || answer === undefined) {
        throw new NotFound(spec.notFound?.(params) ?? 'not found');
      }
      if (spec.etag) {
        const tag = String(spec.etag(answer));
        c.header('ETag', `"${tag}"`);
        if (ifNoneMatchHits(c, tag)) return c.body(null, 304);
      }
      return c.json(answer as object);
    },
  );
};

const readDeadline = <T>(work: Promise<T>, ms: number): Promise<T> =>
  withDeadline(work, ms, () => new RedisDeadlineExceeded(`no answer from Redis within ${ms} ms`));

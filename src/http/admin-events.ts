import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { decimalInteger } from '../cqrs/index.js';
import type { EventStore, Position, RecordedEvent } from '../eventstore/index.js';
import type { ProjectionStatusReader } from '../readmodel/index.js';
import type { AdminOperation } from './admin.js';
import { eventStreamHead } from './live-answer.js';
import { route } from './openapi-route.js';
import { parseParams } from './request.js';

/** What the console's event routes read. */
export interface AdminEventDeps {
  store: EventStore;
  statuses: ProjectionStatusReader;
  /** How often the live feed looks for new events and projection figures. */
  feedEveryMs?: number;
}

/** Events looked at per call of a filtered search (a correlation id): `next` goes on from there. */
const SEARCH_SCAN_LIMIT = 10_000;
const FEED_EVERY_MS = 1000;
const FEED_MAX_EVENTS = 100;

const AdminEventSchema = z
  .object({
    position: z.string().meta({ description: 'Global position (a decimal string).' }),
    stream: z.string(),
    revision: z.string().meta({ description: 'Revision in its stream (a decimal string).' }),
    id: z.string(),
    type: z.string(),
    recordedAt: z.string().meta({ description: 'ISO 8601' }),
    data: z.unknown(),
    metadata: z
      .record(z.string(), z.unknown())
      .meta({ description: 'commandId, correlationId, causationId, schemaVersion, …' }),
  })
  .meta({ id: 'StoredEvent' });

const EventPageSchema = z
  .object({
    events: z.array(AdminEventSchema).meta({ description: 'Newest first.' }),
    next: z
      .string()
      .optional()
      .meta({ description: 'Pass as `before` for older events; absent at the start.' }),
  })
  .meta({ id: 'StoredEventPage' });

/** Positions and revisions are unsigned 64-bit integers in both stores. */
const U64_MAX = 2n ** 64n - 1n;

/** A position or revision as a decimal string, at most U64_MAX. */
const decimalU64 = (what: string) =>
  z
    .string()
    .regex(/^\d{1,20}$/, `must be a ${what} as a decimal string`)
    // Runs after a failed regex too (zod reports every issue): only digits are compared.
    .refine((value) => !/^\d+$/.test(value) || BigInt(value) <= U64_MAX, `must be at most ${U64_MAX}`)
    .optional();

const positionField = decimalU64('position');
const limitField = decimalInteger({ min: 1, max: 200 }).optional();

const EventsQuery = z.object({
  before: positionField.meta({ description: 'Only events before this position (from `next`).' }),
  limit: limitField.meta({ description: 'Events per page, 1–200 (default 50).' }),
  stream: z.string().min(1).max(500).optional().meta({ description: 'Only streams starting with this.' }),
  type: z.string().min(1).max(200).optional().meta({ description: 'Only events of this type.' }),
  correlationId: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Only events of this correlation.' }),
});

const StreamParam = z.object({
  stream: z.string().min(1).max(500).meta({ description: 'The stream name.', example: 'order-0b0d…' }),
});
const StreamQuery = z.object({
  before: decimalU64('revision').meta({ description: 'Only events before this revision (from `next`).' }),
  limit: limitField.meta({ description: 'Events per page, 1–200 (default 50).' }),
});

export const toAdminEvent = (event: RecordedEvent) => ({
  position: String(event.position),
  stream: event.stream,
  revision: String(event.revision),
  id: event.id,
  type: event.type,
  recordedAt: event.recordedAt.toISOString(),
  data: event.data,
  metadata: event.metadata,
});

/**
 * The console's view of the event store: recent events (newest first, by stream prefix, type or correlation
 * id: a bounded scan of `$all` backwards, 10,000 events per call, `next` to go on), one stream's events, and
 * a live feed of projection figures and new events.
 */
export const registerAdminEventRoutes = (
  app: OpenAPIHono,
  adminRoute: AdminOperation,
  deps: AdminEventDeps,
): void => {
  const { store, statuses } = deps;

  route(
    app,
    adminRoute({
      method: 'get',
      path: '/admin/events',
      operationId: 'listEvents',
      summary: 'Recent events across all streams, newest first; by stream prefix, type or correlation id',
      description:
        'A scan of $all backwards: each call looks at 10,000 events at most, so a rare filter (a correlation ' +
        'id) may answer fewer events than `limit` with a `next` to look further back.',
      request: { query: EventsQuery },
      responses: {
        200: { description: 'A page', content: { 'application/json': { schema: EventPageSchema } } },
      },
    }),
    async (c: Context) => {
      const q = parseParams(EventsQuery, c.req.query(), 'query');
      const page = await store.readAllBackwards({
        limit: q.limit ?? 50,
        scanLimit: SEARCH_SCAN_LIMIT,
        ...(q.before === undefined ? {} : { before: BigInt(q.before) }),
        ...(q.stream === undefined ? {} : { streamPrefixes: [q.stream] }),
        ...(q.type === undefined ? {} : { eventTypes: [q.type] }),
        ...(q.correlationId === undefined ? {} : { correlationId: q.correlationId }),
      });
      return c.json({
        events: page.events.map(toAdminEvent),
        ...(page.next === undefined ? {} : { next: String(page.next) }),
      });
    },
  );

  route(
    app,
    adminRoute({
      method: 'get',
      path: '/admin/streams/{stream}/events',
      operationId: 'listStreamEvents',
      summary: 'One stream’s events, newest first, paging back',
      request: { params: StreamParam, query: StreamQuery },
      responses: {
        200: {
          description: 'A page (empty for a stream that does not exist)',
          content: { 'application/json': { schema: EventPageSchema } },
        },
      },
    }),
    async (c: Context) => {
      const { stream } = parseParams(StreamParam, { stream: c.req.param('stream') }, 'path');
      const q = parseParams(StreamQuery, c.req.query(), 'query');
      const limit = q.limit ?? 50;
      const before = q.before === undefined ? undefined : BigInt(q.before);
      /** The newest `limit` events from `fromRevision` on that are older than `before`. */
      const newestFrom = async (fromRevision: bigint): Promise<RecordedEvent[]> => {
        const events: RecordedEvent[] = [];
        for await (const event of store.readStream(stream, { fromRevision })) {
          if (before !== undefined && event.revision >= before) break;
          events.push(event);
          if (events.length > limit) events.shift();
        }
        return events;
      };
      const from = before === undefined ? 0n : before - BigInt(limit);
      let events = await newestFrom(from > 0n ? from : 0n);
      // A `before` past the stream's end: its newest events, not an empty page.
      if (events.length === 0 && from > 0n) events = await newestFrom(0n);
      events.reverse();
      const oldest = events.at(-1)?.revision;
      return c.json({
        events: events.map(toAdminEvent),
        ...(oldest !== undefined && oldest > 0n ? { next: String(oldest) } : {}),
      });
    },
  );

  route(
    app,
    adminRoute({
      method: 'get',
      path: '/admin/feed',
      operationId: 'adminFeed',
      summary: 'A live feed for the console: projection figures and new events (server-sent events)',
      description:
        'Send the bearer token as for every admin route: read it with fetch and a stream reader (EventSource ' +
        'cannot send an Authorization header, and a token in a URL would be logged). Every second: ' +
        '`event: projections` with the rows of /admin/projections, and `event: events` with the events ' +
        'appended since the last message (newest first, at most 100).',
      responses: {
        200: {
          description: 'The feed',
          content: { 'text/event-stream': { schema: z.string() } },
        },
      },
    }),
    async (c: Context) => {
      if (c.req.method === 'HEAD') return eventStreamHead(c);
      const everyMs = deps.feedEveryMs ?? FEED_EVERY_MS;
      return streamSSE(c, async (stream) => {
        let ended = false;
        stream.onAbort(() => {
          ended = true;
        });
        let seen: Position | undefined;
        while (!ended) {
          try {
            const [rows, page] = await Promise.all([
              statuses.list(),
              store.readAllBackwards({ limit: FEED_MAX_EVENTS, scanLimit: SEARCH_SCAN_LIMIT }),
            ]);
            await stream.writeSSE({ event: 'projections', data: JSON.stringify(rows) });
            const fresh = page.events.filter((event) => seen === undefined || event.position > seen);
            if (page.events[0] !== undefined) seen = page.events[0].position;
            if (fresh.length > 0)
              await stream.writeSSE({ event: 'events', data: JSON.stringify(fresh.map(toAdminEvent)) });
          } catch (error) {
            await stream.writeSSE({
              event: 'problem',
              data: JSON.stringify({ detail: (error as Error).message }),
            });
          }
          await stream.sleep(everyMs);
        }
      });
    },
  );
};

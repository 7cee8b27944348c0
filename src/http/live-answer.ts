import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Logger } from 'pino';
import { NotFound, type Query, type QueryBus, ValidationFailed } from '../cqrs/index.js';
import type { LiveViews, ReadContext, ReadModelAccess } from '../readmodel/index.js';

/** What a live query needs besides its route's. */
export interface LiveDeps {
  views: LiveViews;
  /** A comment line at least this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  log?: Logger;
}

export interface LiveQuery<R> {
  queries: QueryBus<Query, unknown, ReadContext>;
  readModel: ReadModelAccess;
  consistencyTimeoutMs: number;
  /** The projection and stream whose notifications wake the stream. */
  projection: string;
  stream: string;
  query: Query;
  version: (answer: R) => number;
  notFound: string;
  /** Reads once, bounded (a Redis that stopped answering fails the read, not the stream). */
  read: <T>(work: Promise<T>) => Promise<T>;
}

/** True when the client asks for `text/event-stream` (and does not refuse it with q=0). */
export const wantsEventStream = (c: Context): boolean => {
  const accept = c.req.header('accept');
  if (accept === undefined || !accept.includes('text/event-stream')) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    return type === 'text/event-stream' && !params.some((param) => /^q=0(?:\.0{0,3})?$/.test(param));
  });
};

/** `Last-Event-ID`: the version the client saw last (what this stream sends as `id:`). */
const lastEventIdOf = (c: Context): number | undefined => {
  const header = c.req.header('last-event-id');
  if (header === undefined || header === '') return undefined;
  const value = /^\d{1,15}$/.test(header) ? Number(header) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ValidationFailed('Last-Event-ID must be a version this stream sent (a decimal integer)', [
      { path: 'header.last-event-id', message: 'must be a decimal integer' },
    ]);
  }
  return value;
};

/**
 * A live query: the current answer first (unless the client has it: `Last-Event-ID`), then each newer
 * version as soon as it is projected, woken by the projectors' notifications (no polling) and read with
 * read-your-writes, so a replica that lags is waited for. Heartbeat comments; ends when the client goes or
 * the process shuts down.
 */
export const answerLive = async <R>(c: Context, live: LiveDeps, q: LiveQuery<R>): Promise<Response> => {
  if (c.req.method === 'HEAD') return headOfLive(c, q);
  const lastSeen = lastEventIdOf(c);
  let heard: bigint | undefined | null = null; // null: nothing new; undefined: something, read to see
  let wake: (() => void) | undefined;
  let ended = false;
  const end = () => {
    ended = true;
    wake?.();
  };
  const unwatch = live.views.watch(
    q.projection,
    q.stream,
    (revision) => {
      if (heard !== undefined)
        heard = revision === undefined || heard === null || revision > heard ? revision : heard;
      wake?.();
    },
    end,
  );
  const queryKey = JSON.stringify(q.query);
  const ask = (read: ReadContext) => q.read(q.queries.ask(q.query, read)) as Promise<R | null>;
  let first: R | null;
  try {
    // Watching before the first read: a version projected meanwhile is not missed.
    first = await ask(q.readModel.request());
  } catch (error) {
    unwatch();
    throw error;
  }
  if (first === null || first === undefined) {
    unwatch();
    throw new NotFound(q.notFound);
  }
  return streamSSE(c, async (stream) => {
    stream.onAbort(end);
    const heartbeat = setInterval(() => void stream.write(': keep-alive\n\n'), live.heartbeatMs);
    let sent = lastSeen ?? -1;
    const send = async (answer: R) => {
      const version = q.version(answer);
      if (version <= sent) return;
      sent = version;
      await stream.writeSSE({ event: 'view', id: String(version), data: JSON.stringify(answer) });
    };
    try {
      await send(first);
      while (!ended) {
        if (heard === null) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const target = heard;
        heard = null;
        if (target !== undefined && target <= BigInt(sent)) continue;
        try {
          const answer = await live.views.shared(`${queryKey}\u0000${target ?? ''}`, async () => {
            const read = q.readModel.request();
            if (target !== undefined) {
              const requirement = { stream: { name: q.stream, revision: target } };
              await read.waitFor(new Map([[q.projection, requirement]]), q.consistencyTimeoutMs);
            }
            return ask(read);
          });
          if (answer !== null && answer !== undefined) await send(answer);
        } catch (error) {
          // Redis unreachable: the next notification, or the re-subscription after it is back, reads again.
          live.log?.warn({ err: (error as Error).message, stream: q.stream }, 'live query: read failed');
        }
      }
    } finally {
      clearInterval(heartbeat);
      unwatch();
    }
  });
};

/**
 * HEAD: a GET's status and headers, no stream. A stream opened for it would never be read and never end
 * (its body is dropped unread, so no abort ever comes): one watcher and one timer leaked per request.
 */
const headOfLive = async <R>(c: Context, q: LiveQuery<R>): Promise<Response> => {
  const answer = (await q.read(q.queries.ask(q.query, q.readModel.request()))) as R | null;
  if (answer === null || answer === undefined) throw new NotFound(q.notFound);
  return eventStreamHead(c);
};

/**
 * What a HEAD of a server-sent event route answers: the stream's headers, no stream. Hono serves HEAD with the
 * GET handler and drops the body unread, so a stream opened for it would never see an abort and never end.
 */
export const eventStreamHead = (c: Context): Response =>
  c.body(null, 200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });

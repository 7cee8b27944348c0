import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { ValidationFailed } from '../cqrs/index.js';
import type { Metrics } from '../ops/index.js';
import { toProblem } from './problem.js';
import {
  announcesBody,
  declaredLength,
  guardBody,
  incomingOf,
  isPrintableAscii,
  limitedBody,
  MAX_BODY_BYTES,
  readIncomingBody,
  tooLarge,
} from './request.js';

declare module 'hono' {
  interface ContextVariableMap {
    correlationId: string;
  }
}

export const MAX_CORRELATION_ID_LENGTH = 128;
const CORRELATION_HEADER = 'x-correlation-id';

const suppliedCorrelationId = (c: Context): string | undefined => {
  const supplied = c.req.header(CORRELATION_HEADER);
  return supplied !== undefined && isPrintableAscii(supplied, MAX_CORRELATION_ID_LENGTH)
    ? supplied
    : undefined;
};

const routeOf = (c: Context): string => (c.req.routePath === '/*' ? 'unmatched' : c.req.routePath);

/**
 * Outermost: picks the request's correlation id (the client's, or a new one), and once every inner
 * layer has answered (errors included) echoes it and records one log line and one latency sample.
 */
export const observeRequests =
  (log: Logger, metrics: Metrics): MiddlewareHandler =>
  async (c, next) => {
    const started = performance.now();
    const correlationId = suppliedCorrelationId(c) ?? randomUUID();
    c.set('correlationId', correlationId);
    await next();
    c.res.headers.set('X-Correlation-Id', correlationId);
    // docs/api.md: every JSON body is `application/json; charset=utf-8`.
    if (c.res.headers.get('content-type') === 'application/json') {
      c.res.headers.set('content-type', 'application/json; charset=utf-8');
    }
    // Hono answers HEAD with `new Response(null, <the GET's response>)`, and @hono/node-server's Response takes
    // the headers that response was made with, not those set since: a fresh one carries them (RFC 9110 §9.3.2).
    if (c.req.method === 'HEAD') c.res = new Response(null, { status: c.res.status, headers: c.res.headers });
    const { method, path } = c.req;
    const { status } = c.res;
    const ms = performance.now() - started;
    metrics.httpDuration.observe({ method, route: routeOf(c), status: String(status) }, ms / 1000);
    log.info(
      { method, route: routeOf(c), path, status, ms: Math.round(ms * 10) / 10, correlationId },
      'request',
    );
  };

/**
 * A correlation id sent with a command must be usable as one: it lands in every event's metadata. A read
 * (or /health) with an unusable one is still answered, under an id generated for it.
 */
export const requireValidCorrelationId: MiddlewareHandler = async (c, next) => {
  const supplied = c.req.header(CORRELATION_HEADER);
  const isRead = c.req.method === 'GET' || c.req.method === 'HEAD';
  if (!isRead && supplied !== undefined && suppliedCorrelationId(c) === undefined) {
    const message = `must be 1–${MAX_CORRELATION_ID_LENGTH} printable ASCII characters`;
    throw new ValidationFailed(`X-Correlation-Id ${message}`, [
      { path: `header.${CORRELATION_HEADER}`, message },
    ]);
  }
  await next();
};

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every route gets the same body rules, whoever wrote it: no body on GET/HEAD/OPTIONS (400), and at
 * most 1 MiB on the others (413), checked from Content-Length up front and counted while streaming.
 */
export const guardBodies: MiddlewareHandler = async (c, next) => {
  const { raw } = c.req;
  if (BODYLESS_METHODS.has(raw.method)) {
    if (announcesBody(c)) {
      c.res = toProblem(bodyNotAllowed(raw.method), c.req.path);
      c.res.headers.set('Connection', 'close');
      return;
    }
    return next();
  }
  let exceeded = (declaredLength(c) ?? 0) > MAX_BODY_BYTES;
  let readToEnd = false;
  if (!exceeded) {
    const watch = { onExceeded: () => (exceeded = true), onEnd: () => (readToEnd = true) };
    const incoming = incomingOf(c);
    if (incoming !== undefined) {
      // On Node, read from its request directly: a web Request and stream per request cost more than the rest.
      guardBody(c, () => readIncomingBody(incoming, watch));
    } else if (raw.body !== null) {
      c.req.raw = new Request(raw, { body: limitedBody(raw.body, watch), duplex: 'half' } as RequestInit);
    }
    await next();
  }
  // Whatever a route made of the failed read (a 400 for "bad JSON", a 500), the answer is 413.
  if (exceeded && c.res.status !== 413) replaceAnswer(c, toProblem(tooLarge(), c.req.path));
  // The client may still be sending what was not read: it must not reuse a socket that is about to drop.
  if (c.res.status === 413 || (announcesBody(c) && !readToEnd)) c.res.headers.set('Connection', 'close');
};

/** Hono's setter would carry the replaced answer's headers (a stale Content-Length among them) over. */
const replaceAnswer = (c: Context, answer: Response): void => {
  c.res = undefined;
  c.res = answer;
};

const bodyNotAllowed = (method: string): ValidationFailed =>
  new ValidationFailed(`a ${method} request takes no body`, [
    { path: 'body', message: `must be absent on ${method}` },
  ]);

/** `%2e`/`%2E` runs that decode to `.` or `..`, and the literal ones a client sent without normalising. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;

/** The path as the client sent it: WHATWG URL parsing would already have resolved `%2e%2e` away. */
const rawPathOf = (c: Context): string => {
  const target = incomingOf(c)?.url ?? new URL(c.req.url).pathname;
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
};

const refuse = (c: Context, error: ValidationFailed): void => {
  c.res = toProblem(error, rawPathOf(c));
};

/**
 * Before routing, a request must say one thing: no dot segment (`..`, `%2e%2e`) and no encoded `/` or `\`
 * in its path (they would reach another route than a proxy's path rules saw), and no query parameter
 * given twice (which one would count?). Each is a 400.
 */
export const refuseAmbiguousRequests: MiddlewareHandler = async (c, next) => {
  const path = rawPathOf(c);
  if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) {
    return refuse(
      c,
      new ValidationFailed('the path must not contain dot segments (".", "..", or "%2e" forms)', [
        { path: 'path', message: 'must not contain dot segments' },
      ]),
    );
  }
  if (ENCODED_SEPARATOR.test(path)) {
    return refuse(
      c,
      new ValidationFailed('the path must not contain an encoded "/" or "\\" (%2F, %5C)', [
        { path: 'path', message: 'must not contain %2F or %5C' },
      ]),
    );
  }
  const url = c.req.url;
  // One parameter (no `&`) cannot be repeated: only a query with several is parsed (a URL per request costs).
  const query = url.indexOf('?');
  if (query !== -1 && url.includes('&', query)) {
    const names = [...new URL(url).searchParams.keys()];
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) {
      return refuse(
        c,
        new ValidationFailed(`the query parameter ${repeated} is given more than once`, [
          { path: repeated, message: 'must be given at most once' },
        ]),
      );
    }
  }
  await next();
};

import { createServer, type Server, type ServerOptions, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from 'pino';
import {
  HeadersTooLarge,
  MalformedRequest,
  type ProblemError,
  RequestTimeout,
  ValidationFailed,
} from '../cqrs/index.js';
import { PROBLEM_CONTENT_TYPE, problemBodyOf, toProblem } from './problem.js';
import { markTimedOut } from './request.js';

/** The HTTP server's limits (documented in the README): a client can hold a socket only so long. */
export const SERVER_TIMEOUTS = {
  /** The request line and headers must arrive within this. */
  headersMs: 10_000,
  /** The whole request (body included) must arrive within this. */
  requestMs: 30_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: 5_000,
  /** How often Node looks for connections past the first two (its default, 30 s, let a slow client stay ~3× longer). */
  checkEveryMs: 1_000,
};

export interface HttpServerOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  hostname: string;
  /** Limits other than SERVER_TIMEOUTS (a test that cannot wait 30 s). */
  serverOptions?: ServerOptions;
  log: Logger;
  onListening: (address: AddressInfo) => void;
}

/**
 * The Node HTTP server around the app (what @hono/node-server's `serve` does), plus the two kinds of request
 * the app never sees, answered as problem+json and logged like every other request: one Node's parser
 * refused (a malformed line or header, headers too large, too slow), and one with no URL to build (a
 * malformed Host).
 */
export const startHttpServer = (options: HttpServerOptions): Server => {
  const { log } = options;
  const listener = getRequestListener(options.fetch, {
    hostname: options.hostname,
    errorHandler: (error) => {
      const detail = `the request has no usable URL: ${(error as Error).message}`;
      log.info({ status: 400, err: (error as Error).message }, 'request refused before it reached a route');
      return toProblem(new ValidationFailed(detail, [{ path: 'header.host', message: detail }]));
    },
  });
  const server = createServer(
    options.serverOptions ?? {
      headersTimeout: SERVER_TIMEOUTS.headersMs,
      requestTimeout: SERVER_TIMEOUTS.requestMs,
      connectionsCheckingInterval: SERVER_TIMEOUTS.checkEveryMs,
      keepAliveTimeout: SERVER_TIMEOUTS.keepAliveMs,
    },
    listener,
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => refuse(error, socket, log));
  server.listen(options.port, options.hostname, () => options.onListening(server.address() as AddressInfo));
  return server;
};

/** What Node's parser refused, as the problem the client gets. */
const refusalOf = (code: string | undefined): ProblemError =>
  code === 'HPE_HEADER_OVERFLOW'
    ? new HeadersTooLarge('the request headers are too large')
    : code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new RequestTimeout('the request did not arrive in time')
      : new MalformedRequest(`the request is not valid HTTP (${code ?? 'unparseable'})`);

/** What Node's own clientError handler does (400, 431, 408), with a problem+json body and a log line. */
const refuse = (error: NodeJS.ErrnoException, socket: Socket, log: Logger): void => {
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const refusal = refusalOf(error.code);
  const { status } = refusal;
  // A request a route is reading: its body read fails with the 408 the client gets, not as a client abort.
  if (refusal instanceof RequestTimeout && response !== undefined) markTimedOut(response.req);
  log.info({ status, code: error.code, err: error.message }, 'request refused before it reached a route');
  const body = JSON.stringify(problemBodyOf(refusal));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
};

import { createServer, type Server, type ServerOptions, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from 'pino';
import { ValidationFailed } from '../cqrs/index.js';
import { toProblem } from './problem.js';
import { markTimedOut } from './request.js';

export interface HttpServerOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  hostname: string;
  serverOptions: ServerOptions;
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
  const server = createServer(options.serverOptions, listener);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => refuse(error, socket, log));
  server.listen(options.port, options.hostname, () => options.onListening(server.address() as AddressInfo));
  return server;
};

/** What Node's own clientError handler does (400, 431, 408), with a problem+json body and a log line. */
const refuse = (error: NodeJS.ErrnoException, socket: Socket, log: Logger): void => {
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  // A request a route is reading: its body read fails with the 408 the client gets, not as a client abort.
  if (status === 408 && response !== undefined) markTimedOut(response.req);
  log.info({ status, code: error.code, err: error.message }, 'request refused before it reached a route');
  const body = JSON.stringify({
    type: `https://sluice.dev/problems/${status === 400 ? 'malformed-request' : status === 431 ? 'headers-too-large' : 'request-timeout'}`,
    title: STATUS_CODES[status],
    status,
    detail:
      status === 408
        ? 'the request did not arrive in time'
        : status === 431
          ? 'the request headers are too large'
          : `the request is not valid HTTP (${error.code ?? 'unparseable'})`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
      `Content-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
};

import pino, { type Logger } from 'pino';
import sonicBoom from 'sonic-boom';
import { redactCredentials } from '../redact/index.js';

// sonic-boom is CommonJS: the class is its default export at run time, while its types declare a namespace.
const SonicBoom = sonicBoom as unknown as typeof import('sonic-boom').SonicBoom;

/** Paths of anything secret that could reach a log line; pino replaces them. */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'adminToken',
  'config.adminToken',
  '*.password',
];

/** Credentials inside a URL (redis://user:secret@host) never reach a log line. */
export const redactUrl = (url: string | undefined): string | undefined =>
  url === undefined ? undefined : redactCredentials(url);

/** Log lines kept in memory while stdout does not take them (a reader that paused); past it they are dropped. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface LogDestination extends pino.DestinationStream {
  /**
   * The last call before exit: writes every buffered line, then stops logging; waits at most `timeoutMs` (a
   * stuck reader must not hold up an exit).
   */
  flush(timeoutMs: number): Promise<void>;
}

/**
 * Stdout written asynchronously, so a reader that stops reading (a full pipe) never blocks the event loop:
 * lines wait in a bounded buffer, then are dropped. A reader that went away (EPIPE) ends logging, not the
 * process.
 */
export const stdoutDestination = (): LogDestination => {
  // SonicBoom itself rather than pino.destination(), which would also flush synchronously at exit: a write
  // to a full pipe that blocks forever, and a shutdown that never ends.
  const sonic = new SonicBoom({ fd: 1, sync: false, maxLength: MAX_BUFFERED_BYTES });
  let open = true;
  sonic.on('error', () => {
    open = false;
  });
  return {
    write: (line: string) => {
      if (open) sonic.write(line);
    },
    flush: (timeoutMs) =>
      new Promise<void>((resolve) => {
        if (!open) return resolve();
        open = false;
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        // Not sonic.flush(): with minLength 0 it answers at once, while a write is in flight and lines wait
        // behind it, and the exit that follows drops them. end() writes them all, then says 'close'.
        sonic.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        sonic.end();
      }),
  };
};

/** JSON lines to stdout (or `destination`), with secrets censored. */
export const createLogger = (
  level: string,
  destination: pino.DestinationStream = stdoutDestination(),
): Logger =>
  pino({ level, redact: { paths: REDACT, censor: '***' }, base: { service: 'sluice' } }, destination);

export type { Logger };
